// Drives partnergraph's WebSocket endpoint with the graphql-ws client
// library (graphql-transport-ws), as Apollo Client and urql do, in one of
// the cases of internal/server's TestGraphQLWSClient, and prints one JSON
// line: what the application was told (next results, the error given to
// the sink, the close events) and how many sockets the client opened.
//
//   node ws.mjs URL CASE [TOKEN] [QUERY]
//
// The cases that break the protocol on purpose (a second connection_init,
// a subscribe before the acknowledgement, an invalid message, no
// connection_init at all) wrap the WebSocket the client uses and rewrite
// what it sends, so that the client library itself meets the server's
// answer and decides whether to reconnect. A case watches for WINDOW_MS
// (default 2000) and then disposes of the client.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, kase, token, query] = process.argv.slice(2);
// The client rejects its pending connection when it is disposed of while
// it waits to reconnect; that is the end of the case, not an error of it.
process.on('unhandledRejection', () => {});
process.on('uncaughtException', () => {});
const windowMs = Number(process.env.WINDOW_MS || 2000);
const subscription = query || 'subscription { changes { operation } }';

let sockets = 0;
const rewrite = {
  // The client's connection_init, sent twice.
  'second-init': (data, send) => { send(data); send(data); },
  // A subscribe in place of connection_init.
  'subscribe-before-ack': (data, send) => {
    const m = JSON.parse(data);
    if (m.type !== 'connection_init') return send(data);
    send(JSON.stringify({ id: 'early', type: 'subscribe', payload: { query: subscription } }));
  },
  // A message of no known type once the connection is acknowledged.
  'invalid-message': (data, send) => {
    const m = JSON.parse(data);
    if (m.type !== 'subscribe') return send(data);
    send(JSON.stringify({ type: 'nonsense', id: m.id }));
  },
  // Not JSON at all, in place of connection_init.
  'not-json': (data, send) => {
    const m = JSON.parse(data);
    if (m.type !== 'connection_init') return send(data);
    send('{not json');
  },
  // connection_init never sent.
  'no-init': (data, send) => {
    const m = JSON.parse(data);
    if (m.type !== 'connection_init') return send(data);
  },
}[kase];

class CountingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    sockets++;
    if (rewrite) {
      const send = super.send.bind(this);
      this.send = (data) => rewrite(String(data), (d) => send(d));
    }
  }
}

const told = { case: kase, next: [], closed: [], sinkError: null, completed: false };
const params = {
  'no-token': undefined,
  'empty-params': {},
  'bad-token': { Authorization: 'Bearer pg_not_a_token' },
}[kase];
const client = createClient({
  url,
  webSocketImpl: CountingWebSocket,
  connectionParams: kase in { 'no-token': 1, 'empty-params': 1, 'bad-token': 1 } ? params : { Authorization: `Bearer ${token}` },
  // Two subscriptions with one id, for the duplicate case.
  generateID: kase === 'duplicate-id' ? () => 'same' : undefined,
  on: {
    closed: (e) => told.closed.push({ code: e.code, reason: e.reason }),
  },
});

const sink = {
  next: (v) => told.next.push(v),
  error: (e) => {
    told.sinkError = Array.isArray(e)
      ? { errors: e.map((x) => ({ message: x.message, extensions: x.extensions })) }
      : 'code' in e ? { code: e.code, reason: e.reason } : { message: String(e.message || e) };
  },
  complete: () => { told.completed = true; },
};
const q = subscription;
client.subscribe({ query: q }, sink);
if (kase === 'duplicate-id') client.subscribe({ query: q }, sink);

await new Promise((resolve) => setTimeout(resolve, windowMs));
told.sockets = sockets;
try {
  // dispose waits for a socket still connecting; the case is over anyway.
  await Promise.race([client.dispose(), new Promise((resolve) => setTimeout(resolve, 500))]);
} catch {
  // A client waiting to reconnect rejects its dispose with the last close.
}
console.log(JSON.stringify(told));
process.exit(0);
