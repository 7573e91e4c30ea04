# The two commands of the README, and a few more for development.
.PHONY: run test lint generate bench benchmark

run: ## serve the reference data on :8080 (embedded PostgreSQL unless DATABASE_URL is set)
	scripts/run

test: ## the whole test suite, as CI runs it
	scripts/test

lint: ## golangci-lint alone, at the version scripts/test pins
	go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$$(sed -n 's/^golangci_lint_version=//p' scripts/test) run ./...

generate: ## regenerate graph/ from schema/*.graphqls and gqlgen.yml, and docs/configuration.md from the option table
	go tool gqlgen generate
	go generate ./cmd/partnergraph

bench: ## benchmarks
	go test -run '^$$' -bench . -benchmem ./...

benchmark: ## the load table of docs/benchmarks.md: DATA=reference|1m, ARGS=extra bench flags
	scripts/benchmark --data $(or $(DATA),reference) $(ARGS)
