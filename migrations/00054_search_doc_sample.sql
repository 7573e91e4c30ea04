-- The sample index (docs/search.md, "A sample for common words"): the
-- text index of the documents of every eighth entity by id, read first
-- for the candidates and the bounded count of a query common enough that
-- its sample holds them. A GIN index builds the bitmap of every match
-- before the first comes out, so at 1M "stowarzyszenie na rzecz" (61,622
-- matches) cost 12 ms of bitmap for 300 candidates and a count that stops
-- at 1,001; the sample's bitmap is an eighth of it. The ids are spread
-- over every kind, so the sample is too. Its pending list is bounded as
-- the other text indexes' (migration 00049).

-- +goose Up
CREATE INDEX search_doc_vec_sample_idx ON search_doc USING gin (vec)
	WITH (gin_pending_list_limit = 256) WHERE entity_id % 8 = 0;

-- +goose Down
DROP INDEX search_doc_vec_sample_idx;
