-- The search documents of an older docVersion, found by an index (issue
-- 17: a reindex at 1M walked every entity through entity_full, 2,000 at a
-- time with a probe of its document, to find the 40,000 practices'
-- documents of version 1: 1 min 37 s on a loaded copy, and every
-- migration ends with that reindex, store.Migrate). A document is out of
-- date when its version is below docVersion for its kind (store.upToDate:
-- a practice's below 2, any other's below 1): with the kind first, each
-- kind's outdated documents are one range of this index.

-- +goose Up
CREATE INDEX search_doc_kind_version_idx ON search_doc (kind, version);

-- +goose Down
DROP INDEX search_doc_kind_version_idx;
