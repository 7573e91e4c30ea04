-- practice_facet_refresh of given practices computes their facets in one
-- set-based statement (issue 17: the slow partner update). It computed
-- each practice's facets in a lateral subquery of its own, CTEs and all:
-- some 8 ms a practice, so that a sector change of a hub partner at 1M,
-- around 4,506 practices, took 35.8 s in the trigger
-- practice_facet_partner_update (EXPLAIN ANALYZE on a copy, load 11).
-- Here the cases of all the practices (the first 100 published ones of
-- each, by link id, as before: row_number over the practice), their
-- backers, and the countries are read once for all of them with hash
-- joins. The facets are the same: the migration's check compares both
-- computations over every practice (store tests: the facet property test).
-- The refresh of all practices (ids null: migrations and bulk loads) and
-- of up to 200 (a link write: 30-60 ms for 8 practices at 1M, where the
-- set-based statement took 250 ms) are unchanged: the former function,
-- renamed practice_facet_refresh_each, does them.

-- +goose Up
ALTER FUNCTION practice_facet_refresh(bigint[]) RENAME TO practice_facet_refresh_each;

-- +goose StatementBegin
CREATE FUNCTION practice_facet_compute(ids bigint[])
RETURNS TABLE (id bigint, countries text[], sectors text[]) LANGUAGE sql STABLE AS $$
    WITH cases AS (
        SELECT x.g, x.cid FROM (
            SELECT d.to_id AS g, d.from_id AS cid, row_number() OVER (PARTITION BY d.to_id ORDER BY d.id) AS rn
            FROM link d
            JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
            WHERE d.to_id = ANY(ids) AND d.type = 'DEMONSTRATES'
        ) x WHERE x.rn <= 100
    ), backers AS (
        SELECT g, cid AS pid FROM cases
        UNION
        SELECT c.g, l.from_id FROM cases c JOIN link l ON l.to_id = c.cid
            AND l.type IN ('FOUNDED', 'LEADS', 'RUNS', 'FUNDS', 'SUPPORTS', 'ORGANIZED', 'MEMBER_OF', 'PARTNER_IN')
        UNION
        SELECT c.g, l.to_id FROM cases c JOIN link l ON l.from_id = c.cid AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
    ), partners AS (
        SELECT b.g, p.id AS pid, pp.sector, pp.country FROM backers b
        JOIN entity p ON p.id = b.pid AND p.kind = 'PARTNER' AND p.status = 'PUBLISHED'
        JOIN partner pp ON pp.id = p.id
    ), countries AS (
        SELECT g, country FROM partners
        UNION
        SELECT c.g, x.country FROM cases c JOIN cooperative x ON x.id = c.cid
        UNION
        SELECT c.g, x.country FROM cases c JOIN foreign_example x ON x.id = c.cid
        UNION
        SELECT c.g, x.country FROM cases c JOIN event x ON x.id = c.cid
    )
    SELECT gp.id, coalesce(cc.countries, '{}'), coalesce(ss.sectors, '{}')
    FROM good_practice gp
    LEFT JOIN (
        SELECT g, array_agg(DISTINCT country ORDER BY country) AS countries FROM countries WHERE country <> '' GROUP BY g
    ) cc ON cc.g = gp.id
    LEFT JOIN (
        SELECT g, array_agg(DISTINCT sector ORDER BY sector) AS sectors FROM partners WHERE sector IS NOT NULL GROUP BY g
    ) ss ON ss.g = gp.id
    WHERE gp.id = ANY(ids)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION practice_facet_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        PERFORM practice_facet_refresh_each(NULL);
    ELSIF cardinality(ids) <= 200 THEN
        PERFORM practice_facet_refresh_each(ids);
    ELSE
        INSERT INTO practice_facet (id, countries, sectors)
        SELECT n.id, n.countries, n.sectors FROM practice_facet_compute(ids) n
        LEFT JOIN practice_facet pf ON pf.id = n.id
        WHERE pf.id IS NULL OR (pf.countries, pf.sectors) IS DISTINCT FROM (n.countries, n.sectors)
        ON CONFLICT (id) DO UPDATE SET countries = EXCLUDED.countries, sectors = EXCLUDED.sectors
        WHERE (practice_facet.countries, practice_facet.sectors) IS DISTINCT FROM (EXCLUDED.countries, EXCLUDED.sectors);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION practice_facet_refresh(bigint[]);
DROP FUNCTION practice_facet_compute(bigint[]);
ALTER FUNCTION practice_facet_refresh_each(bigint[]) RENAME TO practice_facet_refresh;
