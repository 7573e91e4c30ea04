// PostGraphile v5 over partnergraph's database, as the benchmark peer
// (scripts/postgraphile5 installs it and runs this file; docs/benchmarks.md
// says how it is measured).
//
// Why library mode and not the `postgraphile` CLI: v5's CLI serves from one
// Node process and has no --cluster-workers (v4's CLI had it), while Node
// runs JavaScript on one core. So that v5 may use every core, as
// partnergraph's Go runtime does and as the v4 peer does with its cluster,
// this file is the CLI's own server (postgraphile(preset), grafserv on
// node:http) under node:cluster: the primary forks PEER_WORKERS workers,
// which share the port (the primary hands connections out round-robin).
//
// The preset is the one v5's documentation recommends (amber) with what a
// production deployment sets: no GraphiQL, no explain, no watch; and, as
// the peer only answers reads, no mutations and read-only sessions.
//
// Environment: PEER_DATABASE_URL (a postgres:// URL or libpq's key=value
// form), PEER_PORT, PEER_WORKERS (processes), PEER_POOL (connections per
// worker). Run with NODE_ENV=production.
import cluster from "node:cluster";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgSmartTagsFromFilePlugin } from "postgraphile/utils";

const env = process.env;
const workers = Math.max(1, Number(env.PEER_WORKERS || 1));
const port = Number(env.PEER_PORT || 5678);
const poolSize = Math.max(1, Number(env.PEER_POOL || 4));

// libpq's key=value form (host=/tmp/pgsock port=5432 user=u dbname=d
// sslmode=disable), which partnergraph takes, as the URL node's pg takes.
function toURL(dsn) {
  if (/^postgres(ql)?:\/\//.test(dsn)) return dsn;
  const kv = {};
  for (const m of dsn.matchAll(/(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/g)) {
    kv[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  const e = encodeURIComponent;
  const auth = kv.user ? e(kv.user) + (kv.password ? ":" + e(kv.password) : "") + "@" : "";
  const q = new URLSearchParams();
  let host = "";
  if (kv.host && kv.host.startsWith("/")) q.set("host", kv.host);
  else if (kv.host) host = kv.host;
  if (kv.port) {
    if (host) host += ":" + kv.port;
    else q.set("port", kv.port);
  }
  if (kv.sslmode) q.set("sslmode", kv.sslmode);
  const qs = q.toString();
  return "postgres://" + auth + host + "/" + e(kv.dbname || "") + (qs ? "?" + qs : "");
}

if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
  // A worker that dies leaves a peer with fewer cores than it was given:
  // stop, rather than measure something else.
  cluster.on("exit", (w, code, signal) => {
    console.error(`postgraphile5: worker ${w.process.pid} exited (${signal || code}); stopping`);
    process.exit(1);
  });
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.kill(sig);
      process.exit(0);
    });
  }
} else {
  const preset = {
    extends: [PostGraphileAmberPreset],
    // The view entity_full gets a primary key and a foreign key to entity
    // (postgraphile.tags.json5 in the working directory), as for v4.
    plugins: [makePgSmartTagsFromFilePlugin("postgraphile.tags.json5")],
    disablePlugins: ["PgMutationCreatePlugin", "PgMutationUpdateDeletePlugin"],
    pgServices: [
      makePgService({
        connectionString: toURL(env.PEER_DATABASE_URL || ""),
        schemas: ["public"],
        pubsub: false,
        poolConfig: { max: poolSize, options: "-c default_transaction_read_only=on" },
      }),
    ],
    grafserv: { port, host: "127.0.0.1", graphiql: false, watch: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  await serv.addTo(server);
  server.listen({ port, host: "127.0.0.1" }, () => {
    console.log(`postgraphile5: process ${process.pid} serving http://127.0.0.1:${port}/graphql`);
  });
}
