-- The partners behind a good practice, kept (issue 11's front page at a
-- million entities). The rule (kb: the partners that demonstrate the
-- practice and the partners behind one of its first 100 published cases,
-- through the relations of practice_backer) read, for each practice of a
-- page, its first 100 cases, their links and the entities at their ends,
-- twice (the page and its count): 50 ms for a front page of 20 practices
-- on the generated graph. practice_partner holds its answer for anonymous
-- readers, so a page of partners and its count are one index range each.
--
-- What is kept: for each practice, every partner behind its first 100
-- PUBLISHED cases (the public rule's set, whatever the partner's own
-- status), with the partner's sort name and whether it is published. A
-- reader filters on published, so a partner published, drafted or renamed
-- is one update of its own rows. Staff, who see drafts, use the rule
-- itself (store.PracticePartnerPages).
--
-- Kept by triggers in the transaction of every write that can change a
-- practice's set: a link made, changed or removed (statement triggers with
-- transition tables, so a COPY refreshes each practice it touches once),
-- an entity's status or sort name changed, an entity deleted (its links go
-- by cascade, and their trigger refreshes the practices; its own rows go by
-- the foreign keys). A backer's link made or removed (the common write)
-- adds or removes its partner in place; anything else that touches a
-- practice (a DEMONSTRATES link, a case's status, a statement of more than
-- 64 links) recomputes the practice's set and writes the difference. Both
-- run under a transaction-level advisory lock per practice so that two
-- writers of one practice do not interleave. BulkLoad, which loads with
-- triggers off, refreshes the practices it touched itself.

-- +goose Up
-- The relations through which a partner is behind a case: outgoing false
-- when the link points at the case (the partner founded, runs, supports …
-- it), true when the case points at the partner. The store keeps this
-- table equal to kb.PracticeCaseBackersIn and Out each time it migrates
-- (store.Migrate), so that a relation renamed in Go is followed here.
CREATE TABLE practice_backer (
    type     text PRIMARY KEY,
    outgoing boolean NOT NULL
);
INSERT INTO practice_backer (type, outgoing) VALUES
    ('FOUNDED', false), ('LEADS', false), ('RUNS', false), ('FUNDS', false), ('SUPPORTS', false),
    ('ORGANIZED', false), ('MEMBER_OF', false), ('PARTNER_IN', false), ('EMPLOYS_PARTICIPANTS_OF', true);

CREATE TABLE practice_partner (
    practice_id bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    partner_id  bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    sort_name   text NOT NULL,
    published   boolean NOT NULL,
    PRIMARY KEY (practice_id, partner_id)
);
-- A page of a practice's published partners in name order, and its count,
-- from the index alone.
CREATE INDEX practice_partner_page_idx ON practice_partner (practice_id, sort_name, partner_id) WHERE published;
-- A partner published, drafted, renamed or deleted finds its rows.
CREATE INDEX practice_partner_partner_idx ON practice_partner (partner_id);

-- practice_partner_refresh recomputes the rows of the practices ids.
-- +goose StatementBegin
CREATE FUNCTION practice_partner_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p bigint;
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- One lock per practice, in id order, so that two refreshes of one
    -- practice wait for each other rather than interleave or deadlock
    -- (class 19, this migration, keeps the keys apart from other advisory
    -- locks). A refresh of many (the backfill, a bulk load) locks the
    -- table instead: tens of thousands of advisory locks would overflow
    -- PostgreSQL's lock table.
    IF cardinality(ids) > 64 THEN
        LOCK TABLE practice_partner IN SHARE ROW EXCLUSIVE MODE;
    ELSE
        FOR p IN SELECT DISTINCT x FROM unnest(ids) AS x ORDER BY x LOOP
            PERFORM pg_advisory_xact_lock(19, hashint8(p));
        END LOOP;
    END IF;
    -- The new set, then only the difference written: a refresh that
    -- rewrote a practice's hundreds of rows cost more than computing them.
    WITH want AS (
        SELECT n.practice, e.id AS partner, e.sort_name, e.status = 'PUBLISHED' AS published
        FROM (SELECT DISTINCT x FROM unnest(ids) AS x) AS n (practice)
        CROSS JOIN LATERAL (
            WITH cases AS (
                SELECT d.from_id AS case_id FROM link d JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
                WHERE d.to_id = n.practice AND d.type = 'DEMONSTRATES' ORDER BY d.id LIMIT 100)
            SELECT case_id AS partner FROM cases
            UNION
            SELECT l.from_id FROM cases c
                JOIN link l ON l.to_id = c.case_id
                JOIN practice_backer b ON b.type = l.type AND NOT b.outgoing
            UNION
            SELECT l.to_id FROM cases c
                JOIN link l ON l.from_id = c.case_id
                JOIN practice_backer b ON b.type = l.type AND b.outgoing
        ) AS x
        JOIN entity e ON e.id = x.partner AND e.kind = 'PARTNER'
    ),
    gone AS (
        DELETE FROM practice_partner k WHERE k.practice_id = ANY (ids)
        AND NOT EXISTS (SELECT 1 FROM want w WHERE w.practice = k.practice_id AND w.partner = k.partner_id))
    INSERT INTO practice_partner (practice_id, partner_id, sort_name, published)
    SELECT practice, partner, sort_name, published FROM want
    ON CONFLICT (practice_id, partner_id) DO UPDATE SET sort_name = EXCLUDED.sort_name, published = EXCLUDED.published
        WHERE (practice_partner.sort_name, practice_partner.published) IS DISTINCT FROM (EXCLUDED.sort_name, EXCLUDED.published);
