// The partnergraph explorer: search, entity pages, neighbourhood graphs,
// paths, analyses and staff linking, over the public GraphQL API only.
// Plain JavaScript, no build step: Cytoscape.js and the fCoSE layout are
// loaded by the page as classic scripts (globals `cytoscape` and
// `cytoscapeFcose`). docs/explorer.md describes the screens and the choices.

const main = document.getElementById('main');
const live = document.getElementById('live');
const endpoint = main.dataset.endpoint;
const TOKEN_KEY = 'partnergraph.token'; // sessionStorage only: never in the URL
const LANG_KEY = 'partnergraph.lang';
const DATA_LANG_KEY = 'partnergraph.dataLang'; // the language of the data, apart from the page's

if (window.cytoscape && window.cytoscapeFcose) window.cytoscape.use(window.cytoscapeFcose);

// ---------------------------------------------------------------- texts

const TEXT = {
  en: {
    brand: 'partnergraph', 'nav.search': 'Search', 'nav.graph': 'Graph', 'nav.paths': 'Paths',
    'nav.analyses': 'Analyses', 'nav.staff': 'Staff', 'nav.graphiql': 'GraphiQL', skip: 'Skip to content',
    'search.label': 'Search the knowledge base', 'search.placeholder': 'e.g. Coompanion, spółdzielnia ceramika',
    'search.button': 'Search', 'search.results': '{0} results', 'search.none': 'Nothing found.',
    'search.partial': 'No entry matches every word; showing entries that match the most.',
    'search.intro': 'Search cooperatives, partners, partnerships, good practices and foreign examples; open one to see its links, its graph and its sources.',
    'search.suggestions': 'Suggestions',
    'entity.attributes': 'Attributes', 'entity.sources': 'Sources', 'entity.links': 'Links',
    'entity.indicators': 'Indicators', 'entity.history': 'History', 'entity.graph': 'Show graph',
    'entity.paths': 'Find paths from here', 'entity.outgoing': 'outgoing', 'entity.incoming': 'incoming',
    'entity.notfound': 'No entry with the key {0}.', 'entity.publish': 'Publish', 'entity.unpublish': 'Unpublish',
    'entity.status': 'Status', 'entity.share': 'Link to this page',
    'graph.center': 'Centre', 'graph.depth': 'Depth', 'graph.limit': 'Limit', 'graph.load': 'Show',
    'graph.truncated': 'Truncated: the limit of {0} entities cut the neighbourhood; raise it to see more.',
    'graph.counts': '{0} entities, {1} links', 'graph.relations': 'Relation types', 'graph.kinds': 'Kinds',
    'graph.pick': 'Pick an entity to centre the graph on.', 'graph.canvas': 'Graph of the neighbourhood of {0}',
    'graph.help': 'Click an entity to select it, double-click to expand it, press Enter in the list below to open it.',
    'graph.open': 'Open', 'graph.expand': 'Expand', 'graph.select': 'Select', 'graph.selected': 'Selected', 'graph.list': 'Entities shown',
    'export.png': 'PNG', 'export.svg': 'SVG', 'export.graphml': 'GraphML', 'export.csv': 'CSV', 'export.label': 'Export what is shown',
    'paths.from': 'From', 'paths.to': 'To', 'paths.k': 'How many paths', 'paths.find': 'Find paths',
    'paths.none': 'No path within 6 links.', 'paths.path': 'Path {0}: {1} links', 'paths.nocite': 'no citation',
    'an.mix': 'Sector mix of partnerships', 'an.lacking': 'Partnerships that lack a sector',
    'an.connected': 'Most connected', 'an.bySector': 'Partners by sector', 'an.byKind': 'Entities by kind',
    'an.full': 'all three sectors', 'an.nolack': 'None: every partnership has all three sectors.', 'an.lacks': 'lacks {0}',
    'staff.token': 'Staff token', 'staff.signin': 'Sign in', 'staff.signout': 'Sign out',
    'staff.signedin': 'Signed in as {0} ({1})', 'staff.anon': 'Not signed in: paste a token to edit.',
    'staff.drafts': 'Drafts and archived entries (recently changed)', 'staff.nodrafts': 'No drafts among the recently changed entries.',
    'staff.feed': 'Live changes', 'staff.bad': 'This token is not a staff token.',
    'datalang.label': 'Names in', 'datalang.original': 'original language',
    'link.title': 'Link two entities', 'link.from': 'From', 'link.to': 'To', 'link.type': 'Relation type',
    'link.source': 'Cited source', 'link.locator': 'Locator (page, paragraph)', 'link.quote': 'Quote',
    'link.create': 'Create link', 'link.created': 'Link created: {0}', 'link.notypes': 'The vocabulary allows no relation between these kinds.',
    'link.pick': 'Select two entities in the graph (click, then shift-click, or Select in the list of entities).',
    error: 'Error', loading: 'Loading…', kind: 'Kind', name: 'Name', count: 'Count', degree: 'Links',
  },
  pl: {
    brand: 'partnergraph', 'nav.search': 'Szukaj', 'nav.graph': 'Graf', 'nav.paths': 'Ścieżki',
    'nav.analyses': 'Analizy', 'nav.staff': 'Redakcja', 'nav.graphiql': 'GraphiQL', skip: 'Przejdź do treści',
    'search.label': 'Szukaj w bazie wiedzy', 'search.placeholder': 'np. Coompanion, spółdzielnia ceramika',
    'search.button': 'Szukaj', 'search.results': 'Wyników: {0}', 'search.none': 'Nic nie znaleziono.',
    'search.partial': 'Żaden wpis nie pasuje do wszystkich słów; pokazano najlepiej pasujące.',
    'search.intro': 'Szukaj spółdzielni, partnerów, partnerstw, dobrych praktyk i przykładów zagranicznych; otwórz wpis, by zobaczyć jego powiązania, graf i źródła.',
    'search.suggestions': 'Podpowiedzi',
    'entity.attributes': 'Atrybuty', 'entity.sources': 'Źródła', 'entity.links': 'Powiązania',
    'entity.indicators': 'Wskaźniki', 'entity.history': 'Historia', 'entity.graph': 'Pokaż graf',
    'entity.paths': 'Szukaj ścieżek stąd', 'entity.outgoing': 'wychodzące', 'entity.incoming': 'przychodzące',
    'entity.notfound': 'Brak wpisu o kluczu {0}.', 'entity.publish': 'Opublikuj', 'entity.unpublish': 'Wycofaj publikację',
    'entity.status': 'Status', 'entity.share': 'Link do tej strony',
    'graph.center': 'Środek', 'graph.depth': 'Głębokość', 'graph.limit': 'Limit', 'graph.load': 'Pokaż',
    'graph.truncated': 'Przycięto: limit {0} wpisów uciął sąsiedztwo; zwiększ go, by zobaczyć więcej.',
    'graph.counts': 'Wpisów: {0}, powiązań: {1}', 'graph.relations': 'Typy powiązań', 'graph.kinds': 'Rodzaje',
    'graph.pick': 'Wybierz wpis, wokół którego narysować graf.', 'graph.canvas': 'Graf sąsiedztwa: {0}',
    'graph.help': 'Kliknij wpis, by go zaznaczyć, kliknij dwukrotnie, by go rozwinąć; Enter na liście poniżej otwiera wpis.',
    'graph.open': 'Otwórz', 'graph.expand': 'Rozwiń', 'graph.select': 'Zaznacz', 'graph.selected': 'Zaznaczone', 'graph.list': 'Pokazane wpisy',
    'export.png': 'PNG', 'export.svg': 'SVG', 'export.graphml': 'GraphML', 'export.csv': 'CSV', 'export.label': 'Eksportuj to, co widać',
    'paths.from': 'Od', 'paths.to': 'Do', 'paths.k': 'Ile ścieżek', 'paths.find': 'Szukaj ścieżek',
    'paths.none': 'Brak ścieżki w zasięgu 6 powiązań.', 'paths.path': 'Ścieżka {0}: powiązań {1}', 'paths.nocite': 'brak cytatu',
    'an.mix': 'Sektory w partnerstwach', 'an.lacking': 'Partnerstwa, którym brakuje sektora',
    'an.connected': 'Najwięcej powiązań', 'an.bySector': 'Partnerzy według sektora', 'an.byKind': 'Wpisy według rodzaju',
    'an.full': 'wszystkie trzy sektory', 'an.nolack': 'Brak: każde partnerstwo ma wszystkie trzy sektory.', 'an.lacks': 'brak: {0}',
    'staff.token': 'Token redakcji', 'staff.signin': 'Zaloguj', 'staff.signout': 'Wyloguj',
    'staff.signedin': 'Zalogowano jako {0} ({1})', 'staff.anon': 'Nie zalogowano: wklej token, by edytować.',
    'staff.drafts': 'Szkice i wpisy zarchiwizowane (ostatnio zmienione)', 'staff.nodrafts': 'Wśród ostatnio zmienionych wpisów nie ma szkiców.',
    'staff.feed': 'Zmiany na żywo', 'staff.bad': 'To nie jest token redakcji.',
    'datalang.label': 'Nazwy w', 'datalang.original': 'języku oryginału',
    'link.title': 'Powiąż dwa wpisy', 'link.from': 'Od', 'link.to': 'Do', 'link.type': 'Typ powiązania',
    'link.source': 'Cytowane źródło', 'link.locator': 'Miejsce (strona, akapit)', 'link.quote': 'Cytat',
    'link.create': 'Utwórz powiązanie', 'link.created': 'Utworzono powiązanie: {0}', 'link.notypes': 'Słownik nie dopuszcza powiązania między tymi rodzajami.',
    'link.pick': 'Zaznacz dwa wpisy w grafie (kliknij, potem kliknij z Shift, albo Zaznacz na liście wpisów).',
    error: 'Błąd', loading: 'Ładowanie…', kind: 'Rodzaj', name: 'Nazwa', count: 'Liczba', degree: 'Powiązania',
  },
};

