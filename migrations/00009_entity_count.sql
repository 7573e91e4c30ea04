-- Counts of the root lists in milliseconds (issue 11): `totalCount` of a
-- list of partners, cooperatives, … under the filters on kind, publication
-- status, sector, partner kind, country, cooperative status, event kind and
-- status, source kind and language used to count the matching rows of
-- entity_full: 100 ms for the 120,000 cooperatives of the generated
-- million-entity graph. entity_count holds how many entities there are of
-- each combination of these values, kept by triggers in the same
-- transaction as each write, so a count is the sum of a few rows: exact,
-- and as fresh as the reader's snapshot. docs/api.md ("Counts") describes
-- what the API does with it.
--
-- Columns that do not apply to a kind hold '' (a cooperative has no
-- sector), so that every column is NOT NULL and part of the primary key.
--
-- Hot rows: a counter updated by a transaction is locked until it
-- commits, and updating one row many times in one transaction makes a
-- chain of row versions that each update walks (an import of 10,000
-- partners of one kind slowed down quadratically). So writers never update
-- counters: the triggers append their changes to entity_count_delta, which
-- has no key and so no conflicts, and entity_count_fold() moves committed
-- changes into entity_count from time to time (the server every few
-- seconds, store.FoldCounts). A count is the sum over both tables.

-- +goose Up
CREATE TABLE entity_count (
    kind         text NOT NULL,
    status       text NOT NULL,
    sector       text NOT NULL DEFAULT '',
    partner_kind text NOT NULL DEFAULT '',
    country      text NOT NULL DEFAULT '',
    coop_status  text NOT NULL DEFAULT '',
    event_kind   text NOT NULL DEFAULT '',
    event_status text NOT NULL DEFAULT '',
    source_kind  text NOT NULL DEFAULT '',
    language     text NOT NULL DEFAULT '',
    n            bigint NOT NULL,
    PRIMARY KEY (kind, status, sector, partner_kind, country, coop_status, event_kind, event_status,
        source_kind, language)
);

-- Changes not yet folded into entity_count, one row per trigger call and
-- combination, appended only.
CREATE TABLE entity_count_delta (LIKE entity_count INCLUDING DEFAULTS);

