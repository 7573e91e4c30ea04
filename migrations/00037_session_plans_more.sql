-- More PL/pgSQL functions for the reads of the read mix that were still
-- planned at every execution behind PgBouncer in transaction mode (issue
-- 16): used only where the API's pool keeps no prepared statements
-- (PARTNERGRAPH_DB_EXEC_MODE=cache_describe), as entity_rows and link_page
-- of migration 00021 are. A PL/pgSQL function keeps the plans of its
-- statements for the life of the server session, whatever the client's
-- protocol, and PgBouncer's server connections live long; a call plans in
-- microseconds where each of these statements planned in 0.1-0.9 ms
-- (pg_stat_statements with track_planning over the read mix through
-- PgBouncer: docs/scaling.md, "PgBouncer").
--
-- Each function runs the statement the store runs where its pool
-- prepares, with the same columns in the same order and the same
-- conditions; a NULL array argument stands for a condition the statement
-- leaves out. The tests read every one both ways
-- (TestListsReadTheSameWithoutPreparedStatements and the tests next to
-- it in internal/store).

-- +goose Up
-- +goose StatementBegin
-- EntityHeads: the entity row's own fields of entities by id.
CREATE FUNCTION entity_heads(ids bigint[], statuses text[]) RETURNS TABLE (
  id bigint, kind text, key text, name text, summary text, status text, version integer,
  created_at timestamptz, updated_at timestamptz, created_by text, updated_by text, sector text
) LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT e.id, e.kind, coalesce(e.key, ''), e.name, e.summary, e.status, e.version,
      e.created_at, e.updated_at, e.created_by, e.updated_by, coalesce(e.sector, '')
    FROM entity e WHERE e.id = ANY(ids) AND e.status = ANY(statuses);
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Indicators: the indicators of cooperatives, oldest first, with their
-- citation's source when it is visible.
CREATE FUNCTION indicator_rows(ids bigint[], statuses text[]) RETURNS TABLE (
  id bigint, cooperative_id bigint, name text, value double precision, unit text, as_of date, note text,
  source_id bigint, source_key text, locator text, quote text
) LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT i.id, i.cooperative_id, i.name, i.value::float8, i.unit, i.as_of, i.note,
      src.id, coalesce(src.key, ''), i.locator, i.quote
    FROM indicator i LEFT JOIN entity src ON src.id = i.source_id AND src.status = ANY(statuses)
    WHERE i.cooperative_id = ANY(ids)
    ORDER BY i.cooperative_id, i.as_of NULLS FIRST, i.id;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- readTexts: the original languages and translations of entities, in
-- field and language order.
CREATE FUNCTION text_rows(ids bigint[], statuses text[]) RETURNS TABLE (
  id bigint, original_language text, name_language text, field text, lang text, text text,
  machine boolean, updated_by text, updated_at timestamptz, place smallint
) LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT e.id, e.original_language, coalesce(e.name_language, ''), t.field, t.lang, t.text,
      t.machine, t.updated_by, t.updated_at, t.place
    FROM entity e LEFT JOIN translation t ON t.entity_id = e.id
    WHERE e.id = ANY(ids) AND e.status = ANY(statuses)
    ORDER BY e.id, array_position(ARRAY['NAME', 'SUMMARY', 'DESCRIPTION', 'CITY'], t.field), t.place, t.lang;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- linksByKey: the links with the given (from, type, to) keys.
CREATE FUNCTION links_by_key(froms bigint[], types text[], tos bigint[]) RETURNS TABLE (
  id bigint, from_id bigint, to_id bigint, type text, role text, note text, starts_on date, ends_on date,
  version integer, created_at timestamptz, created_by text, confidence double precision
) LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT l.id, l.from_id, l.to_id, l.type, l.role, l.note, l.starts_on, l.ends_on, l.version,
      l.created_at, l.created_by, l.confidence
    FROM unnest(froms, types, tos) AS k(f, t, o)
    JOIN link l ON l.from_id = k.f AND l.type = k.t AND l.to_id = k.o;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- countTallied: the links of each entity from link_tally. types and