END
$$;
-- +goose StatementEnd

-- practice_partner_follow_link refreshes the practices whose set the
-- links of the statement may change: the practice a DEMONSTRATES link
-- points at, and the practices a case demonstrates when a backer's link to
-- it came or went. One branch per direction with plain equalities: a join
-- on CASE WHEN outgoing THEN from_id ELSE to_id END read the whole link
-- table (60-120 ms a write at 1M).
-- +goose StatementBegin
CREATE FUNCTION practice_partner_follow_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    lock_id bigint;
    n bigint;
BEGIN
    -- (Each transition table is named only in the branch of its
    -- operation: a statement naming the other one does not plan.)
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    END IF;
    IF TG_OP = 'INSERT' AND n <= 64 THEN
        -- A new DEMONSTRATES link changes which cases count: recompute.
        SELECT array_agg(DISTINCT r.to_id) INTO ids FROM new_rows r WHERE r.type = 'DEMONSTRATES';
        PERFORM practice_partner_refresh(ids);
        -- A backer's new link can only add its partner end, to the
        -- practices of which its case end is one of the first 100
        -- published cases: added in place, without recomputing the
        -- practice (the write of the bench's link, 17-42 ms at 1M
        -- recomputed, is then a few index probes).
        FOR lock_id IN
            SELECT d.to_id FROM new_rows r JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM new_rows r JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES'
            ORDER BY 1
        LOOP
            PERFORM pg_advisory_xact_lock(19, hashint8(lock_id));
        END LOOP;
        WITH added (practice, kase, demo, partner) AS (
            SELECT d.to_id, d.from_id, d.id, r.from_id FROM new_rows r
                JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION ALL
            SELECT d.to_id, d.from_id, d.id, r.to_id FROM new_rows r
                JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES')
        INSERT INTO practice_partner (practice_id, partner_id, sort_name, published)
        SELECT DISTINCT x.practice, e.id, e.sort_name, e.status = 'PUBLISHED'
        FROM added x
        JOIN entity c ON c.id = x.kase AND c.status = 'PUBLISHED'
        JOIN entity e ON e.id = x.partner AND e.kind = 'PARTNER'
        WHERE x.demo <= (SELECT max(f.id) FROM (
            SELECT d.id FROM link d JOIN entity k ON k.id = d.from_id AND k.status = 'PUBLISHED'
            WHERE d.to_id = x.practice AND d.type = 'DEMONSTRATES' ORDER BY d.id LIMIT 100) f)
        ON CONFLICT (practice_id, partner_id) DO NOTHING;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT p) INTO ids FROM (
            SELECT r.to_id AS p FROM new_rows r WHERE r.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM new_rows r JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM new_rows r JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES'
        ) t;
    ELSIF TG_OP = 'DELETE' AND n <= 64 THEN
        -- A DEMONSTRATES link gone changes which cases count: recompute.
        SELECT array_agg(DISTINCT r.to_id) INTO ids FROM old_rows r WHERE r.type = 'DEMONSTRATES';
        PERFORM practice_partner_refresh(ids);
        -- A backer's link gone can only take its partner end out of the
        -- practices its case end demonstrates, and only if nothing else
        -- keeps it there: it is no case itself among the first 100, nor
        -- linked to one by a backer relation.
        FOR lock_id IN
            SELECT d.to_id FROM old_rows r JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM old_rows r JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES'
            ORDER BY 1
        LOOP
            PERFORM pg_advisory_xact_lock(19, hashint8(lock_id));
        END LOOP;
        WITH removed (practice, partner) AS (
            SELECT d.to_id, r.from_id FROM old_rows r
                JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id, r.to_id FROM old_rows r
                JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES')
        DELETE FROM practice_partner k USING removed x
        WHERE k.practice_id = x.practice AND k.partner_id = x.partner AND NOT EXISTS (
            SELECT 1 FROM (
                SELECT d.from_id AS case_id FROM link d JOIN entity c ON c.id = d.from_id AND c.status = 'PUBLISHED'
                WHERE d.to_id = x.practice AND d.type = 'DEMONSTRATES' ORDER BY d.id LIMIT 100) c
            -- Probed case by case from the case's end (a case has a few
            -- links, a hub partner thousands): as OR EXISTS the planner
            -- hashed every link of the partner (16,534 rows, 82 ms), and
            -- given the partner's id it walked them by link_unique (3.7 ms a
            -- case). "+ 0" keeps the partner's id out of the index scan.
            CROSS JOIN LATERAL (
                SELECT 1 WHERE c.case_id = x.partner
                UNION ALL
                (SELECT 1 FROM link l WHERE l.to_id = c.case_id AND l.from_id + 0 = x.partner
                    AND l.type = ANY (ARRAY(SELECT type FROM practice_backer WHERE NOT outgoing)) LIMIT 1)
                UNION ALL
                (SELECT 1 FROM link l WHERE l.from_id = c.case_id AND l.to_id + 0 = x.partner
                    AND l.type = ANY (ARRAY(SELECT type FROM practice_backer WHERE outgoing)) LIMIT 1)) z);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT p) INTO ids FROM (
            SELECT r.to_id AS p FROM old_rows r WHERE r.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM old_rows r JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM old_rows r JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES'
        ) t;
    ELSE
        SELECT array_agg(DISTINCT p) INTO ids FROM (
            SELECT r.to_id AS p FROM (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) r WHERE r.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) r
                JOIN practice_backer b ON b.type = r.type AND NOT b.outgoing
                JOIN link d ON d.from_id = r.to_id AND d.type = 'DEMONSTRATES'
            UNION
            SELECT d.to_id FROM (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) r
                JOIN practice_backer b ON b.type = r.type AND b.outgoing
                JOIN link d ON d.from_id = r.from_id AND d.type = 'DEMONSTRATES'
        ) t;
    END IF;
    PERFORM practice_partner_refresh(ids);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER practice_partner_link_insert AFTER INSERT ON link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_partner_follow_link();
