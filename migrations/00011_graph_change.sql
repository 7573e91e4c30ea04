-- The change log of the graph's shape, for the in-memory adjacency index
-- of each server (docs/traversal.md). Every statement that changes what a
-- walk may follow (an entity appears, goes, or changes kind or publication
-- status; a link appears, goes, or changes ends or type) logs the change,
-- and the transaction, as it commits, stamps its changes with the next
-- version number.
--
-- The version lives in one row, taken only in the commit's deferred
-- trigger, so a long transaction (an import) does not hold it, yet a
-- transaction that takes it holds it until it has committed: versions are
-- handed out in commit order, and once a reader sees version v committed,
-- every change up to v is committed and readable. A server compares its
-- index's version with this row before a walk (one primary-key read) and
-- applies the log up to it first, so no walk passes through an entity
-- unpublished or a link deleted before it began, whichever server made the
-- change.
--
-- The logging triggers are statement-level with transition tables: a bulk
-- load of a million rows costs one row in the log (reload: the indexes
-- rebuild) rather than a million, and they are ENABLE ALWAYS so that bulk
-- loads under session_replication_role = replica log too.

-- +goose Up
CREATE TABLE graph_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL
);
INSERT INTO graph_version VALUES (true, 0);

CREATE TABLE graph_change (
    -- NULL until the transaction commits; tx finds its own rows.
    version   bigint,
    tx        bigint NOT NULL DEFAULT txid_current(),
    -- An entity's state: kind and status, both NULL when it was deleted.
    entity_id bigint,
    kind      text,
    status    text,
    -- A link's presence: present false when it went.
    from_id   bigint,
    to_id     bigint,
    type      text,
    present   boolean,
    -- A statement too large to log row by row: rebuild from the tables.
    reload    boolean NOT NULL DEFAULT false
);
CREATE INDEX graph_change_version_idx ON graph_change (version);
CREATE INDEX graph_change_unstamped_idx ON graph_change (tx) WHERE version IS NULL;

-- +goose StatementBegin
-- graph_stamp runs as the transaction commits (a deferred trigger, once
-- per logged row; the first stamps them all): it takes the next version
-- for the transaction's changes, and now and then drops log entries so
-- old that no running server can still need them (a server further behind
-- rebuilds).
CREATE FUNCTION graph_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM graph_change WHERE version IS NULL AND tx = txid_current()) THEN
        RETURN NULL;
    END IF;
    UPDATE graph_version SET version = version + 1 RETURNING version INTO v;
    UPDATE graph_change SET version = v WHERE version IS NULL AND tx = txid_current();
    IF v % 1000 = 0 THEN
        DELETE FROM graph_change WHERE version <= v - 100000;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION graph_log_entity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.kind, o.status) IS DISTINCT FROM (r.kind, r.status);
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > 10000 THEN
        INSERT INTO graph_change (reload) VALUES (true);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO graph_change (entity_id, kind, status) SELECT id, kind, status FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO graph_change (entity_id) SELECT id FROM old_rows;
    ELSE
        INSERT INTO graph_change (entity_id, kind, status)
            SELECT r.id, r.kind, r.status FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.kind, o.status) IS DISTINCT FROM (r.kind, r.status);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION graph_log_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.from_id, o.type, o.to_id) IS DISTINCT FROM (r.from_id, r.type, r.to_id);
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > 10000 THEN
        INSERT INTO graph_change (reload) VALUES (true);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO graph_change (from_id, type, to_id, present) SELECT from_id, type, to_id, true FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO graph_change (from_id, type, to_id, present) SELECT from_id, type, to_id, false FROM old_rows;
    ELSE
        INSERT INTO graph_change (from_id, type, to_id, present)
            SELECT o.from_id, o.type, o.to_id, false FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.from_id, o.type, o.to_id) IS DISTINCT FROM (r.from_id, r.type, r.to_id)
            UNION ALL
            SELECT r.from_id, r.type, r.to_id, true FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.from_id, o.type, o.to_id) IS DISTINCT FROM (r.from_id, r.type, r.to_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER graph_entity_insert AFTER INSERT ON entity REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION graph_log_entity();
CREATE TRIGGER graph_entity_update AFTER UPDATE ON entity REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION graph_log_entity();
CREATE TRIGGER graph_entity_delete AFTER DELETE ON entity REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION graph_log_entity();
CREATE TRIGGER graph_link_insert AFTER INSERT ON link REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION graph_log_link();
CREATE TRIGGER graph_link_update AFTER UPDATE ON link REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION graph_log_link();
CREATE TRIGGER graph_link_delete AFTER DELETE ON link REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION graph_log_link();
CREATE CONSTRAINT TRIGGER graph_change_stamp AFTER INSERT ON graph_change
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION graph_stamp();
ALTER TABLE graph_change ENABLE ALWAYS TRIGGER graph_change_stamp;
ALTER TABLE entity ENABLE ALWAYS TRIGGER graph_entity_insert;
ALTER TABLE entity ENABLE ALWAYS TRIGGER graph_entity_update;
ALTER TABLE entity ENABLE ALWAYS TRIGGER graph_entity_delete;
ALTER TABLE link ENABLE ALWAYS TRIGGER graph_link_insert;
ALTER TABLE link ENABLE ALWAYS TRIGGER graph_link_update;
ALTER TABLE link ENABLE ALWAYS TRIGGER graph_link_delete;

-- +goose Down
DROP TRIGGER graph_change_stamp ON graph_change;
DROP TRIGGER graph_link_delete ON link;
DROP TRIGGER graph_link_update ON link;
DROP TRIGGER graph_link_insert ON link;
DROP TRIGGER graph_entity_delete ON entity;
DROP TRIGGER graph_entity_update ON entity;
DROP TRIGGER graph_entity_insert ON entity;
DROP FUNCTION graph_log_link();
DROP FUNCTION graph_log_entity();
DROP FUNCTION graph_stamp();
DROP TABLE graph_change;
DROP TABLE graph_version;
