-- The graph: one row per entity in `entity`, kind-specific attributes in one
-- typed table per kind (sharing the entity's id), typed links in `link`,
-- citations of sources, dated indicators, and the revision log.
--
-- Enumerations are text with CHECK constraints rather than PostgreSQL enums:
-- adding a value is then a plain migration, and Citus treats them as any
-- other column.

-- +goose Up
-- pg_trgm serves substring matching of names; unaccent folds diacritics in
-- filters on places and topics. Both are trusted extensions shipped with
-- PostgreSQL and offered by managed services.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE entity (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('PARTNER', 'COOPERATIVE', 'PARTNERSHIP', 'GOOD_PRACTICE',
                    'FOREIGN_EXAMPLE', 'PROJECT', 'EVENT', 'PERSON', 'SOURCE')),
    -- key is the stable external identifier used by the reference data,
    -- imports and exports; entries created through the API may have none.
    key         text UNIQUE CHECK (key ~ '^[a-z0-9][a-z0-9._-]*$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    -- sort_name is the name folded to lower case without diacritics
    -- (kb.Fold): "Łężeczki" sorts as "lezeczki", in any collation.
    sort_name   text NOT NULL,
    summary     text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    updated_by  text NOT NULL
);

-- Lists are per kind, filtered by publication status and ordered by name or
-- by time, with the id as tie-breaker for keyset pagination.
CREATE INDEX entity_kind_name_idx ON entity (kind, sort_name, id);
CREATE INDEX entity_kind_created_idx ON entity (kind, created_at, id);
CREATE INDEX entity_kind_updated_idx ON entity (kind, updated_at, id);
-- Substring filters on names ("name contains, ignoring diacritics").
CREATE INDEX entity_sort_name_trgm_idx ON entity USING gin (sort_name gin_trgm_ops);

CREATE TABLE partner (
    id                  bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    sector              text NOT NULL CHECK (sector IN ('PUBLIC', 'SOCIAL', 'PRIVATE')),
    partner_kind        text NOT NULL,
    legal_form          text NOT NULL DEFAULT '',
    country             text NOT NULL DEFAULT '',
    region              text NOT NULL DEFAULT '',
    city                text NOT NULL DEFAULT '',
    website             text NOT NULL DEFAULT '',
    registration_number text NOT NULL DEFAULT ''
);
CREATE INDEX partner_sector_idx ON partner (sector);

CREATE TABLE cooperative (
    id                  bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    coop_status         text NOT NULL,
    activities          text[] NOT NULL DEFAULT '{}',
    country             text NOT NULL DEFAULT '',
    region              text NOT NULL DEFAULT '',
    city                text NOT NULL DEFAULT '',
    founded_on          date,
    website             text NOT NULL DEFAULT '',
    registration_number text NOT NULL DEFAULT ''
);
CREATE INDEX cooperative_activities_idx ON cooperative USING gin (activities);

CREATE TABLE partnership (
    id        bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    starts_on date,
    ends_on   date
);

CREATE TABLE good_practice (
    id                 bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    description        text NOT NULL DEFAULT '',
    topics             text[] NOT NULL DEFAULT '{}',
    target_group       text NOT NULL DEFAULT '',
    resources_needed   text NOT NULL DEFAULT '',
    evidence           text NOT NULL DEFAULT '',
    difficulties       text NOT NULL DEFAULT '',
    lessons            text NOT NULL DEFAULT '',
    transfer_potential text NOT NULL DEFAULT '',
    recognition        text NOT NULL DEFAULT ''
);
CREATE INDEX good_practice_topics_idx ON good_practice USING gin (topics);

CREATE TABLE foreign_example (
    id                 bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    country            text NOT NULL DEFAULT '',
    region             text NOT NULL DEFAULT '',
    city               text NOT NULL DEFAULT '',
    model              text NOT NULL DEFAULT '',
    target_group       text NOT NULL DEFAULT '',
    lessons_for_poland text NOT NULL DEFAULT '',
    home_analogue      text NOT NULL DEFAULT '',
    website            text NOT NULL DEFAULT ''
);

CREATE TABLE project (
    id        bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    starts_on date,
    ends_on   date,
    funding   text NOT NULL DEFAULT '',
    website   text NOT NULL DEFAULT ''
);

CREATE TABLE event (
    id           bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    event_kind   text NOT NULL,
    event_status text NOT NULL,
    starts_on    date,
    ends_on      date,
    country      text NOT NULL DEFAULT '',
    region       text NOT NULL DEFAULT '',
    city         text NOT NULL DEFAULT '',
    venue        text NOT NULL DEFAULT ''
);

CREATE TABLE person (
    id          bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    public_role text NOT NULL DEFAULT ''
);

CREATE TABLE source (
    id           bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    source_kind  text NOT NULL,
    publisher    text NOT NULL DEFAULT '',
    published_on date,
    url          text NOT NULL DEFAULT '',
    language     text NOT NULL DEFAULT ''
);

-- One table for every typed link. A link is read from both ends, so it is
-- indexed both ways: the unique key serves reads from the source end, and
-- link_to_idx reads from the target end.
CREATE TABLE link (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_id    bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    to_id      bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    type       text NOT NULL,
    role       text NOT NULL DEFAULT '',
    note       text NOT NULL DEFAULT '',
    starts_on  date,
    ends_on    date,
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    CONSTRAINT link_not_self CHECK (from_id <> to_id),
    CONSTRAINT link_unique UNIQUE (from_id, type, to_id)
);
CREATE INDEX link_to_idx ON link (to_id, type, from_id);

-- A citation supports exactly one entity or one link with a source (itself
-- an entity of kind SOURCE), a locator (page, paragraph) and a quote.
CREATE TABLE citation (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id bigint REFERENCES entity (id) ON DELETE CASCADE,
    link_id   bigint REFERENCES link (id) ON DELETE CASCADE,
    source_id bigint NOT NULL REFERENCES entity (id) ON DELETE RESTRICT,
    locator   text NOT NULL DEFAULT '',
    quote     text NOT NULL DEFAULT '',
    CONSTRAINT citation_one_subject CHECK (num_nonnulls(entity_id, link_id) = 1)
);
-- Several quotes may cite one page of one source, so these are not unique.
CREATE INDEX citation_entity_idx ON citation (entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX citation_link_idx ON citation (link_id) WHERE link_id IS NOT NULL;
CREATE INDEX citation_source_idx ON citation (source_id);

-- Indicators of a cooperative change over time; each is dated (when the
-- source gives a date) and cites its source.
CREATE TABLE indicator (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cooperative_id bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    name           text NOT NULL,
    value          numeric NOT NULL CHECK (value >= 0),
    unit           text NOT NULL DEFAULT '',
    as_of          date,
    note           text NOT NULL DEFAULT '',
    source_id      bigint REFERENCES entity (id) ON DELETE RESTRICT,
    locator        text NOT NULL DEFAULT '',
    quote          text NOT NULL DEFAULT ''
);
-- One value per indicator, date and source; NULLS NOT DISTINCT so that an
-- undated value is unique too.
CREATE UNIQUE INDEX indicator_unique_idx ON indicator (cooperative_id, name, as_of, source_id) NULLS NOT DISTINCT;

-- The revision log, written in the same transaction as every change.
CREATE TABLE revision (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    operation text NOT NULL,
    entity_id bigint,
    link_id   bigint,
    before    jsonb,
    after     jsonb
);
CREATE INDEX revision_entity_idx ON revision (entity_id, id) WHERE entity_id IS NOT NULL;
CREATE INDEX revision_link_idx ON revision (link_id, id) WHERE link_id IS NOT NULL;

-- entity_full is an entity with the attributes of its kind, one row each:
-- the shape in which the store reads entities. Columns that several kinds
-- share (place, period, web site) are merged.
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

-- +goose Down
DROP VIEW entity_full;
DROP TABLE revision, indicator, citation, link, source, person, event, project,
    foreign_example, good_practice, partnership, cooperative, partner, entity;