-- entity_count_attrs is the counted attributes of every entity that has
-- its kind's row, read from the kinds' tables (one branch per table, so a
-- lookup by id reaches each table's primary key).
CREATE VIEW entity_count_attrs AS
SELECT id, sector, partner_kind, country, '' AS coop_status, '' AS event_kind, '' AS event_status,
       '' AS source_kind, '' AS language FROM partner
UNION ALL SELECT id, '', '', country, coop_status, '', '', '', '' FROM cooperative
UNION ALL SELECT id, '', '', '', '', '', '', '', '' FROM partnership
UNION ALL SELECT id, '', '', '', '', '', '', '', '' FROM good_practice
UNION ALL SELECT id, '', '', country, '', '', '', '', '' FROM foreign_example
UNION ALL SELECT id, '', '', '', '', '', '', '', '' FROM project
UNION ALL SELECT id, '', '', country, '', event_kind, event_status, '', '' FROM event
UNION ALL SELECT id, '', '', '', '', '', '', '', '' FROM person
UNION ALL SELECT id, '', '', '', '', '', '', source_kind, language FROM source;

-- entity_count_rebuild recounts every entity from scratch: the backfill of
-- this migration, and the last step of a bulk load (store.BulkLoad), which
-- runs with triggers off when it may. It locks the counters against
-- concurrent triggers for the rest of the transaction. One grouped read per
-- kind's table rather than one over entity_count_attrs: the planner cannot
-- estimate groups over the view's constant columns, expected 900,000 and
-- sorted a million rows on disk (7 s at 1M).
-- +goose StatementBegin
CREATE FUNCTION entity_count_rebuild() RETURNS void LANGUAGE sql AS $$
    LOCK TABLE entity_count, entity_count_delta IN EXCLUSIVE MODE;
    DELETE FROM entity_count_delta;
    DELETE FROM entity_count;
    INSERT INTO entity_count (kind, status, sector, partner_kind, country, coop_status, event_kind,
        event_status, source_kind, language, n)
    SELECT e.kind, e.status, t.sector, t.partner_kind, t.country, '', '', '', '', '', count(*)
        FROM partner t JOIN entity e ON e.id = t.id GROUP BY 1, 2, 3, 4, 5
    UNION ALL SELECT e.kind, e.status, '', '', t.country, t.coop_status, '', '', '', '', count(*)
        FROM cooperative t JOIN entity e ON e.id = t.id GROUP BY 1, 2, 5, 6
    UNION ALL SELECT e.kind, e.status, '', '', '', '', '', '', '', '', count(*)
        FROM partnership t JOIN entity e ON e.id = t.id GROUP BY 1, 2
    UNION ALL SELECT e.kind, e.status, '', '', '', '', '', '', '', '', count(*)
        FROM good_practice t JOIN entity e ON e.id = t.id GROUP BY 1, 2
    UNION ALL SELECT e.kind, e.status, '', '', t.country, '', '', '', '', '', count(*)
        FROM foreign_example t JOIN entity e ON e.id = t.id GROUP BY 1, 2, 5
    UNION ALL SELECT e.kind, e.status, '', '', '', '', '', '', '', '', count(*)
        FROM project t JOIN entity e ON e.id = t.id GROUP BY 1, 2
    UNION ALL SELECT e.kind, e.status, '', '', t.country, '', t.event_kind, t.event_status, '', '', count(*)
        FROM event t JOIN entity e ON e.id = t.id GROUP BY 1, 2, 5, 7, 8
    UNION ALL SELECT e.kind, e.status, '', '', '', '', '', '', '', '', count(*)
        FROM person t JOIN entity e ON e.id = t.id GROUP BY 1, 2
    UNION ALL SELECT e.kind, e.status, '', '', '', '', '', '', t.source_kind, t.language, count(*)
        FROM source t JOIN entity e ON e.id = t.id GROUP BY 1, 2, 9, 10;
$$;
-- +goose StatementEnd

-- entity_count_<table>() keeps the counters when rows of a kind's table
-- are inserted, updated or deleted (the statement's transition tables
-- new_rows and old_rows, whichever exist): each row counts with the
-- status of its entity. A kind row deleted with its entity finds no
-- entity here; entity_count_entity_delete has counted it off already.
-- One function per table, written out by the loop below, with static SQL:
-- PL/pgSQL keeps the plans of static statements, while one function for
-- all tables through EXECUTE planned its statement on every call (2.5 ms
-- a write at 1M).
-- +goose StatementBegin
DO $do$
DECLARE
    t text;
    attrs text;
    upsert text := 'INSERT INTO entity_count_delta (kind, status, sector, partner_kind, country, coop_status,
            event_kind, event_status, source_kind, language, n)
        SELECT k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, sum(delta)
        FROM (%s) AS x (k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, delta)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING sum(delta) <> 0';
    plus text := 'SELECT e.kind, e.status, %s, 1 FROM new_rows r JOIN entity e ON e.id = r.id';
    minus text := 'SELECT e.kind, e.status, %s, -1 FROM old_rows r JOIN entity e ON e.id = r.id';
BEGIN
    FOREACH t IN ARRAY ARRAY['partner', 'cooperative', 'partnership', 'good_practice', 'foreign_example',
        'project', 'event', 'person', 'source'] LOOP
        attrs := CASE t
            WHEN 'partner' THEN $a$r.sector, r.partner_kind, r.country, '', '', '', '', ''$a$
            WHEN 'cooperative' THEN $a$'', '', r.country, r.coop_status, '', '', '', ''$a$
            WHEN 'foreign_example' THEN $a$'', '', r.country, '', '', '', '', ''$a$
            WHEN 'event' THEN $a$'', '', r.country, '', r.event_kind, r.event_status, '', ''$a$
            WHEN 'source' THEN $a$'', '', '', '', '', '', r.source_kind, r.language$a$
            ELSE $a$'', '', '', '', '', '', '', ''$a$
        END;
        EXECUTE format($f$
            CREATE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    %s;
                ELSIF TG_OP = 'DELETE' THEN
                    %s;
                ELSE
                    %s;
                END IF;
                RETURN NULL;
            END
            $body$$f$, 'entity_count_' || t,
            format(upsert, format(plus, attrs)),
            format(upsert, format(minus, attrs)),
            format(upsert, format(plus, attrs) || ' UNION ALL ' || format(minus, attrs)));
    END LOOP;
END
$do$;
-- +goose StatementEnd

