-- practice_facet_refresh writes only the practices whose facets changed
-- (issue 11: the link write at 16 clients on the reference data).
--
-- The refresh ended in INSERT ... ON CONFLICT DO UPDATE ... WHERE the
-- facets differ. PostgreSQL locks the conflicting row even when that
-- WHERE is false, so every link write that touched a practice's cases or
-- partners took the practice's row lock until its commit, whether or not
-- a facet changed: on the reference data, where 16 writers link around
-- six practices, the writers queued on those rows (pg_stat_activity:
-- waiting on a tuple lock of practice_facet; docs/benchmarks.md, "The API
-- layer's own cost").
--
-- Now the new facets are compared with the stored ones by a plain read,
-- which locks nothing, and only the rows that differ (or are missing) go
-- to the upsert. The lock bought no consistency before either: each
-- writer computes the facets from its own snapshot before it reaches the
-- row, so two writers that change one practice's facets at once could
-- already leave the facets of either; they still can, as before (both
-- runs are then followed by the next write of that practice, or by
-- practice_facet_refresh(NULL)).
--
-- The two statements per call keep migration 00024's split: a generic
-- plan of "ids IS NULL OR g.id = ANY(ids)" reads every practice.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION practice_facet_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        WITH n AS (
            SELECT g.id, f.countries, f.sectors
            FROM good_practice g
            CROSS JOIN LATERAL (
                WITH cases AS (
                    SELECT d.from_id AS id FROM link d
                    JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
                    WHERE d.to_id = g.id AND d.type = 'DEMONSTRATES'
                    ORDER BY d.id LIMIT 100
                ), partners AS (
                    SELECT p.id, p.sector FROM (
                        SELECT id FROM cases
                        UNION
                        SELECT l.from_id FROM cases c JOIN link l ON l.to_id = c.id
                            AND l.type IN ('FOUNDED', 'LEADS', 'RUNS', 'FUNDS', 'SUPPORTS', 'ORGANIZED',
                                           'MEMBER_OF', 'PARTNER_IN')
                        UNION
                        SELECT l.to_id FROM cases c JOIN link l ON l.from_id = c.id AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
                    ) b
                    JOIN entity p ON p.id = b.id AND p.kind = 'PARTNER' AND p.status = 'PUBLISHED'
                )
                SELECT
                    array(SELECT DISTINCT x.country FROM (
                        SELECT country FROM partner WHERE id IN (SELECT id FROM partners)
                        UNION ALL SELECT country FROM cooperative WHERE id IN (SELECT id FROM cases)
                        UNION ALL SELECT country FROM foreign_example WHERE id IN (SELECT id FROM cases)
                        UNION ALL SELECT country FROM event WHERE id IN (SELECT id FROM cases)
                    ) x WHERE x.country <> '' ORDER BY 1) AS countries,
                    array(SELECT DISTINCT sector FROM partners WHERE sector IS NOT NULL ORDER BY 1) AS sectors
            ) f
        )
        INSERT INTO practice_facet (id, countries, sectors)
        SELECT n.id, n.countries, n.sectors FROM n
        LEFT JOIN practice_facet pf ON pf.id = n.id
        WHERE pf.id IS NULL OR (pf.countries, pf.sectors) IS DISTINCT FROM (n.countries, n.sectors)
        ON CONFLICT (id) DO UPDATE SET countries = EXCLUDED.countries, sectors = EXCLUDED.sectors
        WHERE (practice_facet.countries, practice_facet.sectors) IS DISTINCT FROM (EXCLUDED.countries, EXCLUDED.sectors);
    ELSE
        WITH n AS (
            SELECT g.id, f.countries, f.sectors
            FROM good_practice g
            CROSS JOIN LATERAL (
                WITH cases AS (
                    SELECT d.from_id AS id FROM link d
                    JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
                    WHERE d.to_id = g.id AND d.type = 'DEMONSTRATES'
                    ORDER BY d.id LIMIT 100
                ), partners AS (
                    SELECT p.id, p.sector FROM (
                        SELECT id FROM cases
                        UNION
                        SELECT l.from_id FROM cases c JOIN link l ON l.to_id = c.id
                            AND l.type IN ('FOUNDED', 'LEADS', 'RUNS', 'FUNDS', 'SUPPORTS', 'ORGANIZED',
                                           'MEMBER_OF', 'PARTNER_IN')
                        UNION
                        SELECT l.to_id FROM cases c JOIN link l ON l.from_id = c.id AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
                    ) b
                    JOIN entity p ON p.id = b.id AND p.kind = 'PARTNER' AND p.status = 'PUBLISHED'
                )
                SELECT
                    array(SELECT DISTINCT x.country FROM (
                        SELECT country FROM partner WHERE id IN (SELECT id FROM partners)
                        UNION ALL SELECT country FROM cooperative WHERE id IN (SELECT id FROM cases)
                        UNION ALL SELECT country FROM foreign_example WHERE id IN (SELECT id FROM cases)
                        UNION ALL SELECT country FROM event WHERE id IN (SELECT id FROM cases)
                    ) x WHERE x.country <> '' ORDER BY 1) AS countries,
                    array(SELECT DISTINCT sector FROM partners WHERE sector IS NOT NULL ORDER BY 1) AS sectors
            ) f
            WHERE g.id = ANY(ids)
        )
        INSERT INTO practice_facet (id, countries, sectors)
        SELECT n.id, n.countries, n.sectors FROM n
        LEFT JOIN practice_facet pf ON pf.id = n.id
        WHERE pf.id IS NULL OR (pf.countries, pf.sectors) IS DISTINCT FROM (n.countries, n.sectors)
        ON CONFLICT (id) DO UPDATE SET countries = EXCLUDED.countries, sectors = EXCLUDED.sectors
        WHERE (practice_facet.countries, practice_facet.sectors) IS DISTINCT FROM (EXCLUDED.countries, EXCLUDED.sectors);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- The upsert of migration 00024, which locks every practice it is given.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION practice_facet_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        INSERT INTO practice_facet (id, countries, sectors)
    SELECT g.id, f.countries, f.sectors
    FROM good_practice g
    CROSS JOIN LATERAL (
        WITH cases AS (
            SELECT d.from_id AS id FROM link d
            JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
            WHERE d.to_id = g.id AND d.type = 'DEMONSTRATES'
            ORDER BY d.id LIMIT 100
        ), partners AS (
            SELECT p.id, p.sector FROM (
                SELECT id FROM cases
                UNION
                SELECT l.from_id FROM cases c JOIN link l ON l.to_id = c.id
                    AND l.type IN ('FOUNDED', 'LEADS', 'RUNS', 'FUNDS', 'SUPPORTS', 'ORGANIZED',
                                   'MEMBER_OF', 'PARTNER_IN')
                UNION
                SELECT l.to_id FROM cases c JOIN link l ON l.from_id = c.id AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
            ) b
            JOIN entity p ON p.id = b.id AND p.kind = 'PARTNER' AND p.status = 'PUBLISHED'
        )
        SELECT
            array(SELECT DISTINCT x.country FROM (
                SELECT country FROM partner WHERE id IN (SELECT id FROM partners)
                UNION ALL SELECT country FROM cooperative WHERE id IN (SELECT id FROM cases)
                UNION ALL SELECT country FROM foreign_example WHERE id IN (SELECT id FROM cases)
                UNION ALL SELECT country FROM event WHERE id IN (SELECT id FROM cases)
            ) x WHERE x.country <> '' ORDER BY 1) AS countries,
            array(SELECT DISTINCT sector FROM partners WHERE sector IS NOT NULL ORDER BY 1) AS sectors
    ) f
        ON CONFLICT (id) DO UPDATE SET countries = EXCLUDED.countries, sectors = EXCLUDED.sectors
        WHERE (practice_facet.countries, practice_facet.sectors) IS DISTINCT FROM (EXCLUDED.countries, EXCLUDED.sectors);
    ELSE
        INSERT INTO practice_facet (id, countries, sectors)
    SELECT g.id, f.countries, f.sectors
    FROM good_practice g
    CROSS JOIN LATERAL (
        WITH cases AS (
            SELECT d.from_id AS id FROM link d
            JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
            WHERE d.to_id = g.id AND d.type = 'DEMONSTRATES'
            ORDER BY d.id LIMIT 100
        ), partners AS (
            SELECT p.id, p.sector FROM (
                SELECT id FROM cases
                UNION
                SELECT l.from_id FROM cases c JOIN link l ON l.to_id = c.id
                    AND l.type IN ('FOUNDED', 'LEADS', 'RUNS', 'FUNDS', 'SUPPORTS', 'ORGANIZED',
                                   'MEMBER_OF', 'PARTNER_IN')
                UNION
                SELECT l.to_id FROM cases c JOIN link l ON l.from_id = c.id AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
            ) b
            JOIN entity p ON p.id = b.id AND p.kind = 'PARTNER' AND p.status = 'PUBLISHED'
        )
        SELECT
            array(SELECT DISTINCT x.country FROM (
                SELECT country FROM partner WHERE id IN (SELECT id FROM partners)
                UNION ALL SELECT country FROM cooperative WHERE id IN (SELECT id FROM cases)
                UNION ALL SELECT country FROM foreign_example WHERE id IN (SELECT id FROM cases)
                UNION ALL SELECT country FROM event WHERE id IN (SELECT id FROM cases)
            ) x WHERE x.country <> '' ORDER BY 1) AS countries,
            array(SELECT DISTINCT sector FROM partners WHERE sector IS NOT NULL ORDER BY 1) AS sectors
    ) f
        WHERE g.id = ANY(ids)
        ON CONFLICT (id) DO UPDATE SET countries = EXCLUDED.countries, sectors = EXCLUDED.sectors
        WHERE (practice_facet.countries, practice_facet.sectors) IS DISTINCT FROM (EXCLUDED.countries, EXCLUDED.sectors);
    END IF;
END
$$;
-- +goose StatementEnd
