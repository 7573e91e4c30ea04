-- Full-text search over every entity (issue 5). The terms are computed in
-- Go (package textsearch: folded words with their Polish, Swedish and
-- English stems) and stored as 'simple' tsvectors, so no dictionary has to
-- be installed on the server: stock PostgreSQL with pg_trgm is enough. The
-- store writes these rows in the same transaction as every entity change
-- (insertEntity, updateEntity); store.Migrate fills them for entities that
-- existed before this migration.

-- +goose Up
CREATE TABLE search_doc (
    entity_id bigint PRIMARY KEY REFERENCES entity (id) ON DELETE CASCADE,
    -- every lexeme of the entity's texts, weighted A (name), B (summary,
    -- topics, activities, place), C (descriptions and the rest).
    vec       tsvector NOT NULL,
    -- the part of vec that comes from the name: matched and scored
    -- without reading whole documents, and prefix-matched by suggest.
    name_vec  tsvector NOT NULL,
    -- how many words the name has, for the share of it a query covers.
    name_words integer NOT NULL DEFAULT 0,
    -- copies of the entity's kind and publication status, and its country
    -- (ISO 3166-1 alpha-2), written with the document: a search filters on
    -- them without joining entity or the kind tables, which would make the
    -- planner walk a primary key for a LIMIT instead of the text index.
    kind      text NOT NULL,
    status    text NOT NULL,
    country   text NOT NULL DEFAULT ''
);
CREATE INDEX search_doc_vec_idx ON search_doc USING gin (vec);
CREATE INDEX search_doc_name_vec_idx ON search_doc USING gin (name_vec);

-- The copied status must never lag: a write path that changes the status
-- alone (publishing, archiving) without going through the store's
-- updateEntity still moves the search document with it.
-- +goose StatementBegin
CREATE FUNCTION search_doc_follow_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_doc SET status = NEW.status WHERE entity_id = NEW.id AND status <> NEW.status;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER entity_status_to_search_doc AFTER UPDATE OF status ON entity
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION search_doc_follow_status();

-- Suggestions: names that start with the prefix, in byte order of the
-- folded name (which is alphabetical for folded Latin text), straight from
-- the index with LIMIT.
CREATE INDEX entity_sort_name_prefix_idx ON entity ((sort_name COLLATE "C"));

-- The vocabulary of the index: every lexeme once. A query word that matches
-- no term is corrected against it: the nearest terms by trigram distance
-- (the GiST index answers ORDER BY term <-> word LIMIT n without a
-- similarity threshold), kept when their edit distance, computed in Go, is
-- at most 2. Terms are only ever added; a stale term costs a correction
-- that matches nothing. COLLATE "C" lets the primary key serve prefix
-- lookups (term LIKE 'koop%').
CREATE TABLE search_term (
    term text COLLATE "C" PRIMARY KEY
);
CREATE INDEX search_term_trgm_idx ON search_term USING gist (term gist_trgm_ops);

-- +goose Down
DROP TRIGGER entity_status_to_search_doc ON entity;
DROP FUNCTION search_doc_follow_status();
DROP INDEX entity_sort_name_prefix_idx;
DROP TABLE search_term, search_doc;