-- entity_count_entity_update moves an entity whose status (or, in
-- principle, kind) changed from one counter to another. A row trigger
-- whose WHEN clause PostgreSQL checks without calling it: the other updates
-- of entity (a name, the version, the sector a partner's trigger copies)
-- cost nothing, and a status changes one entry at a time.
-- +goose StatementBegin
CREATE FUNCTION entity_count_entity_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_count_delta (kind, status, sector, partner_kind, country, coop_status, event_kind,
        event_status, source_kind, language, n)
    SELECT NEW.kind, NEW.status, a.sector, a.partner_kind, a.country, a.coop_status, a.event_kind,
        a.event_status, a.source_kind, a.language, 1
    FROM entity_count_attrs a WHERE a.id = NEW.id
    UNION ALL
    SELECT OLD.kind, OLD.status, a.sector, a.partner_kind, a.country, a.coop_status, a.event_kind,
        a.event_status, a.source_kind, a.language, -1
    FROM entity_count_attrs a WHERE a.id = OLD.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- entity_count_entity_delete counts off an entity about to be deleted,
-- while its kind's row is still there to say what it counted under (after
-- the delete, the cascade has removed it). A row trigger: entities are
-- deleted one at a time (DeleteEntity); a bulk delete pays one upsert each.
-- +goose StatementBegin
CREATE FUNCTION entity_count_entity_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entity_count_delta (kind, status, sector, partner_kind, country, coop_status, event_kind,
        event_status, source_kind, language, n)
    SELECT OLD.kind, OLD.status, a.sector, a.partner_kind, a.country, a.coop_status, a.event_kind,
        a.event_status, a.source_kind, a.language, -1
    FROM entity_count_attrs a WHERE a.id = OLD.id;
    RETURN OLD;
END
$$;
-- +goose StatementEnd

-- entity_count_fold moves the committed changes into the counters and
-- returns how many it moved. Concurrent folds are safe: each change is
-- deleted, and so added, by one of them; they add in key order.
-- +goose StatementBegin
CREATE FUNCTION entity_count_fold() RETURNS bigint LANGUAGE sql AS $$
    WITH moved AS (DELETE FROM entity_count_delta RETURNING *),
    added AS (
        INSERT INTO entity_count (kind, status, sector, partner_kind, country, coop_status, event_kind,
            event_status, source_kind, language, n)
        SELECT kind, status, sector, partner_kind, country, coop_status, event_kind, event_status,
            source_kind, language, sum(n)
        FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING sum(n) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        ON CONFLICT (kind, status, sector, partner_kind, country, coop_status, event_kind, event_status,
            source_kind, language) DO UPDATE SET n = entity_count.n + excluded.n)
    SELECT count(*) FROM moved;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION entity_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_count_delta;
    DELETE FROM entity_count;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER entity_count_update AFTER UPDATE OF status, kind ON entity
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION entity_count_entity_update();
CREATE TRIGGER entity_count_delete BEFORE DELETE ON entity
    FOR EACH ROW EXECUTE FUNCTION entity_count_entity_delete();
CREATE TRIGGER entity_count_truncate AFTER TRUNCATE ON entity
    FOR EACH STATEMENT EXECUTE FUNCTION entity_count_truncate();

-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['partner', 'cooperative', 'partnership', 'good_practice', 'foreign_example',
        'project', 'event', 'person', 'source'] LOOP
        EXECUTE format('CREATE TRIGGER entity_count_insert AFTER INSERT ON %I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', t, 'entity_count_' || t);
        EXECUTE format('CREATE TRIGGER entity_count_update AFTER UPDATE ON %I
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %I()', t, 'entity_count_' || t);
        EXECUTE format('CREATE TRIGGER entity_count_delete AFTER DELETE ON %I
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', t, 'entity_count_' || t);
    END LOOP;
END
$$;
-- +goose StatementEnd

SELECT entity_count_rebuild();

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['partner', 'cooperative', 'partnership', 'good_practice', 'foreign_example',
        'project', 'event', 'person', 'source'] LOOP
        EXECUTE format('DROP TRIGGER entity_count_insert ON %I', t);
        EXECUTE format('DROP TRIGGER entity_count_update ON %I', t);
        EXECUTE format('DROP TRIGGER entity_count_delete ON %I', t);
        EXECUTE format('DROP FUNCTION %I()', 'entity_count_' || t);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP TRIGGER entity_count_update ON entity;
DROP TRIGGER entity_count_delete ON entity;
DROP TRIGGER entity_count_truncate ON entity;
DROP FUNCTION entity_count_truncate(), entity_count_entity_delete(), entity_count_entity_update(),
    entity_count_fold(), entity_count_rebuild();
DROP VIEW entity_count_attrs;
DROP TABLE entity_count_delta, entity_count;