const KIND = {
  en: { PARTNER: 'Partner', COOPERATIVE: 'Cooperative', PARTNERSHIP: 'Partnership', GOOD_PRACTICE: 'Good practice', FOREIGN_EXAMPLE: 'Foreign example', PROJECT: 'Project', EVENT: 'Event', PERSON: 'Person', SOURCE: 'Source' },
  pl: { PARTNER: 'Partner', COOPERATIVE: 'Spółdzielnia', PARTNERSHIP: 'Partnerstwo', GOOD_PRACTICE: 'Dobra praktyka', FOREIGN_EXAMPLE: 'Przykład zagraniczny', PROJECT: 'Projekt', EVENT: 'Wydarzenie', PERSON: 'Osoba', SOURCE: 'Źródło' },
};
const SECTOR = { en: { PUBLIC: 'public', SOCIAL: 'social', PRIVATE: 'private', NONE: 'no sector' }, pl: { PUBLIC: 'publiczny', SOCIAL: 'społeczny', PRIVATE: 'prywatny', NONE: 'bez sektora' } };
const KINDS = Object.keys(KIND.en);
// Colours by sector (entities without one, grey), shapes by kind: both
// explained in the legend, so colour is never the only cue.
const SECTOR_COLOUR = { PUBLIC: '#1f6fb2', SOCIAL: '#2e8540', PRIVATE: '#b8561b', NONE: '#6b6b6b' };
const KIND_SHAPE = { PARTNER: 'ellipse', COOPERATIVE: 'round-rectangle', PARTNERSHIP: 'diamond', GOOD_PRACTICE: 'star', FOREIGN_EXAMPLE: 'hexagon', PROJECT: 'triangle', EVENT: 'vee', PERSON: 'pentagon', SOURCE: 'rectangle' };

let lang = localStorage.getItem(LANG_KEY) || ((navigator.language || 'pl').startsWith('pl') ? 'pl' : 'en');
// The language the data is asked for (docs/api.md, "Languages"): "" for
// each entry's original language, as researchers cite it, or pl, sv, en,
// in which names, summaries and places come where translated.
let dataLang = localStorage.getItem(DATA_LANG_KEY) || '';
if (!['', 'pl', 'sv', 'en'].includes(dataLang)) dataLang = '';

function t(key, ...args) {
  const s = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return s.replace(/\{(\d)\}/g, (_, i) => String(args[i]));
}
const kindName = (k) => KIND[lang][k] || k;
const sectorName = (s) => SECTOR[lang][s] || s;

// ---------------------------------------------------------------- DOM helpers

// h builds an element: h('a', {href: '#'}, 'text', child).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'html') el.innerHTML = v; // only for the server's escaped snippet HTML
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

function field(labelText, input) {
  input.id ||= nextId('f');
  return h('div', { class: 'field' }, h('label', { for: input.id }, labelText), input);
}

function announce(msg) { live.textContent = msg; }

function showError(where, err) {
  const box = h('div', { class: 'error', role: 'alert' }, `${t('error')}: ${err.message}`,
    err.code ? h('code', {}, ` ${err.code}`) : null);
  where.prepend(box);
  return box;
}

function entityHref(e) { return e.key ? `#/e/${encodeURIComponent(e.key)}` : `#/id/${encodeURIComponent(e.id)}`; }

// ---------------------------------------------------------------- API

function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

class APIError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.code = errors[0]?.extensions?.code || '';
  }
}

