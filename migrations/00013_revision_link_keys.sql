-- Erasure (issue 14, finding 4) scrubs the revisions of links, deleted
-- links included, that named the person's key: their only trace of the
-- person is the key at one end of the before or after state. Without an
-- index that was a scan of the whole revision log inside the erasing
-- transaction. A link's ends never change, so a revision's before and
-- after name the same keys and one expression per end covers both; an
-- erased revision (both null) leaves the index.

-- +goose Up
CREATE INDEX revision_link_from_key_idx ON revision ((coalesce(after->>'from', before->>'from')))
    WHERE link_id IS NOT NULL;
CREATE INDEX revision_link_to_key_idx ON revision ((coalesce(after->>'to', before->>'to')))
    WHERE link_id IS NOT NULL;

-- +goose Down
DROP INDEX revision_link_to_key_idx;
DROP INDEX revision_link_from_key_idx;
