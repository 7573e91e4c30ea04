-- The count of a filter of practices on their facets alone (issue 17:
-- `goodPractices(filter: {country: ["PL"], partnerSector: [PRIVATE], not:
-- {partnerSector: [PUBLIC]}}) { totalCount }`), summed instead of walked.
-- Counting scanned practice_facet up to the count's bound and probed each
-- match's status: 23,829 facet rows for 1,001 matches at 1M (11 ms at
-- the median through the API on a quiet machine). A practice's facets are
-- one of few combinations (18 at 1M: the facets are sets of three sectors
-- and the countries of its partners), so practice_facet_count holds how
-- many practices there are of each combination of countries, sectors and
-- publication status, and a filter of facets, composed with and/or/not, is
-- a condition on each combination as it is on each practice (a
-- combination is the same for all of its practices): the count is a sum
-- of a few rows, exact.
--
-- As for entity_count (migration 00009), writers never update the
-- counters: the trigger appends its changes to practice_facet_count_delta,
-- which has no key and so no conflicts, and practice_facet_count_fold()
-- moves the committed ones into the counters (store.FoldCounts, which the
-- server runs every few seconds). A count is the sum over both tables.
--
-- The status a practice counts under is kept on its facets' row
-- (practice_facet.status), so that a row deleted with its practice (the
-- cascade from entity) still says what it counted under.

-- +goose Up
ALTER TABLE practice_facet ADD COLUMN status text;
UPDATE practice_facet pf SET status = e.status FROM entity e WHERE e.id = pf.id;

CREATE TABLE practice_facet_count (
    countries text[] NOT NULL,
    sectors   text[] NOT NULL,
    status    text NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (countries, sectors, status)
);
CREATE TABLE practice_facet_count_delta (LIKE practice_facet_count INCLUDING DEFAULTS);

-- A new row of facets takes its practice's status (the practice's entity
-- is written first: good_practice references it).
-- +goose StatementBegin
CREATE FUNCTION practice_facet_status_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS NULL THEN
        SELECT status INTO NEW.status FROM entity WHERE id = NEW.id;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_status_new BEFORE INSERT ON practice_facet
    FOR EACH ROW EXECUTE FUNCTION practice_facet_status_new();

-- A practice published, unpublished or archived: its facets' row follows.
-- A row trigger whose WHEN clause PostgreSQL checks without calling it.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_status_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE practice_facet SET status = NEW.status WHERE id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_status_follow AFTER UPDATE OF status ON entity
    FOR EACH ROW WHEN (NEW.kind = 'GOOD_PRACTICE' AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION practice_facet_status_follow();

-- The counters' changes of a statement on practice_facet: its new rows
-- count on, its old rows off, grouped by combination.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_count_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO practice_facet_count_delta (countries, sectors, status, n)
    SELECT countries, sectors, status, count(*) FROM new_rows WHERE status IS NOT NULL GROUP BY 1, 2, 3;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION practice_facet_count_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO practice_facet_count_delta (countries, sectors, status, n)
    SELECT countries, sectors, status, -count(*) FROM old_rows WHERE status IS NOT NULL GROUP BY 1, 2, 3;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION practice_facet_count_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO practice_facet_count_delta (countries, sectors, status, n)
    SELECT countries, sectors, status, sum(d)::bigint FROM (
        SELECT n.countries, n.sectors, n.status, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.countries, n.sectors, n.status) IS DISTINCT FROM (o.countries, o.sectors, o.status)
          AND n.status IS NOT NULL
        UNION ALL
        SELECT o.countries, o.sectors, o.status, -1 FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.countries, n.sectors, n.status) IS DISTINCT FROM (o.countries, o.sectors, o.status)
          AND o.status IS NOT NULL
    ) c GROUP BY 1, 2, 3 HAVING sum(d) <> 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_count_insert AFTER INSERT ON practice_facet REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_count_on_insert();
CREATE TRIGGER practice_facet_count_update AFTER UPDATE ON practice_facet
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_count_on_update();
CREATE TRIGGER practice_facet_count_delete AFTER DELETE ON practice_facet REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_count_on_delete();

-- practice_facet_count_fold moves the committed changes into the counters
-- and returns how many it moved (as entity_count_fold).
-- +goose StatementBegin
CREATE FUNCTION practice_facet_count_fold() RETURNS bigint LANGUAGE sql AS $$
    WITH moved AS (DELETE FROM practice_facet_count_delta RETURNING *),
    added AS (
        INSERT INTO practice_facet_count (countries, sectors, status, n)
        SELECT countries, sectors, status, sum(n) FROM moved GROUP BY 1, 2, 3 HAVING sum(n) <> 0
        ORDER BY 1, 2, 3
        ON CONFLICT (countries, sectors, status) DO UPDATE SET n = practice_facet_count.n + excluded.n)
    SELECT count(*) FROM moved;
$$;
-- +goose StatementEnd

-- practice_facet_count_rebuild recounts from scratch: the backfill below,
-- and a step of a bulk load (store.BulkLoad), which may run with triggers
-- off, after it has refreshed the facets.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_count_rebuild() RETURNS void LANGUAGE sql AS $$
    UPDATE practice_facet pf SET status = e.status FROM entity e
        WHERE e.id = pf.id AND pf.status IS DISTINCT FROM e.status;
    LOCK TABLE practice_facet_count, practice_facet_count_delta IN EXCLUSIVE MODE;
    DELETE FROM practice_facet_count_delta;
    DELETE FROM practice_facet_count;
    INSERT INTO practice_facet_count (countries, sectors, status, n)
    SELECT countries, sectors, status, count(*) FROM practice_facet WHERE status IS NOT NULL GROUP BY 1, 2, 3;
$$;
-- +goose StatementEnd

SELECT practice_facet_count_rebuild();
ANALYZE practice_facet;

-- +goose Down
DROP FUNCTION practice_facet_count_rebuild();
DROP FUNCTION practice_facet_count_fold();
DROP TRIGGER practice_facet_count_delete ON practice_facet;
DROP TRIGGER practice_facet_count_update ON practice_facet;
DROP TRIGGER practice_facet_count_insert ON practice_facet;
DROP FUNCTION practice_facet_count_on_update();
DROP FUNCTION practice_facet_count_on_delete();
DROP FUNCTION practice_facet_count_on_insert();
DROP TRIGGER practice_facet_status_follow ON entity;
DROP FUNCTION practice_facet_status_follow();
DROP TRIGGER practice_facet_status_new ON practice_facet;
DROP FUNCTION practice_facet_status_new();
DROP TABLE practice_facet_count_delta;
DROP TABLE practice_facet_count;
ALTER TABLE practice_facet DROP COLUMN status;
