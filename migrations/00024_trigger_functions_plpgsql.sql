-- The functions that the triggers of every link write call, in PL/pgSQL
-- (issue 11: the link write at 16 clients on the reference data fell from
-- 1,305 to 538 req/s, PostgreSQL's CPU per write from 1.3 to 5.1 ms).
--
-- practice_facet_of, practice_facet_refresh (migration 00016) and
-- link_tally_add were LANGUAGE sql functions. PostgreSQL plans a SQL
-- function's statement afresh at every call, and planning was most of
-- their time: on the reference data the facet trigger of one link insert
-- took 13-28 ms, its refresh statement planning in 1-2 ms and running in
-- 0.9 ms once warm. A PL/pgSQL function's statements are planned once per
-- connection and their plans kept: the same insert then spends 0.9 ms in
-- the facet trigger and 0.15 ms in the tally's (docs/benchmarks.md, "The
-- API layer's own cost").
--
-- Each function keeps the body it has when this runs (read from pg_proc,
-- so a body changed by another migration is kept as it is), wrapped in
-- BEGIN ... END. practice_facet_refresh's "ids IS NULL OR g.id = ANY(ids)"
-- becomes two statements, one per case: the server's sessions run with
-- plan_cache_mode = force_generic_plan, and a generic plan of the OR scans
-- every practice's key (30,000 at 1M) where "g.id = ANY(ids)" probes the
-- few a write touches. A function whose body is not of the expected shape
-- is left in SQL, with a notice.

-- +goose Up
-- +goose StatementBegin
DO $conv$
DECLARE
    f record;
    body text;
    filter constant text := 'WHERE ids IS NULL OR g.id = ANY(ids)';
BEGIN
    FOR f IN
        SELECT p.proname, p.prosrc, p.provolatile,
               pg_get_function_identity_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'sql'
          AND p.proname IN ('practice_facet_of', 'practice_facet_refresh', 'link_tally_add')
    LOOP
        body := rtrim(btrim(f.prosrc, E' \n\t'), ';');
        IF f.proname = 'practice_facet_refresh' THEN
            IF position(filter IN body) = 0 OR position(filter IN substr(body, position(filter IN body) + 1)) > 0 THEN
                RAISE NOTICE 'practice_facet_refresh left in SQL: its filter is not "%"', filter;
                CONTINUE;
            END IF;
            body := 'BEGIN IF ids IS NULL THEN ' || replace(body, filter, '') || '; ELSE '
                || replace(body, filter, 'WHERE g.id = ANY(ids)') || '; END IF; END';
        ELSIF f.result = 'void' THEN
            body := 'BEGIN ' || body || '; END';
        ELSIF body ILIKE 'SELECT%' AND position(';' IN body) = 0 THEN
            body := 'BEGIN RETURN (' || body || '); END';
        ELSE
            RAISE NOTICE '% left in SQL: its body is not one SELECT', f.proname;
            CONTINUE;
        END IF;
        EXECUTE format('CREATE OR REPLACE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql %s AS %L',
            f.proname, f.args, f.result,
            CASE f.provolatile WHEN 's' THEN 'STABLE' WHEN 'i' THEN 'IMMUTABLE' ELSE 'VOLATILE' END, body);
    END LOOP;
END
$conv$;
-- +goose StatementEnd

-- +goose Down
-- The PL/pgSQL functions do what the SQL ones did; going down keeps them.
SELECT 1;
