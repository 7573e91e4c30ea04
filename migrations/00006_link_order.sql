-- Related lists (a practice's cases, a partner's cooperatives) are the
-- first links of a node of one type in link order. With the link id in
-- the index after node and type, each such list is a short index range
-- read in order that stops at its limit, instead of every link of the
-- node read and sorted: a practice of the generated million-entity graph
-- has 4,566 cases. The target end's index keeps the source in INCLUDE, so
-- the level reads of paths and neighbourhoods stay index-only scans.

-- +goose Up
CREATE INDEX link_from_order_idx ON link (from_id, type, id) INCLUDE (to_id);
DROP INDEX link_to_idx;
CREATE INDEX link_to_idx ON link (to_id, type, id) INCLUDE (from_id);

-- +goose Down
DROP INDEX link_to_idx;
CREATE INDEX link_to_idx ON link (to_id, type, from_id);
DROP INDEX link_from_order_idx;