-- other_kinds NULL: any; direction 0 both ways, 1 outgoing, 2 incoming.
CREATE FUNCTION link_tally_counts(ids bigint[], statuses text[], types text[], other_kinds text[], direction integer)
RETURNS TABLE (id bigint, n integer) LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT x.id, coalesce((SELECT sum(t.n) FROM link_tally t WHERE t.entity_id = x.id
        AND t.other_status = ANY(statuses)
        AND (types IS NULL OR t.type = ANY(types))
        AND (other_kinds IS NULL OR t.other_kind = ANY(other_kinds))
        AND (direction = 0 OR t.outgoing = (direction = 1))), 0)::int
    FROM unnest(ids) AS x(id);
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- CountPracticePartners for the public: the kept practice_partner rows.
CREATE FUNCTION practice_partner_counts(ids bigint[]) RETURNS TABLE (practice bigint, n integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT x.practice, (SELECT count(*)::int FROM practice_partner k WHERE k.practice_id = x.practice AND k.published)
    FROM unnest(ids) AS x(practice);
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- The counters of a kind (counterSQL, counterPlan) for a filter of the
-- kind alone or of the kind and sectors (sectors NULL: any sector).
CREATE FUNCTION kind_count(kind_ text, statuses text[], sectors text[]) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
BEGIN
  RETURN (SELECT coalesce(sum(c.n), 0)::bigint FROM (TABLE entity_count UNION ALL TABLE entity_count_delta) c
    WHERE c.kind = kind_ AND c.status = ANY(statuses) AND (sectors IS NULL OR c.sector = ANY(sectors)));
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- LinkPages in link order (pageByFunction): link_page's links of each
-- node, each node's page cut to lim in the links' order.
CREATE FUNCTION link_pages(ids bigint[], out_types text[], in_types text[], statuses text[], kinds text[],
    after_id bigint, until_id bigint, lim integer, descending boolean)
RETURNS TABLE (
  id bigint, from_id bigint, to_id bigint, type text, role text, note text, starts_on date,
  ends_on date, version integer, created_at timestamptz, created_by text, confidence double precision,
  node bigint, okey text
) LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  IF descending THEN
    RETURN QUERY SELECT y.id, y.from_id, y.to_id, y.type, y.role, y.note, y.starts_on, y.ends_on,
        y.version, y.created_at, y.created_by, y.confidence, y.node, y.okey
      FROM (SELECT f.*, row_number() OVER (PARTITION BY f.node ORDER BY f.id DESC) AS rn
        FROM link_page(ids, out_types, in_types, statuses, kinds, after_id, until_id, lim, descending) f) y
      WHERE y.rn <= lim ORDER BY y.node, y.id DESC;
  ELSE
    RETURN QUERY SELECT y.id, y.from_id, y.to_id, y.type, y.role, y.note, y.starts_on, y.ends_on,
        y.version, y.created_at, y.created_by, y.confidence, y.node, y.okey
      FROM (SELECT f.*, row_number() OVER (PARTITION BY f.node ORDER BY f.id) AS rn
        FROM link_page(ids, out_types, in_types, statuses, kinds, after_id, until_id, lim, descending) f) y
      WHERE y.rn <= lim ORDER BY y.node, y.id;
  END IF;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- PracticePartnerPages for the public, a first page in name order.
CREATE FUNCTION practice_partner_first(ids bigint[], lim integer) RETURNS TABLE (practice bigint, partner_id bigint, sort_name text)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT x.practice, y.partner_id, y.sort_name FROM unnest(ids) AS x(practice)
    CROSS JOIN LATERAL (
      SELECT k.partner_id, k.sort_name FROM practice_partner k
      WHERE k.practice_id = x.practice AND k.published
      ORDER BY k.sort_name, k.partner_id LIMIT lim
    ) y;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A search's fuzzy words: whether a word's lexemes or its prefix are in
-- the vocabulary.
CREATE FUNCTION search_term_known(lexemes text[], pattern text) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
BEGIN
  RETURN EXISTS (SELECT 1 FROM search_term WHERE term = ANY(lexemes) OR term LIKE pattern);
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- completions: the terms of the vocabulary that start with each prefix,
-- in the order of prefixes.
CREATE FUNCTION search_term_completions(prefixes text[], lim integer) RETURNS TABLE (terms text[], i bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY SELECT array(SELECT term FROM search_term
      WHERE term >= x.p AND term < x.p || chr(1114111) ORDER BY term LIMIT lim), x.i
    FROM unnest(prefixes) WITH ORDINALITY AS x(p, i) ORDER BY x.i;
END
$fn$;
-- +goose StatementEnd

-- +goose StatementBegin
-- ListEntities' commonest page: the first page of a kind in name order,
-- of one sector or of any (sector_ NULL), as the ids entity_rows reads.
CREATE FUNCTION entity_name_page(kind_ text, statuses text[], sector_ text, lim integer) RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
BEGIN
  IF sector_ IS NULL THEN
    RETURN ARRAY(SELECT e.id FROM entity e WHERE e.kind = kind_ AND e.status = ANY(statuses)
      ORDER BY e.sort_name ASC, e.id ASC LIMIT lim);
  END IF;
  RETURN ARRAY(SELECT e.id FROM entity e WHERE e.kind = kind_ AND e.status = ANY(statuses) AND e.sector = sector_
    ORDER BY e.sort_name ASC, e.id ASC LIMIT lim);
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION entity_name_page(text, text[], text, integer);
DROP FUNCTION search_term_completions(text[], integer);
DROP FUNCTION search_term_known(text[], text);
DROP FUNCTION practice_partner_first(bigint[], integer);
DROP FUNCTION link_pages(bigint[], text[], text[], text[], text[], bigint, bigint, integer, boolean);
DROP FUNCTION kind_count(text, text[], text[]);
DROP FUNCTION practice_partner_counts(bigint[]);
DROP FUNCTION link_tally_counts(bigint[], text[], text[], text[], integer);
DROP FUNCTION links_by_key(bigint[], text[], bigint[]);
DROP FUNCTION text_rows(bigint[], text[]);
DROP FUNCTION indicator_rows(bigint[], text[]);
DROP FUNCTION entity_heads(bigint[], text[]);
