// Runs the GraphQL-over-HTTP audit of graphql-http (auditServer) against
// the endpoint given as the first argument and prints one JSON line per
// audit: {"id","name","status","reason"}; status is ok, notice, warn or
// error. internal/server's TestGraphQLOverHTTPAudit runs it.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
for (const r of results) {
  const out = { id: r.id, name: r.name, status: r.status };
  if (r.status !== 'ok') {
    out.reason = r.reason;
    try {
      out.response = { status: r.response.status, body: await r.response.text() };
    } catch {
      // The body was read by the audit already.
    }
  }
  console.log(JSON.stringify(out));
}
