-- The names' sample index (docs/search.md, "How search runs", suggest):
-- the index of the names of every eighth entity by id, as migration 00054's
-- is of the documents. A suggestion whose words follow the start of a
-- name ("socjalna ra") takes its 100 candidates from the names' text
-- index, which builds the bitmap of every name that holds the words
-- before the first comes out: at 1M, "socjaln" and the terms of "ra" are
-- held together by 14,689 names, 8.8 ms of bitmap. The sample's bitmap is
-- an eighth of it, and where it holds the 100 candidates they are taken
-- from it.

-- +goose Up
CREATE INDEX search_doc_name_vec_sample_idx ON search_doc USING gin (name_vec)
	WITH (gin_pending_list_limit = 256) WHERE entity_id % 8 = 0;

-- +goose Down
DROP INDEX search_doc_name_vec_sample_idx;