async function gql(query, variables = {}) {
  // By default the explorer shows each entry in its original language, as
  // researchers cite it: "*" asks the API for no translation; the header's
  // switch asks for one language, with the API's fallback (docs/api.md,
  // "Languages").
  const headers = { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json', 'Accept-Language': dataLang || '*' };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body;
  try { body = await res.json(); } catch { throw new APIError([{ message: `HTTP ${res.status}` }]); }
  if (body.errors?.length) throw new APIError(body.errors);
  return body.data;
}

const REF = 'id key kind name';
const CITE = `locator quote source { ${REF} }`;
const LINK = `id type label direction role note node { ${REF} publicationStatus ... on Partner { sector } } sources { ${CITE} }`;

let viewer = { role: 'ANONYMOUS', name: null };
let vocabulary = null; // relationTypes, once

async function relationTypes() {
  vocabulary ||= (await gql(`{ relationTypes { type label inverseLabel from to } }`)).relationTypes;
  return vocabulary;
}
const isStaff = () => viewer.role === 'EDITOR' || viewer.role === 'ADMIN';

async function refreshViewer() {
  viewer = { role: 'ANONYMOUS', name: null };
  if (token()) {
    try { viewer = (await gql('{ viewer { name role } }')).viewer; } catch { sessionStorage.removeItem(TOKEN_KEY); }
  }
  const badge = document.getElementById('staff-badge');
  badge.hidden = !isStaff();
  badge.textContent = isStaff() ? viewer.name : '';
  if (isStaff()) startFeed(); else stopFeed();
}

// ---------------------------------------------------------------- change feed (graphql-transport-ws)

// A minimal client of the graphql-transport-ws protocol, which is all the
// feed needs: connection_init with the token, one subscribe, next messages.
let feed = null;
const feedListeners = new Set();

function startFeed() {
  if (feed) return;
  const url = new URL(endpoint, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, 'graphql-transport-ws');
  feed = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token()}` } }));
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: 'changes', type: 'subscribe', payload: { query: 'subscription { changes { revisionId at actor operation kind entityId linkId linkType } }' } }));
    } else if (msg.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong' }));
    } else if (msg.type === 'next' && msg.payload?.data?.changes) {
      for (const f of feedListeners) f(msg.payload.data.changes);
    }
  };
  ws.onclose = () => { if (feed === ws) feed = null; };
}
function stopFeed() { if (feed) { const ws = feed; feed = null; ws.close(1000); } }

// ---------------------------------------------------------------- search box with suggestions

// searchBox is an ARIA combobox: as one types it lists `suggest`'s names;
// arrows move, Enter picks (onPick gets the suggestion) or, with nothing
// highlighted, submits the text (onSubmit).
function searchBox({ label, value = '', onPick, onSubmit, types, name }) {
  const listId = nextId('list');
  const input = h('input', { type: 'search', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId, autocomplete: 'off', placeholder: t('search.placeholder'), name: name || null });
  input.value = value;
  const list = h('ul', { id: listId, role: 'listbox', class: 'suggestions', 'aria-label': t('search.suggestions'), hidden: true });
  let items = [], active = -1, seq = 0;
  const close = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); input.removeAttribute('aria-activedescendant'); active = -1; };
  const highlight = (i) => {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (i >= 0) input.setAttribute('aria-activedescendant', list.children[i].id); else input.removeAttribute('aria-activedescendant');
  };
  const pick = (s) => { input.value = s.name; input.dataset.id = s.id; input.dataset.kind = s.kind; close(); onPick?.(s); };
  input.addEventListener('input', async () => {
    delete input.dataset.id;
    const prefix = input.value.trim();
    const mine = ++seq;
    if (!prefix) { list.removeAttribute('aria-busy'); close(); return; }
    // Busy until the answer for the text as it now stands is drawn: an
    // earlier keystroke's answer may arrive first and be replaced.
    list.setAttribute('aria-busy', 'true');
    try {
      const d = await gql('query($p: String!, $t: [EntityKind!]) { suggest(prefix: $p, types: $t, limit: 8) { id: entityId kind name } }', { p: prefix, t: types || null });
      if (mine !== seq) return; // a later keystroke won
      items = d.suggest;
    } catch {
      if (mine !== seq) return;
      items = [];
    }
    list.removeAttribute('aria-busy');
    list.replaceChildren(...items.map((s, i) => h('li', { id: `${listId}-${i}`, role: 'option', 'aria-selected': 'false', onmousedown: (e) => { e.preventDefault(); pick(s); } },
      s.name, h('span', { class: 'kind' }, kindName(s.kind)))));
    list.hidden = items.length === 0;
    input.setAttribute('aria-expanded', String(items.length > 0));
    active = -1;
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && items.length) { e.preventDefault(); list.hidden = false; highlight((active + 1) % items.length); }
    else if (e.key === 'ArrowUp' && items.length) { e.preventDefault(); highlight((active - 1 + items.length) % items.length); }
    else if (e.key === 'Escape') close();
    else if (e.key === 'Enter') {
      if (!list.hidden && active >= 0) { e.preventDefault(); pick(items[active]); } else if (onSubmit) { e.preventDefault(); close(); onSubmit(input.value.trim()); }
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
  return { el: h('div', { class: 'combo' }, h('label', { for: (input.id = nextId('q')) }, label), input, list), input };
}

// ---------------------------------------------------------------- routing

function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { name: parts[0] || 'search', arg: parts.slice(1).join('/'), params: new URLSearchParams(qs || '') };
}

let cleanup = () => {};
async function render() {
  cleanup(); cleanup = () => {};
  feedListeners.clear();
  const r = route();
  for (const a of document.querySelectorAll('#nav a[data-route]')) {
    if (a.dataset.route === r.name || (r.name === 'e' && a.dataset.route === 'search')) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  main.replaceChildren(h('p', { class: 'loading' }, t('loading')));
  main.setAttribute('aria-busy', 'true');
  try {
    const view = { search: viewSearch, e: viewEntity, id: viewEntity, graph: viewGraph, paths: viewPaths, analyses: viewAnalyses, staff: viewStaff }[r.name] || viewSearch;
    await view(r);
  } catch (err) {
    main.replaceChildren();
    showError(main, err);
  }
  main.setAttribute('aria-busy', 'false');
  main.dataset.view = r.name;
}

function applyLang() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.querySelector('.skip').textContent = t('skip');
  document.getElementById('lang').textContent = lang === 'pl' ? 'EN' : 'PL';
  document.getElementById('nav').setAttribute('aria-label', lang === 'pl' ? 'Menu główne' : 'Main');
}

// ---------------------------------------------------------------- search

async function viewSearch(r) {
  const q = r.params.get('q') || '';
  const box = searchBox({ label: t('search.label'), value: q, onPick: (s) => { location.hash = `#/id/${encodeURIComponent(s.id)}`; }, onSubmit: (text) => { location.hash = `#/search?q=${encodeURIComponent(text)}`; } });
  const form = h('form', { role: 'search', class: 'searchform', onsubmit: (e) => { e.preventDefault(); location.hash = `#/search?q=${encodeURIComponent(box.input.value.trim())}`; } },
    box.el, h('button', { type: 'submit' }, t('search.button')));
  const out = h('section', { class: 'results', 'aria-label': t('nav.search') });
  main.replaceChildren(h('h1', {}, t('nav.search')), form, out);
  if (!q) { out.append(h('p', {}, t('search.intro'))); box.input.focus(); return; }
  const d = await gql(`query($q: String!) { search(query: $q, first: 50) { totalCount partial edges { snippet { field html } node { ${REF} summary } } } }`, { q });
  const s = d.search;
  out.append(h('p', { class: 'count', role: 'status' }, t('search.results', s.totalCount)));
  if (s.partial) out.append(h('p', { class: 'note' }, t('search.partial')));
  if (!s.edges.length) { out.append(h('p', {}, t('search.none'))); return; }
  // Grouped by kind, in the order of each kind's best hit.
  const groups = new Map();
  for (const e of s.edges) { if (!groups.has(e.node.kind)) groups.set(e.node.kind, []); groups.get(e.node.kind).push(e); }
  for (const [kind, edges] of groups) {
    const hid = nextId('g');
    out.append(h('section', { class: 'group', 'aria-labelledby': hid }, h('h2', { id: hid }, `${kindName(kind)} (${edges.length})`),
      h('ul', {}, edges.map((e) => h('li', { class: 'hit' }, h('a', { href: entityHref(e.node) }, e.node.name),
        h('p', { class: 'snippet', html: e.snippet.html }))))));
  }
}

