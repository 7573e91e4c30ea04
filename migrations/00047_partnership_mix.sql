-- The sectors of each partnership's members, kept with it (issue 17:
-- `partnerships(filter: {sectorMix: {full: true}})`). The filter computed
-- them at every partnership it read, from its MEMBER_OF links, their
-- partners and the partners' entities (store.partnershipSectors): a page
-- with its totalCount read some 1,700 partnerships' members at 1M (40 ms
-- at the median through the API on a quiet machine). partnership_mix holds,
-- per partnership, the distinct sectors of its published members (what
-- readers see) and of all its members (what staff see), kept by the
-- triggers below in the writing transaction; the filter is one probe of
-- its primary key a partnership.
--
-- The sets are recomputed from the links and partners as they are after
-- each statement (as practice_facet_refresh does), for the partnerships a
-- statement may have changed: those at the end of a MEMBER_OF link made,
-- removed or changed; those of a partner whose sector or status changed.
-- A partner deleted takes its links with it (the cascade), which the link
-- trigger sees. A partnership with no row (none before its first member)
-- has no sectors, as the computed set of no members was empty.

-- +goose Up
CREATE TABLE partnership_mix (
    id        bigint PRIMARY KEY REFERENCES partnership (id) ON DELETE CASCADE,
    published text[] NOT NULL DEFAULT '{}',
    every     text[] NOT NULL DEFAULT '{}'
);

-- partnership_mix_refresh recomputes the sets of the partnerships ids (all
-- of them when ids is null). Ids that are not partnerships are ignored.
-- Only the rows that differ are written, so that a link write that changes
-- no set takes no lock on the row (migration 00025).
-- +goose StatementBegin
CREATE FUNCTION partnership_mix_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL THEN
        CREATE TEMP TABLE partnership_mix_new ON COMMIT DROP AS
        SELECT l.to_id AS id,
            coalesce(array_agg(DISTINCT p.sector ORDER BY p.sector) FILTER (WHERE m.status = 'PUBLISHED'), '{}') AS published,
            array_agg(DISTINCT p.sector ORDER BY p.sector) AS every
        FROM link l
        JOIN partnership ps ON ps.id = l.to_id
        JOIN partner p ON p.id = l.from_id
        JOIN entity m ON m.id = l.from_id AND m.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')
        WHERE l.type = 'MEMBER_OF'
        GROUP BY l.to_id;
        DELETE FROM partnership_mix pm WHERE NOT EXISTS (SELECT 1 FROM partnership_mix_new n WHERE n.id = pm.id);
        INSERT INTO partnership_mix (id, published, every)
        SELECT id, published, every FROM partnership_mix_new
        ON CONFLICT (id) DO UPDATE SET published = EXCLUDED.published, every = EXCLUDED.every
        WHERE (partnership_mix.published, partnership_mix.every) IS DISTINCT FROM (EXCLUDED.published, EXCLUDED.every);
        DROP TABLE partnership_mix_new;
    ELSE
        WITH n AS (
            SELECT ps.id,
                ARRAY(SELECT DISTINCT p.sector FROM link l
                    JOIN partner p ON p.id = l.from_id
                    JOIN entity m ON m.id = l.from_id AND m.status = 'PUBLISHED'
                    WHERE l.to_id = ps.id AND l.type = 'MEMBER_OF' ORDER BY 1) AS published,
                ARRAY(SELECT DISTINCT p.sector FROM link l
                    JOIN partner p ON p.id = l.from_id
                    JOIN entity m ON m.id = l.from_id AND m.status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')
                    WHERE l.to_id = ps.id AND l.type = 'MEMBER_OF' ORDER BY 1) AS every
            FROM partnership ps WHERE ps.id = ANY(ids)
        )
        INSERT INTO partnership_mix (id, published, every)
        SELECT n.id, n.published, n.every FROM n
        LEFT JOIN partnership_mix pm ON pm.id = n.id
        WHERE (pm.id IS NULL AND n.every <> '{}')
           OR (pm.published, pm.every) IS DISTINCT FROM (n.published, n.every)
        ON CONFLICT (id) DO UPDATE SET published = EXCLUDED.published, every = EXCLUDED.every
        WHERE (partnership_mix.published, partnership_mix.every) IS DISTINCT FROM (EXCLUDED.published, EXCLUDED.every);
    END IF;
END
$$;
-- +goose StatementEnd

-- A MEMBER_OF link made, removed or changed: the partnerships at its end.
-- +goose StatementBegin
CREATE FUNCTION partnership_mix_on_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL; -- a bulk load refreshes every partnership at its end
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array(SELECT DISTINCT to_id FROM new_rows WHERE type = 'MEMBER_OF') INTO touched;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array(SELECT DISTINCT to_id FROM old_rows WHERE type = 'MEMBER_OF') INTO touched;
    ELSE
        SELECT array(SELECT to_id FROM new_rows WHERE type = 'MEMBER_OF'
                     UNION SELECT to_id FROM old_rows WHERE type = 'MEMBER_OF') INTO touched;
    END IF;
    IF cardinality(touched) > 0 THEN
        PERFORM partnership_mix_refresh(touched);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER partnership_mix_link_insert AFTER INSERT ON link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION partnership_mix_on_link();
CREATE TRIGGER partnership_mix_link_update AFTER UPDATE ON link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION partnership_mix_on_link();
CREATE TRIGGER partnership_mix_link_delete AFTER DELETE ON link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION partnership_mix_on_link();

-- A partner's sector or its entity's status changed: the partnerships it
-- is a member of. Row triggers whose WHEN clause PostgreSQL checks
-- without calling them: other updates cost nothing.
-- +goose StatementBegin
CREATE FUNCTION partnership_mix_on_member() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT array(SELECT l.to_id FROM link l WHERE l.from_id = NEW.id AND l.type = 'MEMBER_OF') INTO touched;
    IF cardinality(touched) > 0 THEN
        PERFORM partnership_mix_refresh(touched);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER partnership_mix_partner_sector AFTER UPDATE OF sector ON partner
    FOR EACH ROW WHEN (OLD.sector IS DISTINCT FROM NEW.sector)
    EXECUTE FUNCTION partnership_mix_on_member();
CREATE TRIGGER partnership_mix_partner_status AFTER UPDATE OF status ON entity
    FOR EACH ROW WHEN (NEW.kind = 'PARTNER' AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION partnership_mix_on_member();

SELECT partnership_mix_refresh(NULL);
ANALYZE partnership_mix;

-- +goose Down
DROP TRIGGER partnership_mix_partner_status ON entity;
DROP TRIGGER partnership_mix_partner_sector ON partner;
DROP FUNCTION partnership_mix_on_member();
DROP TRIGGER partnership_mix_link_delete ON link;
DROP TRIGGER partnership_mix_link_update ON link;
DROP TRIGGER partnership_mix_link_insert ON link;
DROP FUNCTION partnership_mix_on_link();
DROP FUNCTION partnership_mix_refresh(bigint[]);
DROP TABLE partnership_mix;
