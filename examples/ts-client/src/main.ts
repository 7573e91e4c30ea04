// The example TypeScript client of partnergraph: the README's five main
// queries and a refetch through `nodes`, typed by graphql-codegen from the
// schema and ../go-client/operations.graphql, sent with fetch. It checks
// the answers against the reference data and exits 1 when one is wrong.
//
//   node dist/main.js http://localhost:8080/graphql
import {
  EntityIdDocument,
  PathDocument,
  PracticesDocument,
  ProjectPartnersDocument,
  RefetchDocument,
  SearchDocument,
  SectorMixDocument,
  type PracticesQuery,
  type TypedDocumentString,
} from "./gql/graphql";

/** An answer with errors, as the API gives it: each with its code. */
class GraphQLError extends Error {
  constructor(readonly errors: { message: string; extensions?: { code?: string } }[]) {
    super(errors.map((e) => `${e.message} (${e.extensions?.code ?? "no code"})`).join("; "));
  }
}

/** Posts one typed operation and returns its data, typed. */
async function request<R, V>(url: string, doc: TypedDocumentString<R, V>, variables: V): Promise<R> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/graphql-response+json, application/json" },
    body: JSON.stringify({ query: doc.toString(), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: GraphQLError["errors"] };
  if (body.errors?.length) throw new GraphQLError(body.errors);
  if (!res.ok || body.data == null) throw new Error(`HTTP ${res.status} without data`);
  return body.data;
}

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  if (!ok) failures.push(what);
}

async function main(url: string): Promise<void> {
  // 1. Which partners, of which sectors, run the project, and is its
  // partnership a full public-social-private one?
  const { projects } = await request(url, ProjectPartnersDocument, { name: "innowacyjny model" });
  check(projects.nodes.length === 1, `projects: ${projects.nodes.length}, want 1`);
  const project = projects.nodes[0];
  const sectors = new Map<string, string>();
  for (const p of [...project.leaders.nodes, ...project.partners.nodes]) sectors.set(p.name, p.sector);
  check(sectors.get("Konimpex Sp. z o.o.") === "PRIVATE", "Konimpex is not the PRIVATE partner");
  check([...sectors.values()].includes("PUBLIC"), "no PUBLIC partner");
  const partnerships = project.partnerships.nodes;
  check(partnerships.some((p) => p.sectorMix.isFull), "no full partnership");
  check(
    partnerships.some((p) => p.members.nodes.some((m) => m.role === "LEADER" && m.sector === "SOCIAL")),
    "no SOCIAL leader",
  );

  // 2. Every good practice, page by page, with its cases and partners.
  const practices: PracticesQuery["goodPractices"]["nodes"] = [];
  let after: string | null = null;
  let pages = 0;
  let total = 0;
  for (;;) {
    const { goodPractices }: PracticesQuery = await request(url, PracticesDocument, { after });
    pages++;
    total = goodPractices.totalCount;
    practices.push(...goodPractices.nodes);
    if (!goodPractices.pageInfo.hasNextPage) break;
    after = goodPractices.pageInfo.endCursor ?? null;
  }
  check(total === 6 && practices.length === 6 && pages === 2, `practices: ${practices.length} in ${pages} pages, want 6 in 2`);
  check(
    practices.some((p) => p.recognizedIn.nodes.some((s) => s.name.startsWith("Krajowy Program"))),
    "no practice recognised in the Krajowy Program",
  );

  // 3. Search, best hit first, with the snippet that matched.
  const { search } = await request(url, SearchDocument, { query: "spoldzielnie ceramika", first: 3 });
  const best = search.edges[0];
  check(best?.node.name === "Spółdzielnia Socjalna „Równe Szanse”", `best hit: ${best?.node.name}`);
  check(best?.snippet.field === "summary" && best.snippet.html.includes("<mark>ceramikę</mark>"), "snippet");

  // 4. How Coompanion connects to the workshop in Gębice.
  const ids: string[] = [];
  for (const key of ["coompanion", "wtz-gebice"]) {
    const { entityByKey } = await request(url, EntityIdDocument, { key });
    if (!entityByKey) throw new Error(`no entity ${key}`);
    ids.push(entityByKey.id);
  }
  const { path } = await request(url, PathDocument, { from: ids[0], to: ids[1] });
  check(path?.length === 3, `path length ${path?.length}, want 3`);
  check(path?.nodes[1]?.name === "Warsztaty Wymiany Doświadczeń w Szwecji", "path through the study visit");
  const first = path?.links[0];
  check(first?.type === "VISITED" && first.direction === "INCOMING" && first.label === "visited on", "first link");

  // 5. Sector mixes, counts by sector, the most connected.
  const mix = await request(url, SectorMixDocument, {});
  check(mix.partnerships.totalCount === 0, "partnerships missing a private partner");
  const top = mix.aggregate.groups[0];
  check(top?.key.join() === "SOCIAL" && top.count === 4, `largest sector group: ${JSON.stringify(top)}`);
  check(mix.mostConnected[0]?.node.name.startsWith("Innowacyjny model") ?? false, "most connected");

  // The two ends of the path, refetched through nodes (Relay's Node).
  const { nodes } = await request(url, RefetchDocument, { ids });
  const coompanion = nodes[0];
  check(
    coompanion?.__typename === "ForeignExample" && coompanion.name === "Coompanion" && coompanion.country === "SE",
    `nodes[0]: ${JSON.stringify(coompanion)}`,
  );
  check(nodes[1]?.__typename === "Partner", `nodes[1]: ${JSON.stringify(nodes[1])}`);

  console.log(
    JSON.stringify({ project: project.name, practices: practices.length, pages, best: best?.node.name, pathLength: path?.length, failures }),
  );
  if (failures.length > 0) process.exit(1);
}

main(process.argv[2] ?? "http://localhost:8080/graphql").catch((err: unknown) => {
  console.error("ts-client:", err instanceof Error ? err.message : err);
  process.exit(1);
});