// ---------------------------------------------------------------- entity page

const ATTRS = `
  ... on Partner { sector partnerKind legalForm country region city website }
  ... on Cooperative { status activities country region city foundedOn website sectorMix { sectors missing isFull }
       indicators { name value unit asOf note source { ${CITE} } } }
  ... on Partnership { startsOn endsOn sectorMix { sectors missing isFull } }
  ... on GoodPractice { description topics targetGroup lessons }
  ... on ForeignExample { country region city model lessonsForPoland website }
  ... on Project { startsOn endsOn funding website }
  ... on Event { eventKind eventStatus startsOn endsOn city venue }
  ... on Person { publicRole }
  ... on Source { sourceKind publisher publishedOn url language }`;
const ENTITY = `${REF} summary publicationStatus version updatedAt sources { ${CITE} } ${ATTRS}
  links(first: 100) { totalCount nodes { ${LINK} } }`;
const HISTORY = 'history(first: 20) { totalCount nodes { id at actor operation } }';

function attrValue(v) {
  if (v == null || v === '' || (Array.isArray(v) && !v.length)) return null;
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object' && 'isFull' in v) return v.isFull ? t('an.full') : `${v.sectors.map(sectorName).join(', ')}; ${t('an.lacks', v.missing.map(sectorName).join(', '))}`;
  return String(v);
}

function citation(c) {
  return h('li', { class: 'cite' }, h('a', { href: entityHref(c.source) }, c.source.name), c.locator ? `, ${c.locator}` : '',
    c.quote ? h('blockquote', {}, c.quote) : null);
}

async function viewEntity(r) {
  const staff = isStaff();
  const q = r.name === 'e'
    ? `query($k: String!) { e: entityByKey(key: $k) { ${ENTITY} ${staff ? HISTORY : ''} } }`
    : `query($k: ID!) { e: node(id: $k) { ... on Entity { ${ENTITY} ${staff ? HISTORY : ''} } } }`;
  const { e } = await gql(q, { k: r.arg });
  if (!e || !e.kind) { main.replaceChildren(h('h1', {}, t('error')), h('p', {}, t('entity.notfound', r.arg))); return; }
  if (r.name === 'id' && e.key) history.replaceState(null, '', `#/e/${encodeURIComponent(e.key)}`); // the stable, shareable URL
  document.title = `${e.name} · ${main.dataset.title}`;
  const skip = new Set(['id', 'key', 'kind', 'name', 'summary', 'publicationStatus', 'version', 'updatedAt', 'sources', 'links', 'history', 'indicators']);
  const rows = Object.entries(e).filter(([k, v]) => !skip.has(k) && attrValue(v) != null);
  const out = h('article', { class: 'entity' },
    h('p', { class: 'kindline' }, kindName(e.kind), e.publicationStatus !== 'PUBLISHED' ? h('span', { class: 'status' }, ` · ${e.publicationStatus}`) : null),
    h('h1', {}, e.name),
    h('p', { class: 'summary' }, e.summary),
    h('p', { class: 'actions' },
      h('a', { class: 'button', href: `#/graph/${encodeURIComponent(e.key || e.id)}` }, t('entity.graph')),
      h('a', { class: 'button', href: `#/paths?from=${encodeURIComponent(e.key || '')}` }, t('entity.paths')),
      h('a', { href: `${location.pathname}#/e/${encodeURIComponent(e.key || '')}`, }, t('entity.share'))));
  if (staff) out.append(publishControls(e));
  if (rows.length) out.append(h('section', {}, h('h2', {}, t('entity.attributes')), h('dl', { class: 'attrs' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, attrValue(v))]))));
  if (e.indicators?.length) {
    out.append(h('section', {}, h('h2', {}, t('entity.indicators')), h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('name')), h('th', { scope: 'col' }, t('count')), h('th', { scope: 'col' }, t('entity.sources')))),
      h('tbody', {}, e.indicators.map((i) => h('tr', {}, h('td', {}, i.name), h('td', {}, `${i.value}${i.unit ? ' ' + i.unit : ''}${i.asOf ? ' (' + i.asOf + ')' : ''}`),
        h('td', {}, i.source ? h('ul', { class: 'cites' }, citation(i.source)) : '')))))));
  }
  if (e.sources.length) out.append(h('section', {}, h('h2', {}, t('entity.sources')), h('ul', { class: 'cites' }, e.sources.map(citation))));
  const outLinks = e.links.nodes.filter((l) => l.direction === 'OUTGOING'), inLinks = e.links.nodes.filter((l) => l.direction !== 'OUTGOING');
  const linkList = (ls) => h('ul', { class: 'links' }, ls.map((l) => h('li', {}, h('span', { class: 'rel' }, l.label), ' ',
    h('a', { href: entityHref(l.node) }, l.node.name), h('span', { class: 'kind' }, kindName(l.node.kind)), l.role ? ` (${l.role})` : '',
    l.sources.length ? h('ul', { class: 'cites' }, l.sources.map(citation)) : null)));
  out.append(h('section', { class: 'linksec' }, h('h2', {}, `${t('entity.links')} (${e.links.totalCount})`),
    h('h3', {}, `→ ${t('entity.outgoing')} (${outLinks.length})`), linkList(outLinks),
    h('h3', {}, `← ${t('entity.incoming')} (${inLinks.length})`), linkList(inLinks)));
  if (staff && e.history) {
    out.append(h('section', { class: 'history' }, h('h2', {}, `${t('entity.history')} (${e.history.totalCount})`),
      h('ol', {}, e.history.nodes.map((v) => h('li', {}, h('time', { datetime: v.at }, new Date(v.at).toLocaleString(lang)), ` ${v.operation} · ${v.actor}`)))));
  }
  main.replaceChildren(out);
  main.focus();
}

function publishControls(e) {
  const status = h('span', { role: 'status' }, `${t('entity.status')}: ${e.publicationStatus}`);
  const act = async (m) => {
    try {
      await gql(`mutation($id: ID!, $v: Int) { ${m}(id: $id, expectedVersion: $v) { id publicationStatus } }`, { id: e.id, v: e.version });
      render();
    } catch (err) { showError(wrap, err); }
  };
  const wrap = h('p', { class: 'staffbar' }, status, ' ',
    e.publicationStatus === 'DRAFT' ? h('button', { type: 'button', onclick: () => act('publish') }, t('entity.publish')) : null,
    e.publicationStatus === 'PUBLISHED' ? h('button', { type: 'button', onclick: () => act('unpublish') }, t('entity.unpublish')) : null);
  return wrap;
}

