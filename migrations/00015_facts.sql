-- Issue 17, the facts: dates as precise as the sources know them, places
-- on a map, logos (docs/api.md, "Dates" and "Places").
--
-- Dates: an event's `when` and a source's `published` are EDTF strings
-- (kb.FuzzyDate: "XXXX-09-17" is 17 September of an unknown year,
-- "a/b" an interval). starts_on/ends_on and published_on stay, kept in step
-- by the store: the first and last day when the year is known, NULL when
-- it is not. when_sort is kb.FuzzyDate.SortKey, text that orders known
-- years by day and unknown years after them by month and day; the dates
-- already stored become EDTF days or intervals of days.
--
-- Places: an optional postal address and a WGS 84 point on every kind that
-- has a place, and an event's further places (other_places, a JSON array of
-- kb.Place). entity_place holds one row per point, whatever the kind and
-- however many places an event has, kept by triggers so that every way of
-- writing (the store, COPY of partnergraph generate) fills it; the map
-- filters `near` and `within` are a range scan of its (latitude, longitude)
-- btree, with no extension beyond those of migration 00001 (the embedded
-- server ships contrib, but cube/earthdistance would add a dependency for
-- no gain at the sizes of a map's box).

-- +goose Up
ALTER TABLE partner ADD COLUMN address text NOT NULL DEFAULT '',
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN logo_url text NOT NULL DEFAULT '';
ALTER TABLE cooperative ADD COLUMN address text NOT NULL DEFAULT '',
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN logo_url text NOT NULL DEFAULT '';
ALTER TABLE foreign_example ADD COLUMN address text NOT NULL DEFAULT '',
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN logo_url text NOT NULL DEFAULT '';
ALTER TABLE project ADD COLUMN logo_url text NOT NULL DEFAULT '';
ALTER TABLE event ADD COLUMN address text NOT NULL DEFAULT '',
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD COLUMN when_edtf text NOT NULL DEFAULT '',
    ADD COLUMN when_sort text,
    ADD COLUMN other_places jsonb NOT NULL DEFAULT '[]';
ALTER TABLE source ADD COLUMN published_edtf text NOT NULL DEFAULT '';

UPDATE event SET when_edtf = CASE WHEN ends_on IS NULL OR ends_on = starts_on THEN to_char(starts_on, 'YYYY-MM-DD')
        ELSE to_char(starts_on, 'YYYY-MM-DD') || '/' || to_char(ends_on, 'YYYY-MM-DD') END,
    when_sort = to_char(starts_on, 'YYYY-MM-DD')
    WHERE starts_on IS NOT NULL;
UPDATE source SET published_edtf = to_char(published_on, 'YYYY-MM-DD') WHERE published_on IS NOT NULL;

-- A timeline (orderBy WHEN) and the date filters (startsAfter,
-- startsBefore) read when_sort. Read from event through entity_full, the
-- sort of the 80,000 events of the generated graph took 0.6-1.2 s a page
-- and a narrow date range ordered by name 2-4.6 s; kept on entity (as the
-- sector is, migration 00007) by a trigger, with an index per kind, both
-- are index range scans.
ALTER TABLE entity ADD COLUMN when_sort text;
UPDATE entity e SET when_sort = ev.when_sort FROM event ev WHERE ev.id = e.id AND ev.when_sort IS NOT NULL;
CREATE INDEX entity_kind_when_idx ON entity (kind, (coalesce(when_sort, '~') COLLATE "C"), id);
-- +goose StatementBegin
CREATE FUNCTION entity_follow_event_when() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE entity SET when_sort = NEW.when_sort WHERE id = NEW.id AND when_sort IS DISTINCT FROM NEW.when_sort;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER event_when_to_entity AFTER INSERT OR UPDATE OF when_sort ON event
    FOR EACH ROW EXECUTE FUNCTION entity_follow_event_when();

CREATE TABLE entity_place (
    entity_id bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    latitude  double precision NOT NULL,
    longitude double precision NOT NULL,
    PRIMARY KEY (entity_id, position)
);
CREATE INDEX entity_place_point_idx ON entity_place (latitude, longitude, entity_id);

-- +goose StatementBegin
CREATE FUNCTION entity_place_follow() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER partner_place AFTER INSERT OR UPDATE ON partner FOR EACH ROW EXECUTE FUNCTION entity_place_follow();
CREATE TRIGGER cooperative_place AFTER INSERT OR UPDATE ON cooperative FOR EACH ROW EXECUTE FUNCTION entity_place_follow();
CREATE TRIGGER foreign_example_place AFTER INSERT OR UPDATE ON foreign_example FOR EACH ROW EXECUTE FUNCTION entity_place_follow();
CREATE TRIGGER event_place AFTER INSERT OR UPDATE ON event FOR EACH ROW EXECUTE FUNCTION entity_place_follow();

CREATE OR REPLACE VIEW entity_full AS
SELECT e.id, e.kind, e.key, e.name, e.sort_name, e.summary, e.status, e.version,
       e.created_at, e.updated_at, e.created_by, e.updated_by,
       e.sector, p.partner_kind,
       coalesce(p.legal_form, '') AS legal_form,
       coalesce(p.country, c.country, f.country, ev.country, '') AS country,
       coalesce(p.region, c.region, f.region, ev.region, '') AS region,
       coalesce(p.city, c.city, f.city, ev.city, '') AS city,
       coalesce(p.website, c.website, f.website, pr.website, '') AS website,
       coalesce(p.registration_number, c.registration_number, '') AS registration_number,
       c.coop_status, coalesce(c.activities, '{}') AS activities, c.founded_on,
       coalesce(ps.starts_on, pr.starts_on, ev.starts_on) AS starts_on,
       coalesce(ps.ends_on, pr.ends_on, ev.ends_on) AS ends_on,
       coalesce(g.description, '') AS description, coalesce(g.topics, '{}') AS topics,
       coalesce(g.target_group, f.target_group, '') AS target_group,
       coalesce(g.resources_needed, '') AS resources_needed, coalesce(g.evidence, '') AS evidence,
       coalesce(g.difficulties, '') AS difficulties, coalesce(g.lessons, '') AS lessons,
       coalesce(g.transfer_potential, '') AS transfer_potential, coalesce(g.recognition, '') AS recognition,
       coalesce(f.model, '') AS model, coalesce(f.lessons_for_poland, '') AS lessons_for_poland,
       coalesce(f.home_analogue, '') AS home_analogue,
       coalesce(pr.funding, '') AS funding,
       ev.event_kind, ev.event_status, coalesce(ev.venue, '') AS venue,
       coalesce(pe.public_role, '') AS public_role,
       s.source_kind, coalesce(s.publisher, '') AS publisher, s.published_on,
       coalesce(s.url, '') AS url, coalesce(s.language, '') AS language,
       coalesce(pe.email, '') AS email, coalesce(pe.phone, '') AS phone,
       coalesce(p.address, c.address, f.address, ev.address, '') AS address,
       coalesce(p.latitude, c.latitude, f.latitude, ev.latitude) AS latitude,
       coalesce(p.longitude, c.longitude, f.longitude, ev.longitude) AS longitude,
       coalesce(p.logo_url, c.logo_url, f.logo_url, pr.logo_url, '') AS logo_url,
       coalesce(ev.when_edtf, '') AS when_edtf, e.when_sort,
       coalesce(ev.other_places, '[]'::jsonb) AS other_places,
       coalesce(s.published_edtf, '') AS published_edtf
FROM entity e
LEFT JOIN partner p ON p.id = e.id
LEFT JOIN cooperative c ON c.id = e.id
LEFT JOIN partnership ps ON ps.id = e.id
LEFT JOIN good_practice g ON g.id = e.id
LEFT JOIN foreign_example f ON f.id = e.id
LEFT JOIN project pr ON pr.id = e.id
LEFT JOIN event ev ON ev.id = e.id
LEFT JOIN person pe ON pe.id = e.id
LEFT JOIN source s ON s.id = e.id;

-- +goose Down
DROP VIEW entity_full;
CREATE VIEW entity_full AS
SELECT e.id, e.kind, e.key, e.name, e.sort_name, e.summary, e.status, e.version,
       e.created_at, e.updated_at, e.created_by, e.updated_by,
       e.sector, p.partner_kind,
       coalesce(p.legal_form, '') AS legal_form,
       coalesce(p.country, c.country, f.country, ev.country, '') AS country,
       coalesce(p.region, c.region, f.region, ev.region, '') AS region,
       coalesce(p.city, c.city, f.city, ev.city, '') AS city,
       coalesce(p.website, c.website, f.website, pr.website, '') AS website,
       coalesce(p.registration_number, c.registration_number, '') AS registration_number,
       c.coop_status, coalesce(c.activities, '{}') AS activities, c.founded_on,
       coalesce(ps.starts_on, pr.starts_on, ev.starts_on) AS starts_on,
       coalesce(ps.ends_on, pr.ends_on, ev.ends_on) AS ends_on,
       coalesce(g.description, '') AS description, coalesce(g.topics, '{}') AS topics,
       coalesce(g.target_group, f.target_group, '') AS target_group,
       coalesce(g.resources_needed, '') AS resources_needed, coalesce(g.evidence, '') AS evidence,
       coalesce(g.difficulties, '') AS difficulties, coalesce(g.lessons, '') AS lessons,
       coalesce(g.transfer_potential, '') AS transfer_potential, coalesce(g.recognition, '') AS recognition,
       coalesce(f.model, '') AS model, coalesce(f.lessons_for_poland, '') AS lessons_for_poland,
       coalesce(f.home_analogue, '') AS home_analogue,
       coalesce(pr.funding, '') AS funding,
       ev.event_kind, ev.event_status, coalesce(ev.venue, '') AS venue,
       coalesce(pe.public_role, '') AS public_role,
       s.source_kind, coalesce(s.publisher, '') AS publisher, s.published_on,
       coalesce(s.url, '') AS url, coalesce(s.language, '') AS language,
       coalesce(pe.email, '') AS email, coalesce(pe.phone, '') AS phone
FROM entity e
LEFT JOIN partner p ON p.id = e.id
LEFT JOIN cooperative c ON c.id = e.id
LEFT JOIN partnership ps ON ps.id = e.id
LEFT JOIN good_practice g ON g.id = e.id
LEFT JOIN foreign_example f ON f.id = e.id
LEFT JOIN project pr ON pr.id = e.id
LEFT JOIN event ev ON ev.id = e.id
LEFT JOIN person pe ON pe.id = e.id
LEFT JOIN source s ON s.id = e.id;
DROP TRIGGER event_place ON event;
DROP TRIGGER foreign_example_place ON foreign_example;
DROP TRIGGER cooperative_place ON cooperative;
DROP TRIGGER partner_place ON partner;
DROP FUNCTION entity_place_follow();
DROP TABLE entity_place;
DROP TRIGGER event_when_to_entity ON event;
DROP FUNCTION entity_follow_event_when();
DROP INDEX entity_kind_when_idx;
ALTER TABLE entity DROP COLUMN when_sort;
ALTER TABLE source DROP COLUMN published_edtf;
ALTER TABLE event DROP COLUMN address, DROP COLUMN latitude, DROP COLUMN longitude, DROP COLUMN when_edtf,
    DROP COLUMN when_sort, DROP COLUMN other_places;
ALTER TABLE project DROP COLUMN logo_url;
ALTER TABLE foreign_example DROP COLUMN address, DROP COLUMN latitude, DROP COLUMN longitude, DROP COLUMN logo_url;
ALTER TABLE cooperative DROP COLUMN address, DROP COLUMN latitude, DROP COLUMN longitude, DROP COLUMN logo_url;
ALTER TABLE partner DROP COLUMN address, DROP COLUMN latitude, DROP COLUMN longitude, DROP COLUMN logo_url;