CREATE TRIGGER practice_partner_link_update AFTER UPDATE ON link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_partner_follow_link();
CREATE TRIGGER practice_partner_link_delete AFTER DELETE ON link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION practice_partner_follow_link();

-- An entity renamed or published, drafted or archived: as a partner, its
-- rows follow; as a case, the practices it demonstrates are refreshed (the
-- first 100 published cases may now be others). A row trigger whose WHEN
-- clause PostgreSQL checks without calling it, as entity_count's.
-- +goose StatementBegin
CREATE FUNCTION practice_partner_follow_entity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE practice_partner SET sort_name = NEW.sort_name, published = NEW.status = 'PUBLISHED'
    WHERE partner_id = NEW.id;
    IF OLD.status IS DISTINCT FROM NEW.status THEN
        PERFORM practice_partner_refresh(ARRAY(
            SELECT to_id FROM link WHERE from_id = NEW.id AND type = 'DEMONSTRATES'));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER practice_partner_entity_update AFTER UPDATE OF status, sort_name ON entity
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.sort_name IS DISTINCT FROM NEW.sort_name)
    EXECUTE FUNCTION practice_partner_follow_entity();

-- The backfill: every entity that something demonstrates.
SELECT practice_partner_refresh(ARRAY(SELECT DISTINCT to_id FROM link WHERE type = 'DEMONSTRATES'));

-- +goose Down
DROP TRIGGER practice_partner_entity_update ON entity;
DROP FUNCTION practice_partner_follow_entity();
DROP TRIGGER practice_partner_link_delete ON link;
DROP TRIGGER practice_partner_link_update ON link;
DROP TRIGGER practice_partner_link_insert ON link;
DROP FUNCTION practice_partner_follow_link();
DROP FUNCTION practice_partner_refresh(bigint[]);
DROP TABLE practice_partner;
DROP TABLE practice_backer;
