# The two commands of the README, and a few more for development.
.PHONY: run test generate bench

run: ## serve the reference data on :8080 (embedded PostgreSQL unless DATABASE_URL is set)
	scripts/run

test: ## the whole test suite, as CI runs it
	scripts/test

generate: ## regenerate graph/ from schema.graphqls and gqlgen.yml
	go tool gqlgen generate

bench: ## benchmarks
	go test -run '^$$' -bench . -benchmem ./...
