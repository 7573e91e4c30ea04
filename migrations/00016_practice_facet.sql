-- Good practices filtered by country and by the sectors of the partners
-- behind them (issue 17). A practice has neither: both come from its
-- cases (the entries that DEMONSTRATE it) and the partners behind those
-- cases (kb.PracticeCaseBackersIn/Out), two hops away, and on the
-- generated million-entity graph a practice has thousands of cases. Found
-- at query time, a page of practices "in SE, backed by a private partner"
-- would walk every practice's cases and their backers. They are kept
-- instead in practice_facet, one row per practice, by the triggers below,
-- in the writing transaction, and a filter is one GIN probe or one
-- primary-key probe per practice read in name order.
--
-- A practice's facets are taken from the same partners GoodPractice.partners
-- lists (store.PracticePartners): the partners behind its first 100 cases
-- (store.PracticeCap) in link order, published ones only, so that a
-- practice found by a filter shows, on its page, the partners that made it
-- match, and a draft never decides what a reader's filter returns.
-- countries: the countries of those cases and partners; sectors: the
-- sectors of those partners.
--
-- The relation types are the values of kb.PracticeCaseBackersIn and Out,
-- in the spelling of migration 00014.

-- +goose Up
CREATE TABLE practice_facet (
    id        bigint PRIMARY KEY REFERENCES good_practice (id) ON DELETE CASCADE,
    countries text[] NOT NULL DEFAULT '{}',
    sectors   text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX practice_facet_countries_idx ON practice_facet USING gin (countries);
CREATE INDEX practice_facet_sectors_idx ON practice_facet USING gin (sectors);

-- practice_facet_refresh recomputes the facets of the practices ids (all
-- of them when ids is null). Ids that are not practices are ignored.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $$
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
    WHERE ids IS NULL OR g.id = ANY(ids)
    ON CONFLICT (id) DO UPDATE SET countries = EXCLUDED.countries, sectors = EXCLUDED.sectors
    WHERE (practice_facet.countries, practice_facet.sectors) IS DISTINCT FROM (EXCLUDED.countries, EXCLUDED.sectors)
$$;
-- +goose StatementEnd

-- practice_facet_of returns the practices whose facets may depend on the
-- entities ids: those they demonstrate (as a case), and those of the cases
-- they back (as a partner).
-- +goose StatementBegin
CREATE FUNCTION practice_facet_of(ids bigint[]) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT array(
        SELECT d.to_id FROM link d WHERE d.from_id = ANY(ids) AND d.type = 'DEMONSTRATES'
        UNION
        SELECT d.to_id FROM link l JOIN link d ON d.from_id = l.to_id AND d.type = 'DEMONSTRATES'
        WHERE l.from_id = ANY(ids) AND l.type IN ('FOUNDED', 'LEADS', 'RUNS', 'FUNDS', 'SUPPORTS', 'ORGANIZED',
            'MEMBER_OF', 'PARTNER_IN')
        UNION
        SELECT d.to_id FROM link l JOIN link d ON d.from_id = l.from_id AND d.type = 'DEMONSTRATES'
        WHERE l.to_id = ANY(ids) AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
    )
$$;
-- +goose StatementEnd

-- A new practice starts with empty facets, so that a filter that asks for
-- none (not: {country: ...}) still finds it.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_on_practice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO practice_facet (id) SELECT id FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_insert AFTER INSERT ON good_practice REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_practice();

-- A link made, removed or changed: the practice it makes a case of, and the
-- practices of the case it backs. One statement, not one row: a bulk load
-- refreshes each practice once.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_on_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL; -- a bulk load refreshes every practice at its end
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array(SELECT to_id FROM new_rows WHERE type = 'DEMONSTRATES'
                     UNION SELECT unnest(practice_facet_of(array(SELECT from_id FROM new_rows)))) INTO touched;
    ELSIF TG_OP = 'DELETE' THEN
        -- The removed links are gone: the practices of their ends are what
        -- remains to refresh.
        SELECT array(SELECT to_id FROM old_rows WHERE type = 'DEMONSTRATES'
                     UNION SELECT unnest(practice_facet_of(array(SELECT from_id FROM old_rows
                                                                 UNION SELECT to_id FROM old_rows)))) INTO touched;
    ELSE
        SELECT array(SELECT to_id FROM new_rows WHERE type = 'DEMONSTRATES'
                     UNION SELECT to_id FROM old_rows WHERE type = 'DEMONSTRATES'
                     UNION SELECT unnest(practice_facet_of(array(SELECT from_id FROM new_rows
                                                                 UNION SELECT to_id FROM new_rows)))) INTO touched;
    END IF;
    IF cardinality(touched) > 0 THEN
        PERFORM practice_facet_refresh(touched);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_link_insert AFTER INSERT ON link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_link();
CREATE TRIGGER practice_facet_link_update AFTER UPDATE ON link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_link();
CREATE TRIGGER practice_facet_link_delete AFTER DELETE ON link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_link();

-- An entry published, unpublished or archived: it may enter or leave the
-- cases and partners a practice's facets come from.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_on_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL; -- a bulk load refreshes every practice at its end
    END IF;
    SELECT array(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE n.status IS DISTINCT FROM o.status) INTO changed;
    IF cardinality(changed) > 0 THEN
        PERFORM practice_facet_refresh(practice_facet_of(changed));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_entity_update AFTER UPDATE ON entity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_status();

-- A partner's sector or country, or the country of a case, changed.
-- +goose StatementBegin
CREATE FUNCTION practice_facet_on_place() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL; -- a bulk load refreshes every practice at its end
    END IF;
    IF TG_TABLE_NAME = 'partner' THEN
        SELECT array(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                     WHERE (n.sector, n.country) IS DISTINCT FROM (o.sector, o.country)) INTO changed;
    ELSE
        SELECT array(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                     WHERE n.country IS DISTINCT FROM o.country) INTO changed;
    END IF;
    IF cardinality(changed) > 0 THEN
        PERFORM practice_facet_refresh(practice_facet_of(changed));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_facet_partner_update AFTER UPDATE ON partner REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_place();
CREATE TRIGGER practice_facet_cooperative_update AFTER UPDATE ON cooperative REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_place();
CREATE TRIGGER practice_facet_foreign_example_update AFTER UPDATE ON foreign_example REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_place();
CREATE TRIGGER practice_facet_event_update AFTER UPDATE ON event REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_facet_on_place();

SELECT practice_facet_refresh(NULL);
ANALYZE practice_facet;

-- +goose Down
DROP TRIGGER practice_facet_event_update ON event;
DROP TRIGGER practice_facet_foreign_example_update ON foreign_example;
DROP TRIGGER practice_facet_cooperative_update ON cooperative;
DROP TRIGGER practice_facet_partner_update ON partner;
DROP FUNCTION practice_facet_on_place();
DROP TRIGGER practice_facet_entity_update ON entity;
DROP FUNCTION practice_facet_on_status();
DROP TRIGGER practice_facet_link_delete ON link;
DROP TRIGGER practice_facet_link_update ON link;
DROP TRIGGER practice_facet_link_insert ON link;
DROP FUNCTION practice_facet_on_link();
DROP TRIGGER practice_facet_insert ON good_practice;
DROP FUNCTION practice_facet_on_practice();
DROP FUNCTION practice_facet_of(bigint[]);
DROP FUNCTION practice_facet_refresh(bigint[]);
DROP TABLE practice_facet;
