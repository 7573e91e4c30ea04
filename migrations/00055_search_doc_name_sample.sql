-- The names' sample indexes (docs/search.md, "How search runs", suggest):
-- the index of the names of every 64th and of every 8th entity by id, as
-- migration 00054's is of the documents. A suggestion whose words follow
-- the start of a name ("socjalna ra") takes its 100 candidates from the
-- names' text index, which builds the bitmap of every name that holds the
-- words before the first comes out: at 1M, "socjaln" and the terms of
-- "ra" are held together by 14,689 names, 8.8 ms of bitmap; "w", in
-- "w p", by 480,000. A sample's bitmap is its share of it, and where a
-- sample holds the 100 candidates they are taken from it, the sparser
-- first.

-- +goose Up
CREATE INDEX search_doc_name_vec_sample64_idx ON search_doc USING gin (name_vec)
	WITH (gin_pending_list_limit = 256) WHERE entity_id % 64 = 0;
CREATE INDEX search_doc_name_vec_sample_idx ON search_doc USING gin (name_vec)
	WITH (gin_pending_list_limit = 256) WHERE entity_id % 8 = 0;

-- +goose Down
DROP INDEX search_doc_name_vec_sample_idx;
DROP INDEX search_doc_name_vec_sample64_idx;
