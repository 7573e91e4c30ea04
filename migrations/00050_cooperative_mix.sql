-- The sectors of the partners around each cooperative, kept with it (issue
-- 17: `cooperatives(filter: {sectorMix: {full: true}})`, 276 ms at the
-- median at 1M). The filter computed them at every cooperative it read
-- (store.cooperativeSectors): the partners linked to it by FOUNDED, RUNS,
-- SUPPORTS or FUNDS, those it EMPLOYS_PARTICIPANTS_OF, the members of the
-- partnerships FORMED_AROUND it, and the members of the partnerships formed
-- around a project that SUPPORTS or FUNDS it (kb.CooperativePartnersIn).
-- cooperative_mix holds, per cooperative, the distinct sectors of those
-- partners as a reader sees them (the partner, and the partnership and
-- project on its path, PUBLISHED) and as staff see them (each of them
-- DRAFT, PUBLISHED or ARCHIVED), kept by the triggers below in the writing
-- transaction, as partnership_mix (migration 00047) is for partnerships:
-- the filter is one probe of its primary key a cooperative.
--
-- The sets are recomputed from the links as they are after each statement,
-- for the cooperatives a statement may have changed (cooperative_mix_of
-- finds them from a changed entity, cooperative_mix_on_link from changed
-- links). A deleted entity takes its links with it (the cascade), which the
-- link trigger sees. A cooperative with no row has no sectors.

-- +goose Up
CREATE TABLE cooperative_mix (
    id        bigint PRIMARY KEY REFERENCES cooperative (id) ON DELETE CASCADE,
    published text[] NOT NULL DEFAULT '{}',
    every     text[] NOT NULL DEFAULT '{}'
);

