-- Search at a million entities (issue 12; docs/search.md).
--
-- 1. Search documents carry the version of the rules that computed them
--    (package textsearch): store.Migrate recomputes, in Go, those older
--    than the binary's, as it computes missing ones. Version 1 indexes the
--    entity's own attributes (kind, place) with the weight of its name and
--    the concepts of words (countries, cooperatives).
-- 2. The vocabulary that typos are corrected against holds the published
--    text only: a trigger on search_doc adds the terms of a document when
--    it is written published, and when a published document is deleted,
--    unpublished or rewritten (erasure) removes those of its terms that no
--    other published document holds, so that an anonymous search can
--    learn nothing of drafts through corrections. It runs in the
--    transaction of every write, whichever path it takes (the store's
--    writes, the status trigger, a cascade from entity). Adding takes no
--    row lock on a term already there (ON CONFLICT DO NOTHING), so writers
--    of common words do not queue; two writers that remove the last two
--    holders of a term at once may both keep it, until the next
--    store.Reindex counts the vocabulary afresh.

-- +goose Up
ALTER TABLE search_doc ADD COLUMN version smallint NOT NULL DEFAULT 0;

-- +goose StatementBegin
-- enable_seqscan off: a term's holders are read from the text index. A
-- scan of the table stops at the first holder of a common term only when
-- one comes early; in a table written kind by kind, the first holder of
-- "gminn" came after 2 s of reading at 1,000,000 documents. The index is
-- cheap for a rare term and costly for a common one ("w": a bitmap of
-- 485,000 documents, 210 ms), so terms that ANALYZE estimated in 1,000
-- documents or more are kept without a look: another published document
-- holds them but for a vanishing chance, and keeping a term that was
-- published text reveals nothing of drafts.
CREATE FUNCTION search_term_follow_doc() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    gone text[] := '{}';
    came text[] := '{}';
    t text;
    held boolean;
    common text[];
    freqs real[];
    docs real;
BEGIN
    -- Bulk indexing (store.Reindex) turns the trigger off for its own
    -- transactions and computes the vocabulary afresh at the end.
    IF current_setting('partnergraph.search_bulk', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'PUBLISHED' THEN
        came := tsvector_to_array(NEW.vec);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'PUBLISHED' THEN
        SELECT coalesce(array_agg(x), '{}') INTO gone FROM unnest(tsvector_to_array(OLD.vec)) x WHERE x <> ALL (came);
    END IF;
    IF cardinality(came) > 0 THEN
        INSERT INTO search_term (term) SELECT unnest(came) ORDER BY 1 ON CONFLICT DO NOTHING;
    END IF;
    IF cardinality(gone) = 0 THEN
        RETURN NULL;
    END IF;
    SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs INTO common, freqs
    FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = 'search_doc' AND s.attname = 'vec';
    SELECT greatest(c.reltuples, 0) INTO docs FROM pg_class c WHERE c.oid = 'search_doc'::regclass;
    FOREACH t IN ARRAY gone LOOP
        IF coalesce(freqs[array_position(common, t)], 0) * docs >= 1000 THEN
            CONTINUE;
        END IF;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM search_doc WHERE vec @@ %L::tsquery AND status = %L)',
            quote_literal(t), 'PUBLISHED') INTO held;
        IF NOT held THEN
            DELETE FROM search_term WHERE term = t;
        END IF;
    END LOOP;
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
ALTER TABLE search_doc DROP COLUMN version;
