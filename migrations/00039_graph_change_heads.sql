-- The change log of the graph's shape (00011) also carries what the
-- traversal index holds of a walk's answer, so that a neighbourhood or a
-- path asking for the fields a graph view shows (a node's id, kind and
-- name; a link's id, type, direction and role) is answered from the index
-- without reading PostgreSQL (docs/traversal.md, "Answering from the
-- index"): an entity's name, logged when it is created or renamed as well
-- as when its kind or status changes, and a link's id and role, logged
-- when it is created, deleted, moved, or its role changes (a row with
-- present true for a link already there: the index updates its role).
-- A role changed logs the link as present again, so the rows of one
-- version must be applied in the order they were logged (a link deleted
-- and created anew in one transaction, then given a role): seq gives that
-- order.
-- The log stays small: a rename is one more row, and only of the renamed
-- entities; the other columns of the entity row (summary, dates) are not
-- held by the index and not logged.

-- +goose Up
ALTER TABLE graph_change ADD COLUMN name text, ADD COLUMN link_id bigint, ADD COLUMN role text,
    ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION graph_log_entity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.kind, o.status, o.name) IS DISTINCT FROM (r.kind, r.status, r.name);
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > 10000 THEN
        INSERT INTO graph_change (reload) VALUES (true);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO graph_change (entity_id, kind, status, name) SELECT id, kind, status, name FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO graph_change (entity_id) SELECT id FROM old_rows;
    ELSE
        INSERT INTO graph_change (entity_id, kind, status, name)
            SELECT r.id, r.kind, r.status, r.name FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.kind, o.status, o.name) IS DISTINCT FROM (r.kind, r.status, r.name);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION graph_log_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.from_id, o.type, o.to_id, o.role) IS DISTINCT FROM (r.from_id, r.type, r.to_id, r.role);
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > 10000 THEN
        INSERT INTO graph_change (reload) VALUES (true);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO graph_change (from_id, type, to_id, present, link_id, role)
            SELECT from_id, type, to_id, true, id, role FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO graph_change (from_id, type, to_id, present, link_id)
            SELECT from_id, type, to_id, false, id FROM old_rows;
    ELSE
        -- A link moved: gone from its old ends, present at its new ones.
        INSERT INTO graph_change (from_id, type, to_id, present, link_id, role)
            SELECT o.from_id, o.type, o.to_id, false, o.id, NULL FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.from_id, o.type, o.to_id) IS DISTINCT FROM (r.from_id, r.type, r.to_id)
            UNION ALL
            SELECT r.from_id, r.type, r.to_id, true, r.id, r.role FROM old_rows o JOIN new_rows r ON r.id = o.id
            WHERE (o.from_id, o.type, o.to_id, o.role) IS DISTINCT FROM (r.from_id, r.type, r.to_id, r.role);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION graph_log_entity() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION graph_log_link() RETURNS trigger LANGUAGE plpgsql AS $$
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
ALTER TABLE graph_change DROP COLUMN name, DROP COLUMN link_id, DROP COLUMN role, DROP COLUMN seq;
