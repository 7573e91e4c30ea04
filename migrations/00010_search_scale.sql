-- Search at a million entities (issue 12; docs/search.md).
--
-- 1. Search documents carry the version of the rules that computed them
--    (package textsearch): store.Migrate recomputes, in Go, those older
--    than the binary's, as it computes missing ones. Version 1 indexes the
--    entity's own attributes (kind, place) with the weight of its name and
--    the concepts of words (countries, cooperatives).
-- 2. The vocabulary that typos are corrected against holds the published
--    text only, with how many published documents hold each term: a term
--    leaves it with the last published document that held it (deleted,
--    unpublished, erased), so that an anonymous search can learn nothing
--    of drafts through corrections. A trigger on search_doc keeps the
--    counts in the transaction of every write, whichever path it takes
--    (the store's writes, the status trigger, a cascade from entity).

-- +goose Up
ALTER TABLE search_doc ADD COLUMN version smallint NOT NULL DEFAULT 0;

ALTER TABLE search_term ADD COLUMN docs integer NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION search_term_follow_doc() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone text[] := '{}';
    came text[] := '{}';
BEGIN
    -- Bulk indexing (store.Reindex) turns the trigger off for its own
    -- transactions and counts the vocabulary afresh at the end.
    IF current_setting('partnergraph.search_bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'PUBLISHED' THEN
        gone := tsvector_to_array(OLD.vec);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'PUBLISHED' THEN
        came := tsvector_to_array(NEW.vec);
    END IF;
    IF gone = came THEN
        RETURN NULL;
    END IF;
    -- One statement in term order, so that concurrent writers lock the
    -- rows of common terms in the same order and wait instead of
    -- deadlocking.
    INSERT INTO search_term (term, docs)
    SELECT t, sum(d)::int FROM (
        SELECT unnest(came) AS t, 1 AS d
        UNION ALL
        SELECT unnest(gone), -1
    ) x GROUP BY t HAVING sum(d) <> 0 ORDER BY t
    ON CONFLICT (term) DO UPDATE SET docs = search_term.docs + excluded.docs;
    DELETE FROM search_term WHERE term = ANY (gone) AND docs <= 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER search_doc_to_search_term AFTER INSERT OR DELETE OR UPDATE OF vec, status ON search_doc
    FOR EACH ROW EXECUTE FUNCTION search_term_follow_doc();

-- The vocabulary is counted afresh by store.Migrate, after it has
-- recomputed the documents of version 0 (all of them) in bulk.

-- +goose Down
DROP TRIGGER search_doc_to_search_term ON search_doc;
DROP FUNCTION search_term_follow_doc();
ALTER TABLE search_term DROP COLUMN docs;
ALTER TABLE search_doc DROP COLUMN version;