// ---------------------------------------------------------------- graph

const CY_STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(colour)', shape: 'data(shape)', width: 22, height: 22, 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 3, 'text-wrap': 'ellipsis', 'text-max-width': 120, 'min-zoomed-font-size': 6, color: '#1b1b1b' } },
  { selector: 'node.center', style: { width: 34, height: 34, 'border-width': 3, 'border-color': '#111' } },
  { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#ffbf47' } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#8a8a8a', 'target-arrow-color': '#8a8a8a', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 7, 'text-rotation': 'autorotate', 'min-zoomed-font-size': 6, color: '#333', 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-background-padding': 1 } },
  { selector: 'edge.hl', style: { 'line-color': '#d4351c', 'target-arrow-color': '#d4351c', width: 4, 'z-index': 10 } },
  { selector: 'node.hl', style: { 'border-width': 4, 'border-color': '#d4351c' } },
  { selector: '.hidden', style: { display: 'none' } },
];

function nodeData(n, center) {
  const sector = n.sector || 'NONE';
  return { group: 'nodes', data: { id: n.id, key: n.key || '', kind: n.kind, label: n.name, sector, colour: SECTOR_COLOUR[sector], shape: KIND_SHAPE[n.kind] || 'ellipse' }, classes: center ? 'center' : '' };
}
// edgeData draws a link from its source to its target, labelled in the
// direction it is read: the arrow and the label both run source → target.
function edgeData(l, fromId) {
  const out = l.direction !== 'INCOMING';
  const src = out ? fromId : l.node.id, dst = out ? l.node.id : fromId;
  const forward = vocabulary?.find((v) => v.type === l.type)?.label || (out ? l.label : l.type.toLowerCase());
  return { group: 'edges', data: { id: l.id, source: src, target: dst, type: l.type, label: forward, cite: (l.sources || []).map((c) => `${c.source.name}${c.locator ? ', ' + c.locator : ''}${c.quote ? ': „' + c.quote + '”' : ''}`).join(' | ') } };
}

const NB = (rel) => `query($id: ID!, $d: Int!, $l: Int!, $r: [RelationType!], $k: [EntityKind!]) { neighborhood(id: $id, depth: $d, limit: $l, relations: $r, types: $k) {
  truncated center { ${REF} } nodes { ${REF} ... on Partner { sector } } links { id type label direction ${rel} node { id } sources { ${CITE} } } } }`;

// The link's near end is not in the answer: the neighbourhood's links are
// read from their end nearer the centre, which `from`/`to` name.
const NB_QUERY = NB('from { id } to { id }');

function neighbourhoodElements(nb) {
  const els = nb.nodes.map((n) => nodeData(n, n.id === nb.center.id));
  for (const l of nb.links) els.push({ group: 'edges', data: { ...edgeData(l, l.direction === 'INCOMING' ? l.to.id : l.from.id).data, source: l.from.id, target: l.to.id } });
  return els;
}

// BIG is the number of nodes from which the graph trades polish for speed:
// fCoSE's draft quality (its spectral step only, about 7 times faster on 500
// nodes here) and link labels only once zoomed in (drawing 500 labels costs
// more than the layout). docs/explorer.md has the figures.
const BIG = 200;

function makeCy(container, elements, layout = 'fcose') {
  const big = elements.filter((e) => e.group === 'nodes').length > BIG;
  const style = big ? [...CY_STYLE, { selector: 'edge', style: { 'min-zoomed-font-size': 12 } }] : CY_STYLE;
  const cy = window.cytoscape({ container, elements, style, wheelSensitivity: 0.3, pixelRatio: 1, textureOnViewport: big, hideEdgesOnViewport: big,
    layout: { name: layout, animate: false, quality: big ? 'draft' : 'default', randomize: true, nodeRepulsion: 6000, idealEdgeLength: 90 } });
  return cy;
}

function legend() {
  return h('section', { class: 'legend', 'aria-label': lang === 'pl' ? 'Legenda' : 'Legend' },
    h('ul', {}, Object.entries(SECTOR_COLOUR).map(([s, c]) => h('li', {}, h('span', { class: 'swatch', style: `background:${c}` }), sectorName(s)))),
    h('ul', {}, KINDS.map((k) => h('li', {}, `${kindName(k)}: ${KIND_SHAPE[k]}`))));
}

// resolveEntity finds the entity that a URL names, by key (the stable form)
// or by global ID (what a suggestion gives before its key is known).
async function resolveEntity(arg) {
  if (!arg) return null;
  try {
    const byKey = await gql(`query($k: String!) { entityByKey(key: $k) { ${REF} } }`, { k: arg });
    if (byKey.entityByKey) return byKey.entityByKey;
  } catch { /* not a key: try it as an ID */ }
  const byId = await gql(`query($id: ID!) { node(id: $id) { ... on Entity { ${REF} } } }`, { id: arg });
  return byId.node?.kind ? byId.node : null;
}

