-- Staff work: API tokens with roles, contact details of people (personal
-- data, shown to staff only), a confidence on links, and the revision
-- log's reads by time.

-- +goose Up
-- An API token is stored only as the SHA-256 of its secret. The secret is
-- 32 random bytes, so a fast hash is enough: nobody can guess a preimage,
-- and a fast hash lets every request find its token by an index lookup
-- (a slow password hash would cost every request tens of milliseconds and
-- would need the token's id sent alongside).
CREATE TABLE api_token (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    role       text NOT NULL CHECK (role IN ('READER', 'EDITOR', 'ADMIN')),
    hash       bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

ALTER TABLE person ADD COLUMN email text NOT NULL DEFAULT '';
ALTER TABLE person ADD COLUMN phone text NOT NULL DEFAULT '';

-- How sure the linker is of a link, from 0 to 1, where sources disagree;
-- null when nobody has said. Double precision, so that what is written
-- reads back exactly.
ALTER TABLE link ADD COLUMN confidence double precision CHECK (confidence BETWEEN 0 AND 1);

-- The view gains the contact columns at its end (CREATE OR REPLACE VIEW may
-- only append columns).
CREATE OR REPLACE VIEW entity_full AS
SELECT e.id, e.kind, e.key, e.name, e.sort_name, e.summary, e.status, e.version,
       e.created_at, e.updated_at, e.created_by, e.updated_by,
       p.sector, p.partner_kind,
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

-- +goose Down
DROP VIEW entity_full;
ALTER TABLE link DROP COLUMN confidence;
ALTER TABLE person DROP COLUMN email, DROP COLUMN phone;
DROP TABLE api_token;
CREATE VIEW entity_full AS
SELECT e.id, e.kind, e.key, e.name, e.sort_name, e.summary, e.status, e.version,
       e.created_at, e.updated_at, e.created_by, e.updated_by,
       p.sector, p.partner_kind,
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
       coalesce(s.url, '') AS url, coalesce(s.language, '') AS language
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
