-- +goose NO TRANSACTION
-- The map points carry what a map filter's count checks (issue 17:
-- `partners(filter: {near: {lat: 52.41, lon: 16.93, radiusKm: 50},
-- sector: [PRIVATE]}) { totalCount }`). Over a wide area the count walks
-- the area's points through the kind's GiST index and probed, by key,
-- each point's entity for its status and sector: 3,868 points and 15,585
-- buffers for the 1,001 private partners it counts around Poznań at 1M
-- (22 ms at the median through the API on a quiet machine). Each point now
-- holds its entity's publication status and sector (a partner's; null for
-- the other kinds), and the GiST indexes of the kinds include them, so
-- the count is an index-only scan that probes nothing. The events' index
-- includes the point's position too: a point at position 0 is its event's
-- first, and the count needs no probe for an earlier place in the area.
--
-- Kept by triggers: a point written takes them from its entity (written
-- first: entity_place references it); an entity whose status or sector
-- changes passes them to its points. A bulk load that runs with triggers
-- off writes them itself (store.fillPlaces).
--
-- Without a transaction, so that the table rewritten by the backfill is
-- vacuumed at its end (an index-only scan reads the heap of every page the
-- visibility map does not mark all-visible). Each statement may be run
-- again: a migration stopped halfway is finished by running it again.

-- +goose Up
ALTER TABLE entity_place ADD COLUMN IF NOT EXISTS status text, ADD COLUMN IF NOT EXISTS sector text;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_place_attrs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.status, e.sector INTO NEW.status, NEW.sector FROM entity e WHERE e.id = NEW.entity_id;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
DROP TRIGGER IF EXISTS entity_place_attrs ON entity_place;
CREATE TRIGGER entity_place_attrs BEFORE INSERT OR UPDATE OF entity_id ON entity_place
    FOR EACH ROW EXECUTE FUNCTION entity_place_attrs();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_place_follow_entity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE entity_place SET status = NEW.status, sector = NEW.sector
    WHERE entity_id = NEW.id AND (status, sector) IS DISTINCT FROM (NEW.status, NEW.sector);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP TRIGGER IF EXISTS entity_place_follow_entity ON entity;
CREATE TRIGGER entity_place_follow_entity AFTER UPDATE OF status, sector ON entity
    FOR EACH ROW WHEN ((OLD.status, OLD.sector) IS DISTINCT FROM (NEW.status, NEW.sector)
        AND NEW.kind IN ('PARTNER', 'COOPERATIVE', 'FOREIGN_EXAMPLE', 'EVENT'))
    EXECUTE FUNCTION entity_place_follow_entity();

UPDATE entity_place pl SET status = e.status, sector = e.sector FROM entity e
    WHERE e.id = pl.entity_id AND (pl.status, pl.sector) IS DISTINCT FROM (e.status, e.sector);

DROP INDEX IF EXISTS entity_place_partner_attrs_idx;
CREATE INDEX entity_place_partner_attrs_idx ON entity_place USING gist (pt) INCLUDE (entity_id, status, sector) WHERE kind = 'PARTNER';
DROP INDEX IF EXISTS entity_place_partner_idx;
DROP INDEX IF EXISTS entity_place_cooperative_attrs_idx;
CREATE INDEX entity_place_cooperative_attrs_idx ON entity_place USING gist (pt) INCLUDE (entity_id, status) WHERE kind = 'COOPERATIVE';
DROP INDEX IF EXISTS entity_place_cooperative_idx;
DROP INDEX IF EXISTS entity_place_foreign_example_attrs_idx;
CREATE INDEX entity_place_foreign_example_attrs_idx ON entity_place USING gist (pt) INCLUDE (entity_id, status) WHERE kind = 'FOREIGN_EXAMPLE';
DROP INDEX IF EXISTS entity_place_foreign_example_idx;
DROP INDEX IF EXISTS entity_place_event_attrs_idx;
CREATE INDEX entity_place_event_attrs_idx ON entity_place USING gist (pt) INCLUDE (entity_id, status, position) WHERE kind = 'EVENT';
DROP INDEX IF EXISTS entity_place_event_idx;

VACUUM (ANALYZE) entity_place;

-- +goose Down
CREATE INDEX IF NOT EXISTS entity_place_partner_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'PARTNER';
CREATE INDEX IF NOT EXISTS entity_place_cooperative_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'COOPERATIVE';
CREATE INDEX IF NOT EXISTS entity_place_foreign_example_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'FOREIGN_EXAMPLE';
CREATE INDEX IF NOT EXISTS entity_place_event_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'EVENT';
DROP INDEX IF EXISTS entity_place_partner_attrs_idx;
DROP INDEX IF EXISTS entity_place_cooperative_attrs_idx;
DROP INDEX IF EXISTS entity_place_foreign_example_attrs_idx;
DROP INDEX IF EXISTS entity_place_event_attrs_idx;
DROP TRIGGER IF EXISTS entity_place_follow_entity ON entity;
DROP FUNCTION IF EXISTS entity_place_follow_entity();
DROP TRIGGER IF EXISTS entity_place_attrs ON entity_place;
DROP FUNCTION IF EXISTS entity_place_attrs();
ALTER TABLE entity_place DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS sector;