async function viewGraph(r) {
  await relationTypes();
  const center = await resolveEntity(r.arg);
  const depth = Math.min(2, Math.max(1, Number(r.params.get('depth')) || 1));
  const limit = Math.min(1000, Math.max(1, Number(r.params.get('limit')) || 100));
  const box = searchBox({ label: t('graph.center'), value: center?.name || '', onPick: (s) => { location.hash = `#/graph/${encodeURIComponent(s.id)}?depth=${depth}&limit=${limit}`; } });
  const depthSel = h('select', {}, [1, 2].map((d) => h('option', { value: d, selected: d === depth }, d)));
  const limitIn = h('input', { type: 'number', min: 1, max: 1000, value: limit, inputmode: 'numeric' });
  const go = () => { if (center) location.hash = `#/graph/${encodeURIComponent(center.key || center.id)}?depth=${depthSel.value}&limit=${limitIn.value}`; };
  const controls = h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); go(); } }, box.el, field(t('graph.depth'), depthSel), field(t('graph.limit'), limitIn), h('button', { type: 'submit' }, t('graph.load')));
  main.replaceChildren(h('h1', {}, t('nav.graph')), controls);
  if (!center) { main.append(h('p', {}, t('graph.pick'))); return; }
  const d = await gql(NB_QUERY, { id: center.id, d: depth, l: limit });
  const nb = d.neighborhood;
  const status = h('p', { class: 'count', role: 'status', id: 'graph-status' });
  const trunc = h('p', { class: 'truncated', role: 'note', id: 'graph-truncated', hidden: !nb.truncated }, t('graph.truncated', limit));
  const canvas = h('div', { class: 'cy', id: 'cy', role: 'img', 'aria-label': t('graph.canvas', center.name), tabindex: '0' });
  const side = h('aside', { class: 'side', 'aria-label': t('graph.selected'), hidden: true });
  const list = h('ul', { class: 'nodelist', 'aria-label': t('graph.list') });
  const filters = h('fieldset', { class: 'filters' });
  const exports = h('div', { class: 'exports', role: 'group', 'aria-label': t('export.label') });
  main.append(status, trunc, h('div', { class: 'graphwrap' }, canvas, side), filters, exports, legend(), h('p', { class: 'help' }, t('graph.help')), h('details', {}, h('summary', {}, t('graph.list')), list));
  const t0 = performance.now();
  const cy = makeCy(canvas, neighbourhoodElements(nb));
  // The time from the answer to the first frame drawn (layout included),
  // which the browser test reports (docs/explorer.md).
  cy.one('render', () => {
    canvas.dataset.renderMs = String(Math.round(performance.now() - t0));
    canvas.dataset.rendered = String(cy.nodes().length);
  });
  cleanup = () => cy.destroy();
  const refresh = () => {
    const vis = cy.nodes(':visible').length, visE = cy.edges(':visible').length;
    status.textContent = t('graph.counts', vis, visE);
    canvas.dataset.nodes = String(vis);
    // The list is the graph's keyboard path: open, and select for linking.
    list.replaceChildren(...cy.nodes(':visible').map((n) => h('li', {}, h('a', { href: n.data('key') ? `#/e/${encodeURIComponent(n.data('key'))}` : `#/id/${encodeURIComponent(n.id())}` }, n.data('label')), ` (${kindName(n.data('kind'))}) `,
      h('button', { type: 'button', class: 'small', 'data-select': n.data('key') || n.id(), 'aria-label': `${t('graph.select')}: ${n.data('label')}`, onclick: () => choose(n, selected.length === 1 && selected[0] !== n) }, t('graph.select')))));
  };
  // Filters by relation type and by kind hide, without refetching.
  const types = [...new Set(cy.edges().map((e) => e.data('type')))].sort();
  const kinds = [...new Set(cy.nodes().map((n) => n.data('kind')))].sort();
  const applyFilters = () => {
    const offT = new Set([...filters.querySelectorAll('input[data-type]:not(:checked)')].map((i) => i.dataset.type));
    const offK = new Set([...filters.querySelectorAll('input[data-kind]:not(:checked)')].map((i) => i.dataset.kind));
    cy.batch(() => {
      cy.elements().removeClass('hidden');
      cy.nodes().filter((n) => offK.has(n.data('kind')) && !n.hasClass('center')).addClass('hidden');
      cy.edges().filter((e) => offT.has(e.data('type')) || e.source().hasClass('hidden') || e.target().hasClass('hidden')).addClass('hidden');
    });
    refresh();
  };
  const box2 = (attr, v, text) => { const i = h('input', { type: 'checkbox', checked: true, [attr]: v, onchange: applyFilters }); return h('label', { class: 'chk' }, i, text); };
  filters.append(h('legend', {}, `${t('graph.relations')} / ${t('graph.kinds')}`),
    h('div', { role: 'group', 'aria-label': t('graph.relations') }, types.map((ty) => box2('data-type', ty, ty))),
    h('div', { role: 'group', 'aria-label': t('graph.kinds') }, kinds.map((k) => box2('data-kind', k, kindName(k)))));
  const selected = [];
  const showSide = () => {
    const [a, b] = selected;
    side.hidden = false;
    side.replaceChildren(h('h2', {}, t('graph.selected')));
    for (const n of selected) {
      side.append(h('p', {}, h('strong', {}, n.data('label')), ` (${kindName(n.data('kind'))}) `,
        h('a', { href: n.data('key') ? `#/e/${encodeURIComponent(n.data('key'))}` : `#/id/${encodeURIComponent(n.id())}` }, t('graph.open')), ' ',
        h('button', { type: 'button', onclick: () => expand(n) }, t('graph.expand'))));
    }
    if (isStaff()) side.append(linkForm(a, b, () => reload()));
  };
  const expand = async (n) => {
    const more = (await gql(NB_QUERY, { id: n.id(), d: 1, l: limit })).neighborhood;
    const add = neighbourhoodElements(more).filter((el) => cy.getElementById(el.data.id).empty()).map((el) => ({ ...el, classes: '' }));
    cy.add(add);
    cy.layout({ name: 'fcose', animate: false, randomize: false, quality: 'default' }).run();
    if (more.truncated) trunc.hidden = false;
    applyFilters();
    announce(t('graph.counts', cy.nodes().length, cy.edges().length));
  };
  const reload = async () => {
    const fresh = (await gql(NB_QUERY, { id: center.id, d: depth, l: limit })).neighborhood;
    const add = neighbourhoodElements(fresh).filter((el) => cy.getElementById(el.data.id).empty());
    if (add.length) { cy.add(add); cy.layout({ name: 'fcose', animate: false, randomize: false }).run(); }
    applyFilters();
  };
  // choose selects n alone, or as the second of two (the link's target).
  const choose = (n, second) => {
    if (second && selected.length) selected.splice(1, 1, n); else selected.splice(0, 2, n);
    cy.nodes().unselect(); selected.forEach((s) => s.select());
    showSide();
  };
  cy.on('tap', 'node', (ev) => choose(ev.target, Boolean(ev.originalEvent?.shiftKey)));
  cy.on('dbltap', 'node', (ev) => expand(ev.target));
  // A change committed anywhere (another tab, another editor) redraws the
  // neighbourhood without reloading the page.
  feedListeners.add((c) => { if (c.linkId || c.entityId) reload(); });
  exports.append(
    h('button', { type: 'button', onclick: () => download(`${center.key || 'graph'}.png`, cy.png({ full: true, scale: 2, bg: '#ffffff' })) }, t('export.png')),
    h('button', { type: 'button', onclick: () => download(`${center.key || 'graph'}.svg`, 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(toSVG(cy))) }, t('export.svg')),
    h('button', { type: 'button', onclick: () => download(`${center.key || 'graph'}.graphml`, 'data:application/xml;charset=utf-8,' + encodeURIComponent(toGraphML(cy))) }, t('export.graphml')),
    h('button', { type: 'button', onclick: () => download(`${center.key || 'graph'}.csv`, 'data:text/csv;charset=utf-8,' + encodeURIComponent(toCSV(cy))) }, t('export.csv')));
  refresh();
  window.__explorerCy = cy; // for tests and the console
}

function download(name, href) { const a = h('a', { href, download: name }); document.body.append(a); a.click(); a.remove(); }

const xml = (s) => String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }[c]));
const csv = (s) => `"${String(s).replace(/"/g, '""')}"`;

