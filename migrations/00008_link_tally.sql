-- The totals of related lists (a practice's cases, a cooperative's
-- founders) counted every link of the list and looked up the status of
-- each other end: on the generated million-entity graph the case totals of
-- a page of 20 practices read 26,644 entity rows, 692 ms. link_tally keeps,
-- per entity, relation type and direction, how many links it has to
-- entities of each kind and publication status, so such a total is one
-- index probe per entity whatever the number of links. The triggers below
-- keep it in the transaction of every write: a link made or removed, an
-- entity published, archived or deleted. BulkLoad, which loads with
-- triggers off, tallies what it loaded itself.

-- (The entity is entity_id: a column node_id would clash with the nodeId
-- of Relay that PostGraphile, the benchmark's peer, gives every table.)

-- +goose Up
CREATE TABLE link_tally (
    entity_id      bigint NOT NULL,
    type         text NOT NULL,
    outgoing     boolean NOT NULL,
    other_kind   text NOT NULL,
    other_status text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (entity_id, type, outgoing, other_kind, other_status)
);

INSERT INTO link_tally (entity_id, type, outgoing, other_kind, other_status, n)
SELECT node, type, outgoing, kind, status, count(*) FROM (
    SELECT l.from_id AS node, l.type, true AS outgoing, o.kind, o.status FROM link l JOIN entity o ON o.id = l.to_id
    UNION ALL
    SELECT l.to_id, l.type, false, o.kind, o.status FROM link l JOIN entity o ON o.id = l.from_id
) x GROUP BY 1, 2, 3, 4, 5;

-- +goose StatementBegin
CREATE FUNCTION link_tally_add(node bigint, typ text, outg boolean, kind text, status text, d bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO link_tally (entity_id, type, outgoing, other_kind, other_status, n) VALUES (node, typ, outg, kind, status, d)
    ON CONFLICT (entity_id, type, outgoing, other_kind, other_status) DO UPDATE SET n = link_tally.n + EXCLUDED.n
$$;
-- +goose StatementEnd

-- A link counts at both ends. When an end is gone, the link goes with an
-- entity being deleted, whose trigger has already taken it off the other
-- end's tally.
-- +goose StatementBegin
CREATE FUNCTION link_tally_follow_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    l link;
    d bigint;
    fk text; fs text; tk text; ts text;
BEGIN
    IF TG_OP = 'INSERT' THEN l := NEW; d := 1; ELSE l := OLD; d := -1; END IF;
    SELECT kind, status INTO fk, fs FROM entity WHERE id = l.from_id;
    IF NOT FOUND THEN RETURN NULL; END IF;
    SELECT kind, status INTO tk, ts FROM entity WHERE id = l.to_id;
    IF NOT FOUND THEN RETURN NULL; END IF;
    PERFORM link_tally_add(l.from_id, l.type, true, tk, ts, d);
    PERFORM link_tally_add(l.to_id, l.type, false, fk, fs, d);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER link_tally_on_link AFTER INSERT OR DELETE ON link
    FOR EACH ROW EXECUTE FUNCTION link_tally_follow_link();

-- An entity that changes status moves in its neighbours' tallies; one
-- that is deleted leaves them, and its own tally goes.
-- +goose StatementBegin
CREATE FUNCTION link_tally_follow_entity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO link_tally (entity_id, type, outgoing, other_kind, other_status, n)
        SELECT node, type, outgoing, NEW.kind, NEW.status, count(*) FROM (
            SELECT to_id AS node, type, false AS outgoing FROM link WHERE from_id = NEW.id
            UNION ALL
            SELECT from_id, type, true FROM link WHERE to_id = NEW.id) x
        GROUP BY 1, 2, 3
        ON CONFLICT (entity_id, type, outgoing, other_kind, other_status) DO UPDATE SET n = link_tally.n + EXCLUDED.n;
    END IF;
    UPDATE link_tally t SET n = t.n - g.c FROM (
        SELECT node, type, outgoing, count(*) AS c FROM (
            SELECT to_id AS node, type, false AS outgoing FROM link WHERE from_id = OLD.id
            UNION ALL
            SELECT from_id, type, true FROM link WHERE to_id = OLD.id) x
        GROUP BY 1, 2, 3) g
    WHERE t.entity_id = g.node AND t.type = g.type AND t.outgoing = g.outgoing
      AND t.other_kind = OLD.kind AND t.other_status = OLD.status;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM link_tally WHERE entity_id = OLD.id;
        RETURN OLD;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER link_tally_on_entity_status AFTER UPDATE OF status ON entity
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION link_tally_follow_entity();
CREATE TRIGGER link_tally_on_entity_delete BEFORE DELETE ON entity
    FOR EACH ROW EXECUTE FUNCTION link_tally_follow_entity();

-- +goose Down
DROP TRIGGER link_tally_on_entity_delete ON entity;
DROP TRIGGER link_tally_on_entity_status ON entity;
DROP FUNCTION link_tally_follow_entity();
DROP TRIGGER link_tally_on_link ON link;
DROP FUNCTION link_tally_follow_link();
DROP FUNCTION link_tally_add(bigint, text, boolean, text, text, bigint);
DROP TABLE link_tally;
