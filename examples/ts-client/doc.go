// Package tsclient holds the Go test that runs the example TypeScript
// client (src/main.ts) against a test server, through scripts/ts-client:
// graphql-codegen generates its types from the schema, tsc compiles it,
// node runs it (examples/README.md).
package tsclient
