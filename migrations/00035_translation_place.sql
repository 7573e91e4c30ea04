-- Issue 17: an event held in several places has its further places' names
-- in every language, as its first place's: a translation of CITY says
-- which place it names, 0 the first (the entry's own place, as before),
-- n the event's n-th further place. Only CITY has further places.
--
-- A column with a constant default and a new primary key on translation:
-- no rewrite of a large table (at 1M the generated graph has no
-- translations; the reference data 60).

-- +goose Up
ALTER TABLE translation ADD COLUMN place smallint NOT NULL DEFAULT 0
    CHECK (place >= 0 AND place <= 100),
    ADD CONSTRAINT translation_place_is_a_city CHECK (place = 0 OR field = 'CITY');
ALTER TABLE translation DROP CONSTRAINT translation_pkey;
-- A page of entries reads the translations of all of them with
-- entity_id = ANY($1): the primary key serves it.
ALTER TABLE translation ADD PRIMARY KEY (entity_id, field, place, lang);

-- +goose Down
DELETE FROM translation WHERE place > 0;
ALTER TABLE translation DROP CONSTRAINT translation_pkey;
ALTER TABLE translation ADD PRIMARY KEY (entity_id, field, lang);
ALTER TABLE translation DROP COLUMN place;
