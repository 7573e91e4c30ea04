// Drives partnergraph's GraphQL over Server-Sent Events with the
// graphql-sse client library (distinct connections mode), for
// internal/server's TestGraphQLSSEClient, and prints one JSON line: the
// results the application got (next), the error given to the sink, whether
// the stream completed, and how many requests the client made.
//
//   node sse.mjs URL TOKEN QUERY [MUTATION]
//
// With MUTATION, once SETTLE_MS (default 0) has passed it posts MUTATION
// (its $n the attempt number) with the token every 300 ms until the first
// result arrives, so that a subscription to changes sees one. The case
// ends WINDOW_MS (default 3000) after the start, or at the first result
// with MUTATION.
import { createClient } from 'graphql-sse';

const [url, token, query, mutation] = process.argv.slice(2);
const windowMs = Number(process.env.WINDOW_MS || 3000);
const settleMs = Number(process.env.SETTLE_MS || 0);
const headers = token ? { Authorization: `Bearer ${token}` } : {};

let requests = 0;
const told = { next: [], sinkError: null, completed: false };
const client = createClient({
  url,
  headers,
  // One try: a refusal must reach the application, not a retry.
  retryAttempts: 0,
  fetchFn: (...args) => { requests++; return fetch(...args); },
});

let done;
const finished = new Promise((resolve) => { done = resolve; });
const dispose = client.subscribe({ query }, {
  next: (v) => { told.next.push(v); if (mutation) done(); },
  error: (e) => {
    told.sinkError = Array.isArray(e)
      ? { errors: e.map((x) => ({ message: x.message, extensions: x.extensions })) }
      : { message: String(e && e.message || e), status: e && e.response && e.response.status };
    done();
  },
  complete: () => { told.completed = true; done(); },
});

if (mutation) {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  let n = 0;
  const poke = setInterval(async () => {
    n++;
    try {
      await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ query: mutation, variables: { n: String(n) } }),
      });
    } catch {
      // The next attempt tries again.
    }
  }, 300);
  finished.finally(() => clearInterval(poke));
}

await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, windowMs))]);
dispose();
told.requests = requests;
console.log(JSON.stringify(told));
process.exit(0);
