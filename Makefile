# The two commands of the README, and a few more for development.
.PHONY: run test generate bench benchmark

run: ## serve the reference data on :8080 (embedded PostgreSQL unless DATABASE_URL is set)
	scripts/run

test: ## the whole test suite, as CI runs it
	scripts/test

generate: ## regenerate graph/ from schema/*.graphqls and gqlgen.yml
	go tool gqlgen generate

bench: ## benchmarks
	go test -run '^$$' -bench . -benchmem ./...

benchmark: ## the load table of docs/benchmarks.md: DATA=reference|1m, ARGS=extra bench flags
	scripts/benchmark --data $(or $(DATA),reference) $(ARGS)
