-- Issue 17, languages: the text of an entry (name, summary, description,
-- the name of its city) in languages other than the one it was written
-- in, and that language itself. The entry's own columns keep the original
-- text, so every reader that asks for no language reads what it read
-- before; a translation is a row per entry, field and language, written
-- in the same transaction as the entry's revision (internal/store,
-- translation.go), with who wrote it, when, and whether a machine did.

-- +goose Up
-- original_language is the BCP 47 base tag of the entry's own text. The
-- reference data and the articles it cites are Polish: every entry
-- written so far is, until its data set says otherwise (the Swedish
-- organisations' names). A constant default is a catalogue change only,
-- with no rewrite of the table, on the generated graph of a million
-- entities too.
ALTER TABLE entity ADD COLUMN original_language text NOT NULL DEFAULT 'pl'
    CHECK (original_language IN ('pl', 'sv', 'en'));
-- name_language is the language of the name when it is not that of the
-- rest: a Swedish organisation's own name (Kooperativet Glöden) in an
-- entry written in Polish. NULL: the name is in original_language.
ALTER TABLE entity ADD COLUMN name_language text CHECK (name_language IN ('pl', 'sv', 'en'));

CREATE TABLE translation (
    entity_id  bigint NOT NULL REFERENCES entity (id) ON DELETE CASCADE,
    field      text NOT NULL CHECK (field IN ('NAME', 'SUMMARY', 'DESCRIPTION', 'CITY')),
    lang       text NOT NULL CHECK (lang IN ('pl', 'sv', 'en')),
    text       text NOT NULL CHECK (btrim(text) <> ''),
    -- machine: made by a machine translation, not written or checked by a
    -- person.
    machine    boolean NOT NULL DEFAULT false,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- A page of entries reads the translations of all of them with
    -- entity_id = ANY($1): the primary key serves it.
    PRIMARY KEY (entity_id, field, lang)
);

-- +goose Down
DROP TABLE translation;
ALTER TABLE entity DROP COLUMN name_language;
ALTER TABLE entity DROP COLUMN original_language;
