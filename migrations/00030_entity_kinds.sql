-- Issue 17, filters at a million entities: a partner's kind and an event's
-- kind, kept on entity as the sector is (migration 00007).
--
-- A filter on a value of the kind's table walks the kind in the list's
-- order, joining each entity to its kind's row, until a page matches. The
-- kind of a partner is written into its name ("Stowarzyszenie ...",
-- "Fundacja ...", "Spółdzielnia ..."), and so is an event's ("Wizyta
-- studyjna ...", "Szkolenie ..."), so the matches of one kind lie together
-- in name order, after most others: on the generated million-entity graph
-- 20 associations by name walked 195,467 partners (1.8 s), 20 study visits
-- 670 ms. Kept on entity and indexed with the name (and the id, for the
-- cursor), a page of one kind is one index walk. entity_full reads them
-- from entity, so the lists' conditions on the view reach the indexes;
-- entity_rows (00021) reads them from the kinds' tables, the same values.
-- Bulk loads, which skip the triggers, copy them (store.BulkLoad).
--

-- +goose Up
ALTER TABLE entity ADD COLUMN partner_kind text, ADD COLUMN event_kind text;
UPDATE entity e SET partner_kind = x.partner_kind, event_kind = x.event_kind
FROM (SELECT id, partner_kind, NULL::text AS event_kind FROM partner
      UNION ALL SELECT id, NULL, event_kind FROM event) x
WHERE x.id = e.id;
CREATE INDEX entity_kind_partner_kind_name_idx ON entity (kind, partner_kind, sort_name, id) WHERE partner_kind IS NOT NULL;
CREATE INDEX entity_kind_event_kind_name_idx ON entity (kind, event_kind, sort_name, id) WHERE event_kind IS NOT NULL;

-- The triggers that keep the kind's columns on entity fire once per
-- statement, with the statement's rows (transition tables), and replace
-- the row triggers of the sector (00007) and the country (00023): each of
-- those ran an UPDATE of entity per row, and each such UPDATE fired
-- entity's own statement triggers (graph_log_entity, the practices'
-- facets), 0.5-1.8 ms a row. On a copy of the million-entity graph an
-- UPDATE of 2,000 partners' sector, kind and country spent 5.6 s in them
-- (3.6 s the country's), 17 minutes for the 360,000 partners; one UPDATE
-- of entity per statement does it in one join. They are named to fire
-- before practice_facet_partner_update (triggers of one event fire in the
-- order of their names), which reads the partners' sectors from entity.
-- A trigger with transition tables cannot name columns (UPDATE OF), so
-- they fire on every UPDATE of the table and compare the values.
-- +goose StatementBegin
CREATE FUNCTION entity_follow_partner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE entity e SET sector = n.sector, partner_kind = n.partner_kind, country = nullif(n.country, '')
    FROM new_rows n
    WHERE e.id = n.id
      AND (e.sector, e.partner_kind, e.country) IS DISTINCT FROM (n.sector, n.partner_kind, nullif(n.country, ''));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION entity_follow_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE entity e SET event_kind = n.event_kind, country = nullif(n.country, '')
    FROM new_rows n
    WHERE e.id = n.id AND (e.event_kind, e.country) IS DISTINCT FROM (n.event_kind, nullif(n.country, ''));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION entity_follow_countries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE entity e SET country = nullif(n.country, '')
    FROM new_rows n
    WHERE e.id = n.id AND e.country IS DISTINCT FROM nullif(n.country, '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP TRIGGER partner_sector_to_entity ON partner;
DROP TRIGGER partner_country_to_entity ON partner;
DROP TRIGGER cooperative_country_to_entity ON cooperative;
DROP TRIGGER foreign_example_country_to_entity ON foreign_example;
DROP TRIGGER event_country_to_entity ON event;
CREATE TRIGGER partner_to_entity_insert AFTER INSERT ON partner REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_partner();
CREATE TRIGGER partner_to_entity_update AFTER UPDATE ON partner REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_partner();
CREATE TRIGGER event_to_entity_insert AFTER INSERT ON event REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_event();
CREATE TRIGGER event_to_entity_update AFTER UPDATE ON event REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_event();
CREATE TRIGGER cooperative_to_entity_insert AFTER INSERT ON cooperative REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_countries();
CREATE TRIGGER cooperative_to_entity_update AFTER UPDATE ON cooperative REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_countries();
CREATE TRIGGER foreign_example_to_entity_insert AFTER INSERT ON foreign_example REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_countries();
CREATE TRIGGER foreign_example_to_entity_update AFTER UPDATE ON foreign_example REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION entity_follow_countries();

CREATE OR REPLACE VIEW entity_full AS
SELECT e.id, e.kind, e.key, e.name, e.sort_name, e.summary, e.status, e.version,
       e.created_at, e.updated_at, e.created_by, e.updated_by,
       e.sector, e.partner_kind,
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
       e.event_kind, ev.event_status, coalesce(ev.venue, '') AS venue,
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
DROP TRIGGER foreign_example_to_entity_update ON foreign_example;
DROP TRIGGER foreign_example_to_entity_insert ON foreign_example;
DROP TRIGGER cooperative_to_entity_update ON cooperative;
DROP TRIGGER cooperative_to_entity_insert ON cooperative;
DROP TRIGGER event_to_entity_update ON event;
DROP TRIGGER event_to_entity_insert ON event;
DROP TRIGGER partner_to_entity_update ON partner;
DROP TRIGGER partner_to_entity_insert ON partner;
DROP FUNCTION entity_follow_countries();
DROP FUNCTION entity_follow_event();
DROP FUNCTION entity_follow_partner();
CREATE TRIGGER partner_sector_to_entity AFTER INSERT OR UPDATE OF sector ON partner
    FOR EACH ROW EXECUTE FUNCTION entity_follow_partner_sector();
CREATE TRIGGER partner_country_to_entity AFTER INSERT OR UPDATE OF country ON partner
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
CREATE TRIGGER cooperative_country_to_entity AFTER INSERT OR UPDATE OF country ON cooperative
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
CREATE TRIGGER foreign_example_country_to_entity AFTER INSERT OR UPDATE OF country ON foreign_example
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
CREATE TRIGGER event_country_to_entity AFTER INSERT OR UPDATE OF country ON event
    FOR EACH ROW EXECUTE FUNCTION entity_follow_country();
DROP INDEX entity_kind_event_kind_name_idx;
DROP INDEX entity_kind_partner_kind_name_idx;
ALTER TABLE entity DROP COLUMN event_kind, DROP COLUMN partner_kind;
