-- Issue 17, the rest of the data: lists ordered by several keys
-- (docs/api.md, "Ordering").
--
-- Ordering by country: the country of an entry lives in its kind's table
-- (partner, cooperative, foreign_example, event) and reaches a list only
-- through entity_full's coalesce, which no index holds; a page of partners
-- by country and name would sort a whole kind. The country is kept on
-- entity too, as the sector is (migration 00007) and the date's sort key
-- (00015), by a trigger on each of the four tables (bulk loads, which skip
-- triggers, call entity_country_refresh), and indexed with the name:
-- orderBy [COUNTRY, NAME] is one index walk. NULL is "no country", sorted
-- after every code ('~' in the C collation, as noDate is for dates).
--
-- Ordering by date then name: the index of 00015 ends with the id, so
-- orderBy [WHEN, NAME] sorted every event of a date; this one holds both.

--
-- Map filters over wide areas: the (latitude, longitude) btree of 00015
-- answers a box with a range of latitudes, filtered by longitude: for 50 km
-- around Poznań on the generated graph with 460,000 points it read 63,000
-- entries for 8,232 points (6-9 ms) before any entity was read, then
-- fetched and sorted all 8,232 entities (80-400 ms). entity_place now
-- holds its entity's kind and the point as PostgreSQL's built-in point
-- type (no extension), with one GiST index per kind that has places,
-- holding the entity id: a box's points of one kind are an index-only
-- scan. A list reads at most store.placeIndexLimit of them; beyond, it
-- walks its own order and probes each entity's points by the primary key
-- (docs/api.md, "Places").

-- +goose Up
ALTER TABLE entity_place ADD COLUMN kind text,
    ADD COLUMN pt point GENERATED ALWAYS AS (point(longitude, latitude)) STORED;
UPDATE entity_place pl SET kind = e.kind FROM entity e WHERE e.id = pl.entity_id;
ALTER TABLE entity_place ALTER COLUMN kind SET NOT NULL;
CREATE INDEX entity_place_partner_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'PARTNER';
CREATE INDEX entity_place_cooperative_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'COOPERATIVE';
CREATE INDEX entity_place_foreign_example_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'FOREIGN_EXAMPLE';
CREATE INDEX entity_place_event_idx ON entity_place USING gist (pt) INCLUDE (entity_id) WHERE kind = 'EVENT';

-- The same as 00015's, with the kind.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_place_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text := upper(TG_TABLE_NAME);
BEGIN
    DELETE FROM entity_place WHERE entity_id = NEW.id;
    IF NEW.latitude IS NOT NULL AND NEW.longitude IS NOT NULL THEN
        INSERT INTO entity_place (entity_id, position, latitude, longitude, kind)
        VALUES (NEW.id, 0, NEW.latitude, NEW.longitude, k);
    END IF;
    IF TG_TABLE_NAME = 'event' THEN
        INSERT INTO entity_place (entity_id, position, latitude, longitude, kind)
        SELECT NEW.id, o.n::integer, (o.p->>'latitude')::double precision, (o.p->>'longitude')::double precision, k
        FROM jsonb_array_elements(NEW.other_places) WITH ORDINALITY AS o(p, n)
        WHERE o.p ? 'latitude' AND o.p ? 'longitude';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

ALTER TABLE entity ADD COLUMN country text;

-- entity_country_refresh copies every entry's country onto its entity,
-- set-based (one UPDATE per kind's table): what the migration does once and
-- a bulk load does after its COPY.
-- +goose StatementBegin
CREATE FUNCTION entity_country_refresh() RETURNS void LANGUAGE sql AS $$
    UPDATE entity e SET country = x.country
    FROM (SELECT id, nullif(country, '') AS country FROM partner
          UNION ALL SELECT id, nullif(country, '') FROM cooperative
          UNION ALL SELECT id, nullif(country, '') FROM foreign_example
          UNION ALL SELECT id, nullif(country, '') FROM event) x
    WHERE x.id = e.id AND e.country IS DISTINCT FROM x.country
$$;
-- +goose StatementEnd
SELECT entity_country_refresh();

-- +goose StatementBegin
CREATE FUNCTION entity_follow_country() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE entity SET country = nullif(NEW.country, '')
    WHERE id = NEW.id AND country IS DISTINCT FROM nullif(NEW.country, '');
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER partner_country_to_entity AFTER INSERT OR UPDATE OF country ON partner
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
CREATE TRIGGER cooperative_country_to_entity AFTER INSERT OR UPDATE OF country ON cooperative
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
CREATE TRIGGER foreign_example_country_to_entity AFTER INSERT OR UPDATE OF country ON foreign_example
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
CREATE TRIGGER event_country_to_entity AFTER INSERT OR UPDATE OF country ON event
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();

CREATE INDEX entity_kind_country_name_idx ON entity (kind, (coalesce(country, '~') COLLATE "C"), sort_name, id);
CREATE INDEX entity_kind_when_name_idx ON entity (kind, (coalesce(when_sort, '~') COLLATE "C"), sort_name, id);

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION entity_place_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM entity_place WHERE entity_id = NEW.id;
    IF NEW.latitude IS NOT NULL AND NEW.longitude IS NOT NULL THEN
        INSERT INTO entity_place VALUES (NEW.id, 0, NEW.latitude, NEW.longitude);
    END IF;
    IF TG_TABLE_NAME = 'event' THEN
        INSERT INTO entity_place
        SELECT NEW.id, o.n::integer, (o.p->>'latitude')::double precision, (o.p->>'longitude')::double precision
        FROM jsonb_array_elements(NEW.other_places) WITH ORDINALITY AS o(p, n)
        WHERE o.p ? 'latitude' AND o.p ? 'longitude';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP INDEX entity_place_event_idx;
DROP INDEX entity_place_foreign_example_idx;
DROP INDEX entity_place_cooperative_idx;
DROP INDEX entity_place_partner_idx;
ALTER TABLE entity_place DROP COLUMN pt, DROP COLUMN kind;
DROP INDEX entity_kind_when_name_idx;
DROP INDEX entity_kind_country_name_idx;
DROP TRIGGER event_country_to_entity ON event;
DROP TRIGGER foreign_example_country_to_entity ON foreign_example;
DROP TRIGGER cooperative_country_to_entity ON cooperative;
DROP TRIGGER partner_country_to_entity ON partner;
DROP FUNCTION entity_follow_country();
DROP FUNCTION entity_country_refresh();
ALTER TABLE entity DROP COLUMN country;