// toGraphML, toCSV and toSVG export the elements shown (filters applied).
function toGraphML(cy) {
  const keys = ['kind', 'key', 'label', 'sector'].map((k) => `<key id="n_${k}" for="node" attr.name="${k}" attr.type="string"/>`).join('')
    + ['type', 'label', 'citation'].map((k) => `<key id="e_${k}" for="edge" attr.name="${k}" attr.type="string"/>`).join('');
  const nodes = cy.nodes(':visible').map((n) => `<node id="${xml(n.id())}">${['kind', 'key', 'label', 'sector'].map((k) => `<data key="n_${k}">${xml(n.data(k))}</data>`).join('')}</node>`).join('\n');
  const edges = cy.edges(':visible').map((e) => `<edge id="${xml(e.id())}" source="${xml(e.data('source'))}" target="${xml(e.data('target'))}"><data key="e_type">${xml(e.data('type'))}</data><data key="e_label">${xml(e.data('label'))}</data><data key="e_citation">${xml(e.data('cite'))}</data></edge>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">${keys}\n<graph edgedefault="directed">\n${nodes}\n${edges}\n</graph>\n</graphml>\n`;
}
function toCSV(cy) {
  const rows = [['source_key', 'source_name', 'relation', 'target_key', 'target_name', 'citation'].join(',')];
  cy.edges(':visible').forEach((e) => rows.push([e.source().data('key'), e.source().data('label'), e.data('type'), e.target().data('key'), e.target().data('label'), e.data('cite')].map(csv).join(',')));
  return rows.join('\r\n') + '\r\n';
}
function toSVG(cy) {
  const bb = cy.elements(':visible').boundingBox();
  const pad = 40, w = bb.w + 2 * pad, hgt = bb.h + 2 * pad, ox = pad - bb.x1, oy = pad - bb.y1;
  const lines = cy.edges(':visible').map((e) => { const s = e.source().position(), d = e.target().position();
    return `<line x1="${s.x + ox}" y1="${s.y + oy}" x2="${d.x + ox}" y2="${d.y + oy}" stroke="#8a8a8a" marker-end="url(#a)"><title>${xml(e.data('label'))}</title></line>`; }).join('');
  const nodes = cy.nodes(':visible').map((n) => { const p = n.position();
    return `<g><circle cx="${p.x + ox}" cy="${p.y + oy}" r="10" fill="${n.data('colour')}"/><text x="${p.x + ox}" y="${p.y + oy + 22}" font-size="9" text-anchor="middle">${xml(n.data('label'))}</text></g>`; }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${hgt}" viewBox="0 0 ${w} ${hgt}"><defs><marker id="a" viewBox="0 0 10 10" refX="20" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#8a8a8a"/></marker></defs><rect width="100%" height="100%" fill="#fff"/>${lines}${nodes}</svg>`;
}

// linkForm lets staff link the two entities selected in the graph, with a
// relation type that the vocabulary allows for their kinds, and a citation.
function linkForm(a, b, done) {
  const wrap = h('form', { class: 'linkform', 'aria-label': t('link.title') }, h('h3', {}, t('link.title')));
  if (!a || !b) { wrap.append(h('p', {}, t('link.pick'))); return wrap; }
  const allowed = vocabulary.filter((v) => v.from.includes(a.data('kind')) && v.to.includes(b.data('kind')));
  wrap.append(h('p', {}, `${t('link.from')}: ${a.data('label')} → ${t('link.to')}: ${b.data('label')}`));
  if (!allowed.length) { wrap.append(h('p', {}, t('link.notypes'))); return wrap; }
  const typeSel = h('select', { name: 'type' }, allowed.map((v) => h('option', { value: v.type }, `${v.label} (${v.type})`)));
  const src = searchBox({ label: t('link.source'), types: ['SOURCE'], name: 'source' });
  const locator = h('input', { type: 'text', name: 'locator' });
  const quote = h('textarea', { name: 'quote', rows: 2 });
  wrap.append(field(t('link.type'), typeSel), src.el, field(t('link.locator'), locator), field(t('link.quote'), quote), h('button', { type: 'submit' }, t('link.create')));
  wrap.addEventListener('submit', async (e) => {
    e.preventDefault();
    const sources = src.input.dataset.id ? [{ source: src.input.dataset.id, locator: locator.value || null, quote: quote.value || null }] : null;
    try {
      const d = await gql('mutation($in: LinkInput!) { link(input: $in) { id label } }', { in: { from: a.id(), to: b.id(), type: typeSel.value, sources } });
      const ok = h('p', { role: 'status', class: 'ok', 'data-link-id': d.link.id }, t('link.created', d.link.label));
      wrap.append(ok);
      announce(ok.textContent);
      done();
    } catch (err) { showError(wrap, err); }
  });
  return wrap;
}

// ---------------------------------------------------------------- paths

async function viewPaths(r) {
  await relationTypes();
  const [from, to] = await Promise.all([resolveEntity(r.params.get('from')), resolveEntity(r.params.get('to'))]);
  const k = Math.min(10, Math.max(1, Number(r.params.get('k')) || 3));
  const a = searchBox({ label: t('paths.from'), value: from?.name || '', name: 'from' });
  const b = searchBox({ label: t('paths.to'), value: to?.name || '', name: 'to' });
  if (from) a.input.dataset.id = from.id;
  if (to) b.input.dataset.id = to.id;
  const kIn = h('input', { type: 'number', min: 1, max: 10, value: k, name: 'k' });
  const form = h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault();
    const f = a.input.dataset.id, g = b.input.dataset.id;
    if (f && g) location.hash = `#/paths?from=${encodeURIComponent(f)}&to=${encodeURIComponent(g)}&k=${kIn.value}`; } },
  a.el, b.el, field(t('paths.k'), kIn), h('button', { type: 'submit' }, t('paths.find')));
  main.replaceChildren(h('h1', {}, t('nav.paths')), form);
  if (!from || !to) return;
  const d = await gql(`query($f: ID!, $t: ID!, $k: Int!) { paths(from: $f, to: $t, k: $k) { length nodes { ${REF} ... on Partner { sector } } links { id type label direction node { id } sources { ${CITE} } } } }`, { f: from.id, t: to.id, k });
  if (!d.paths.length) { main.append(h('p', { role: 'status' }, t('paths.none'))); return; }
  const canvas = h('div', { class: 'cy', id: 'cy', role: 'img', 'aria-label': `${t('nav.paths')}: ${from.name} → ${to.name}`, tabindex: '0' });
  const lists = h('ol', { class: 'paths' });
  main.append(h('p', { role: 'status', class: 'count' }, `${d.paths.length}`), h('div', { class: 'graphwrap' }, canvas), lists);
  const els = new Map();
  d.paths.forEach((p) => {
    p.nodes.forEach((n) => els.set(n.id, nodeData(n, n.id === from.id || n.id === to.id)));
    p.links.forEach((l, i) => els.set(l.id, edgeData(l, p.nodes[i].id)));
  });
  const cy = makeCy(canvas, [...els.values()]);
  cleanup = () => cy.destroy();
  window.__explorerCy = cy;
  const highlight = (p) => { cy.elements().removeClass('hl'); p.nodes.forEach((n) => cy.getElementById(n.id).addClass('hl')); p.links.forEach((l) => cy.getElementById(l.id).addClass('hl')); };
  d.paths.forEach((p, i) => {
    const steps = h('ol', { class: 'steps' });
    p.links.forEach((l, j) => {
      const cites = l.sources.length ? l.sources.map((c) => `${c.source.name}${c.locator ? ', ' + c.locator : ''}${c.quote ? ': „' + c.quote + '”' : ''}`).join('; ') : t('paths.nocite');
      steps.append(h('li', {}, h('a', { href: entityHref(p.nodes[j]) }, p.nodes[j].name), ` — ${l.label} → `, h('a', { href: entityHref(p.nodes[j + 1]) }, p.nodes[j + 1].name), h('p', { class: 'cite' }, cites)));
    });
    lists.append(h('li', { class: 'path' }, h('button', { type: 'button', onclick: () => highlight(p), 'aria-label': t('paths.path', i + 1, p.length) }, t('paths.path', i + 1, p.length)), steps));
  });
  highlight(d.paths[0]);
}

// ---------------------------------------------------------------- analyses

// barChart draws a horizontal bar chart in plain SVG, with a text
// alternative: a table a screen reader reads instead of the bars.
function barChart(title, rows) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const bh = 22, w = 560, lw = 200;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${rows.length * bh + 4}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  svg.setAttribute('class', 'chart');
  rows.forEach((r, i) => {
    const y = i * bh + 2, bw = ((w - lw - 50) * r.value) / max;
    svg.insertAdjacentHTML('beforeend', `<text x="${lw - 6}" y="${y + 15}" text-anchor="end" font-size="12">${xml(r.label)}</text>`
      + `<rect x="${lw}" y="${y + 3}" width="${bw}" height="${bh - 6}" fill="${r.colour || '#1f6fb2'}"/>`
      + `<text x="${lw + bw + 4}" y="${y + 15}" font-size="12">${r.value}</text>`);
  });
  return h('figure', {}, h('figcaption', {}, title), svg,
    h('table', { class: 'sr-only' }, h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.label), h('td', {}, r.value))))));
}