-- cooperative_mix_new returns the sets of the cooperatives ids as the links
-- say now (all of them when ids is null: the rebuild, a hash join over the
-- links; else index probes from each id). pub says whether the path from
-- the partner is of published entities only, any whether it is of entities
-- staff see.
-- +goose StatementBegin
CREATE FUNCTION cooperative_mix_new(ids bigint[])
RETURNS TABLE (id bigint, published text[], every text[]) LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF ids IS NULL THEN
        RETURN QUERY
        WITH x AS (
            SELECT l.to_id AS cid, l.from_id AS pid, true AS pub, true AS anyv FROM link l
            WHERE l.type IN ('FOUNDED', 'RUNS', 'SUPPORTS', 'FUNDS')
            UNION ALL
            SELECT l.from_id, l.to_id, true, true FROM link l WHERE l.type = 'EMPLOYS_PARTICIPANTS_OF'
            UNION ALL
            SELECT f.to_id, m.from_id, ps.status = 'PUBLISHED', ps.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')
            FROM link f
            JOIN entity ps ON ps.id = f.from_id
            JOIN link m ON m.to_id = f.from_id AND m.type = 'MEMBER_OF'
            WHERE f.type = 'FORMED_AROUND'
            UNION ALL
            SELECT sp.to_id, m.from_id, pr.status = 'PUBLISHED' AND ps.status = 'PUBLISHED',
                pr.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED') AND ps.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')
            FROM link sp
            JOIN entity pr ON pr.id = sp.from_id AND pr.kind = 'PROJECT'
            JOIN link f ON f.to_id = sp.from_id AND f.type = 'FORMED_AROUND'
            JOIN entity ps ON ps.id = f.from_id
            JOIN link m ON m.to_id = f.from_id AND m.type = 'MEMBER_OF'
            WHERE sp.type IN ('SUPPORTS', 'FUNDS')
        )
        SELECT x.cid,
            coalesce(array_agg(DISTINCT p.sector ORDER BY p.sector) FILTER (WHERE x.pub AND pe.status = 'PUBLISHED'), '{}'),
            coalesce(array_agg(DISTINCT p.sector ORDER BY p.sector)
                FILTER (WHERE x.anyv AND pe.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')), '{}')
        FROM x
        JOIN cooperative c ON c.id = x.cid
        JOIN partner p ON p.id = x.pid
        JOIN entity pe ON pe.id = x.pid
        GROUP BY x.cid;
    ELSE
        RETURN QUERY
        WITH x AS (
            SELECT l.to_id AS cid, l.from_id AS pid, true AS pub, true AS anyv FROM link l
            WHERE l.to_id = ANY(ids) AND l.type IN ('FOUNDED', 'RUNS', 'SUPPORTS', 'FUNDS')
            UNION ALL
            SELECT l.from_id, l.to_id, true, true FROM link l
            WHERE l.from_id = ANY(ids) AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
            UNION ALL
            SELECT f.to_id, m.from_id, ps.status = 'PUBLISHED', ps.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')
            FROM link f
            JOIN entity ps ON ps.id = f.from_id
            JOIN link m ON m.to_id = f.from_id AND m.type = 'MEMBER_OF'
            WHERE f.to_id = ANY(ids) AND f.type = 'FORMED_AROUND'
            UNION ALL
            SELECT sp.to_id, m.from_id, pr.status = 'PUBLISHED' AND ps.status = 'PUBLISHED',
                pr.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED') AND ps.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')
            FROM link sp
            JOIN entity pr ON pr.id = sp.from_id AND pr.kind = 'PROJECT'
            JOIN link f ON f.to_id = sp.from_id AND f.type = 'FORMED_AROUND'
            JOIN entity ps ON ps.id = f.from_id
            JOIN link m ON m.to_id = f.from_id AND m.type = 'MEMBER_OF'
            WHERE sp.to_id = ANY(ids) AND sp.type IN ('SUPPORTS', 'FUNDS')
        )
        SELECT c.id,
            coalesce(array_agg(DISTINCT p.sector ORDER BY p.sector) FILTER (WHERE x.pub AND pe.status = 'PUBLISHED'), '{}'),
            coalesce(array_agg(DISTINCT p.sector ORDER BY p.sector)
                FILTER (WHERE x.anyv AND pe.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')), '{}')
        FROM cooperative c
        LEFT JOIN (x JOIN partner p ON p.id = x.pid JOIN entity pe ON pe.id = x.pid) ON x.cid = c.id
        WHERE c.id = ANY(ids)
        GROUP BY c.id;
    END IF;
END
$$;
-- +goose StatementEnd

-- cooperative_mix_refresh writes the sets of the cooperatives ids (all of
-- them when ids is null); ids that are not cooperatives are ignored. Only
-- the rows that differ are written, so that a write that changes no set
-- takes no lock on the row (migration 00025). A cooperative with no
-- partner staff see has no row (published is a subset of every).
-- +goose StatementBegin
CREATE FUNCTION cooperative_mix_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        CREATE TEMP TABLE cooperative_mix_next ON COMMIT DROP AS SELECT * FROM cooperative_mix_new(NULL);
        DELETE FROM cooperative_mix cm WHERE NOT EXISTS (SELECT 1 FROM cooperative_mix_next n WHERE n.id = cm.id AND n.every <> '{}');
        INSERT INTO cooperative_mix (id, published, every)
        SELECT n.id, n.published, n.every FROM cooperative_mix_next n WHERE n.every <> '{}'
        ON CONFLICT (id) DO UPDATE SET published = EXCLUDED.published, every = EXCLUDED.every
        WHERE (cooperative_mix.published, cooperative_mix.every) IS DISTINCT FROM (EXCLUDED.published, EXCLUDED.every);
        DROP TABLE cooperative_mix_next;
    ELSE
        WITH n AS (SELECT * FROM cooperative_mix_new(ids)),
        gone AS (
            DELETE FROM cooperative_mix cm USING n
            WHERE cm.id = n.id AND n.every = '{}'
        )
        INSERT INTO cooperative_mix (id, published, every)
        SELECT n.id, n.published, n.every FROM n
        LEFT JOIN cooperative_mix cm ON cm.id = n.id
        WHERE n.every <> '{}'
          AND (cm.id IS NULL OR (cm.published, cm.every) IS DISTINCT FROM (n.published, n.every))
        ON CONFLICT (id) DO UPDATE SET published = EXCLUDED.published, every = EXCLUDED.every
        WHERE (cooperative_mix.published, cooperative_mix.every) IS DISTINCT FROM (EXCLUDED.published, EXCLUDED.every);
    END IF;
END
$$;
-- +goose StatementEnd

-- cooperative_mix_of returns the cooperatives (or other entities: the
-- refresh ignores them) whose sets may depend on the entities ids: those
-- a partner or project founded, runs, supports or funds, those that employ
-- a workshop's participants, those a partnership was formed around, or
-- around a project that supports or funds them, and those of the
-- partnerships a partner is a member of.
-- +goose StatementBegin
CREATE FUNCTION cooperative_mix_of(ids bigint[]) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    WITH ps AS (
        SELECT unnest(ids) AS id
        UNION
        SELECT m.to_id FROM link m WHERE m.from_id = ANY(ids) AND m.type = 'MEMBER_OF'
    ), around AS (
        SELECT f.to_id AS id FROM link f WHERE f.from_id IN (SELECT id FROM ps) AND f.type = 'FORMED_AROUND'
    )
    SELECT array(
        SELECT l.to_id FROM link l WHERE l.from_id = ANY(ids) AND l.type IN ('FOUNDED', 'RUNS', 'SUPPORTS', 'FUNDS')
        UNION
        SELECT l.from_id FROM link l WHERE l.to_id = ANY(ids) AND l.type = 'EMPLOYS_PARTICIPANTS_OF'
        UNION
        SELECT id FROM around
        UNION
        SELECT sp.to_id FROM link sp WHERE sp.from_id IN (SELECT id FROM around) AND sp.type IN ('SUPPORTS', 'FUNDS')
    )
$$;
-- +goose StatementEnd

-- Links made, removed or changed: the cooperatives at their ends, and
-- those of the partnerships and projects they join.
-- +goose StatementBegin
CREATE FUNCTION cooperative_mix_on_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ends bigint[];   -- cooperatives at a link's end
    joins bigint[];  -- partnerships and projects a link joins to a path
    touched bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL; -- a bulk load refreshes every cooperative at its end
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT array(SELECT to_id FROM new_rows WHERE type IN ('FOUNDED', 'RUNS', 'SUPPORTS', 'FUNDS', 'FORMED_AROUND')
                     UNION SELECT from_id FROM new_rows WHERE type = 'EMPLOYS_PARTICIPANTS_OF'),
               array(SELECT to_id FROM new_rows WHERE type IN ('FORMED_AROUND', 'MEMBER_OF'))
        INTO ends, joins;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT coalesce(ends, '{}') || array(SELECT to_id FROM old_rows WHERE type IN ('FOUNDED', 'RUNS', 'SUPPORTS', 'FUNDS', 'FORMED_AROUND')
                     UNION SELECT from_id FROM old_rows WHERE type = 'EMPLOYS_PARTICIPANTS_OF'),
               coalesce(joins, '{}') || array(SELECT to_id FROM old_rows WHERE type IN ('FORMED_AROUND', 'MEMBER_OF'))
        INTO ends, joins;
    END IF;
    IF cardinality(joins) > 0 THEN
        SELECT array(SELECT unnest(ends) UNION SELECT unnest(cooperative_mix_of(joins))) INTO touched;
    ELSE
        touched := ends;
    END IF;
    IF cardinality(touched) > 0 THEN
        PERFORM cooperative_mix_refresh(touched);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER cooperative_mix_link_insert AFTER INSERT ON link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cooperative_mix_on_link();
CREATE TRIGGER cooperative_mix_link_update AFTER UPDATE ON link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cooperative_mix_on_link();
CREATE TRIGGER cooperative_mix_link_delete AFTER DELETE ON link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cooperative_mix_on_link();

-- A partner's sector, or the status of an entity on a path (a partner, a
-- partnership, a project), changed: the cooperatives around it. Row
-- triggers whose WHEN clause PostgreSQL checks without calling them.
-- +goose StatementBegin
CREATE FUNCTION cooperative_mix_on_entity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    touched := cooperative_mix_of(ARRAY[NEW.id]);
    IF cardinality(touched) > 0 THEN
        PERFORM cooperative_mix_refresh(touched);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER cooperative_mix_partner_sector AFTER UPDATE OF sector ON partner
    FOR EACH ROW WHEN (OLD.sector IS DISTINCT FROM NEW.sector)
    EXECUTE FUNCTION cooperative_mix_on_entity();
CREATE TRIGGER cooperative_mix_status AFTER UPDATE OF status ON entity
    FOR EACH ROW WHEN (NEW.kind IN ('PARTNER', 'PARTNERSHIP', 'PROJECT') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION cooperative_mix_on_entity();

SELECT cooperative_mix_refresh(NULL);
ANALYZE cooperative_mix;

-- +goose Down
DROP TRIGGER cooperative_mix_status ON entity;
DROP TRIGGER cooperative_mix_partner_sector ON partner;
DROP FUNCTION cooperative_mix_on_entity();
DROP TRIGGER cooperative_mix_link_delete ON link;
DROP TRIGGER cooperative_mix_link_update ON link;
DROP TRIGGER cooperative_mix_link_insert ON link;
DROP FUNCTION cooperative_mix_on_link();
DROP FUNCTION cooperative_mix_of(bigint[]);
DROP FUNCTION cooperative_mix_refresh(bigint[]);
DROP FUNCTION cooperative_mix_new(bigint[]);
DROP TABLE cooperative_mix;
