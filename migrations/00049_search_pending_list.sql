-- The search indexes' pending lists, bounded (docs/search.md, "The
-- pending list"). A GIN index with fastupdate (PostgreSQL's default) puts
-- new entries in a pending list that every scan reads whole, up to
-- gin_pending_list_limit (4 MB, 512 pages) before the writer that fills it
-- merges it into the index. Each write of an entity rewrites its search
-- document, so on a knowledge base being edited every search paid for up
-- to 512 pages (about 0.65 ms at 207 pages on the generated 1M graph). At
-- 256 kB a scan reads at most 32 pages, and writes still merge in batches.
-- The bulk index build (store.BuildSearchIndex) recreates the indexes
-- from pg_get_indexdef, which carries the setting.

-- +goose Up
ALTER INDEX search_doc_vec_idx SET (gin_pending_list_limit = 256);
ALTER INDEX search_doc_name_vec_idx SET (gin_pending_list_limit = 256);
SELECT gin_clean_pending_list('search_doc_vec_idx'::regclass);
SELECT gin_clean_pending_list('search_doc_name_vec_idx'::regclass);

-- +goose Down
ALTER INDEX search_doc_vec_idx RESET (gin_pending_list_limit);
ALTER INDEX search_doc_name_vec_idx RESET (gin_pending_list_limit);