async function viewAnalyses() {
  const d = await gql(`{
    byKind: aggregate(groupBy: [KIND]) { groups { key count } }
    bySector: aggregate(kind: PARTNER, groupBy: [SECTOR]) { groups { key count } }
    partnerships(first: 100) { nodes { ${REF} sectorMix { sectors missing isFull } } }
    mostConnected(first: 10) { degree node { ${REF} } } }`);
  const mix = new Map([['full', 0]]);
  const lacking = [];
  for (const p of d.partnerships.nodes) {
    if (p.sectorMix.isFull) { mix.set('full', mix.get('full') + 1); continue; }
    lacking.push(p);
    for (const s of p.sectorMix.missing) mix.set(s, (mix.get(s) || 0) + 1);
  }
  main.replaceChildren(h('h1', {}, t('nav.analyses')),
    h('div', { class: 'charts' },
      barChart(t('an.mix'), [...mix].map(([k, v]) => ({ label: k === 'full' ? t('an.full') : t('an.lacks', sectorName(k)), value: v, colour: SECTOR_COLOUR[k] || '#2e8540' }))),
      barChart(t('an.bySector'), d.bySector.groups.map((g) => ({ label: sectorName(g.key[0] || 'NONE'), value: g.count, colour: SECTOR_COLOUR[g.key[0]] }))),
      barChart(t('an.byKind'), d.byKind.groups.map((g) => ({ label: kindName(g.key[0]), value: g.count }))),
      barChart(t('an.connected'), d.mostConnected.map((m) => ({ label: m.node.name.length > 30 ? m.node.name.slice(0, 29) + '…' : m.node.name, value: m.degree, colour: '#6f4e9c' })))),
    h('section', {}, h('h2', {}, t('an.lacking')), lacking.length ? null : h('p', {}, t('an.nolack')), h('ul', {}, lacking.map((p) => h('li', {}, h('a', { href: entityHref(p) }, p.name), ` — ${t('an.lacks', p.sectorMix.missing.map(sectorName).join(', '))}`)))),
    h('section', {}, h('h2', {}, t('an.connected')), h('ol', {}, d.mostConnected.map((m) => h('li', {}, h('a', { href: entityHref(m.node) }, m.node.name), ` (${m.degree})`)))));
}

// ---------------------------------------------------------------- staff

async function viewStaff() {
  const tokenIn = h('input', { type: 'password', autocomplete: 'off', name: 'token', spellcheck: 'false' });
  const form = h('form', { class: 'controls', onsubmit: async (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, tokenIn.value.trim());
    tokenIn.value = '';
    await refreshViewer();
    if (!isStaff()) { sessionStorage.removeItem(TOKEN_KEY); await refreshViewer(); }
    render();
  } }, field(t('staff.token'), tokenIn), h('button', { type: 'submit' }, t('staff.signin')));
  const who = h('p', { role: 'status', id: 'staff-status' }, isStaff() ? t('staff.signedin', viewer.name, viewer.role) : (token() ? t('staff.bad') : t('staff.anon')));
  main.replaceChildren(h('h1', {}, t('nav.staff')), who);
  if (!isStaff()) { main.append(form); return; }
  main.append(h('p', {}, h('button', { type: 'button', onclick: () => { sessionStorage.removeItem(TOKEN_KEY); refreshViewer().then(render); } }, t('staff.signout'))));
  const lists = ['partners', 'cooperatives', 'partnerships', 'goodPractices', 'foreignExamples', 'projects', 'events', 'people', 'sources'];
  const d = await gql(`{ ${lists.map((l) => `${l}(first: 50, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { ${REF} publicationStatus updatedAt } }`).join(' ')} }`);
  const drafts = lists.flatMap((l) => d[l].nodes).filter((n) => n.publicationStatus !== 'PUBLISHED').sort((x, y) => y.updatedAt.localeCompare(x.updatedAt));
  const feedList = h('ol', { class: 'feed', 'aria-live': 'polite', id: 'feed' });
  main.append(h('section', {}, h('h2', {}, t('staff.drafts')), drafts.length
    ? h('ul', { id: 'drafts' }, drafts.map((n) => h('li', {}, h('a', { href: entityHref(n) }, n.name), ` (${kindName(n.kind)}, ${n.publicationStatus})`)))
    : h('p', {}, t('staff.nodrafts'))),
  h('section', {}, h('h2', {}, t('staff.feed')), feedList));
  feedListeners.add((c) => feedList.prepend(h('li', {}, `${new Date(c.at).toLocaleTimeString(lang)} ${c.operation} ${c.kind || c.linkType} · ${c.actor}`)));
}

// ---------------------------------------------------------------- start

const dataLangSelect = document.getElementById('data-lang');
dataLangSelect.value = dataLang;
dataLangSelect.addEventListener('change', () => {
  dataLang = dataLangSelect.value;
  localStorage.setItem(DATA_LANG_KEY, dataLang);
  render();
});
document.getElementById('lang').addEventListener('click', () => {
  lang = lang === 'pl' ? 'en' : 'pl';
  localStorage.setItem(LANG_KEY, lang);
  applyLang();
  render();
});
window.addEventListener('hashchange', render);
applyLang();
refreshViewer().finally(render);
