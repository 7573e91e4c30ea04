-- Issue 17, item 4: the topics of good practices as a controlled
-- vocabulary. A topic has a stable ASCII slug, a label in each language it
-- has been given (its original language's always), and the practices that
-- carry it (practice_topic, with the order the practice lists them in).
--
-- good_practice.topics stays: it holds the labels the practice was written
-- with, as before, and what the data-set export, the search documents and
-- the revisions carry. The trigger below resolves each of those strings to
-- a topic on every write (a slug, a former slug, a label in any language or
-- a former label, folded; otherwise a new topic with that label) and keeps
-- practice_topic in step, so that every writer (the API, the data-set
-- import, revert) goes through the vocabulary without knowing it. The
-- bulk load (partnergraph.bulk = 'on') calls practice_topic_fill once
-- instead. docs/api.md, "Topics", describes the API.
--
-- The existing free-text topics are migrated below: one topic per distinct
-- folded label (lower case, without diacritics, white space collapsed),
-- labelled with its most frequent spelling. The stored arrays are left as
-- they are: nothing written is lost.

-- +goose Up
-- topic_fold is the key labels are matched by: what kb.Fold does in Go,
-- in SQL.
-- +goose StatementBegin
CREATE FUNCTION topic_fold(s text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT lower(regexp_replace(btrim(unaccent(s)), '\s+', ' ', 'g'))
$$;
-- +goose StatementEnd

CREATE TABLE topic (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- slug: lower-case ASCII letters and digits in words joined by '-'.
    slug              text NOT NULL UNIQUE
                      CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 80),
    -- original_language: the language of the label the topic was made
    -- with; its label in that language cannot be removed.
    original_language text NOT NULL DEFAULT 'pl' CHECK (original_language IN ('pl', 'sv', 'en')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL
);

-- One label per topic and language; within a language no two topics share
-- a folded label, so that a label names one topic.
CREATE TABLE topic_label (
    topic_id bigint NOT NULL REFERENCES topic (id) ON DELETE CASCADE,
    lang     text NOT NULL CHECK (lang IN ('pl', 'sv', 'en')),
    label    text NOT NULL CHECK (btrim(label) <> '' AND length(label) <= 300),
    folded   text NOT NULL,
    PRIMARY KEY (topic_id, lang),
    UNIQUE (lang, folded)
);

-- The slugs a topic had before a rename, and those of the topics merged
-- into it: topic(slug:) follows them, so that links keep working.
CREATE TABLE topic_redirect (
    slug     text PRIMARY KEY,
    topic_id bigint NOT NULL REFERENCES topic (id) ON DELETE CASCADE
);

-- Labels a topic no longer shows (those it had before a change, those of
-- the topics merged into it), folded: a practice written with one of them
-- still gets the topic rather than a new one.
CREATE TABLE topic_alias (
    folded   text PRIMARY KEY,
    topic_id bigint NOT NULL REFERENCES topic (id) ON DELETE CASCADE
);

-- The topics of each practice, in the order it lists them. practice_id is
-- the entity (the trigger writes it before its good_practice row exists).
-- Its foreign keys and second index are added after the existing topics
-- are filled in below: checked once by a join, not row by row (at 1M, the
-- row checks were half of the migration's time).
CREATE TABLE practice_topic (
    practice_id bigint NOT NULL,
    topic_id    bigint NOT NULL,
    position    integer NOT NULL,
    PRIMARY KEY (practice_id, topic_id)
);

-- The staff's changes of topics go to the revision log like every other
-- change, under the topic.
ALTER TABLE revision ADD COLUMN topic_id bigint;
CREATE INDEX revision_topic_idx ON revision (topic_id, id) WHERE topic_id IS NOT NULL;

-- topic_slug_for makes a free slug from a label: ASCII after unaccent,
-- runs of other characters as '-', at most 60 characters, then -2, -3...
-- while the slug is taken (by a topic or a redirect).
-- +goose StatementBegin
CREATE FUNCTION topic_slug_for(label text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    base text := btrim(regexp_replace(lower(unaccent(label)), '[^a-z0-9]+', '-', 'g'), '-');
    cand text;
    n    integer := 1;
BEGIN
    base := btrim(left(base, 60), '-');
    IF base = '' THEN
        base := 'topic';
    END IF;
    cand := base;
    WHILE EXISTS (SELECT 1 FROM topic t WHERE t.slug = cand)
       OR EXISTS (SELECT 1 FROM topic_redirect r WHERE r.slug = cand) LOOP
        n := n + 1;
        cand := base || '-' || n;
    END LOOP;
    RETURN cand;
END
$$;
-- +goose StatementEnd

-- topic_find resolves a string to a topic, or NULL: a slug, a former slug,
-- a label in any language (Polish first, then English, then Swedish), a
-- former label; the last three folded.
-- +goose StatementBegin
CREATE FUNCTION topic_find(s text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    f  text := topic_fold(s);
    id bigint;
BEGIN
    IF f = '' THEN
        RETURN NULL;
    END IF;
    SELECT t.id INTO id FROM topic t WHERE t.slug = btrim(s);
    IF id IS NOT NULL THEN RETURN id; END IF;
    SELECT r.topic_id INTO id FROM topic_redirect r WHERE r.slug = btrim(s);
    IF id IS NOT NULL THEN RETURN id; END IF;
    SELECT l.topic_id INTO id FROM topic_label l WHERE l.folded = f
        ORDER BY array_position(ARRAY['pl', 'en', 'sv'], l.lang) LIMIT 1;
    IF id IS NOT NULL THEN RETURN id; END IF;
    SELECT a.topic_id INTO id FROM topic_alias a WHERE a.folded = f;
    RETURN id;
END
$$;
-- +goose StatementEnd

-- topic_resolve is topic_find, making a topic of the label in language
-- lng when none is found. The advisory lock keeps two writers of one new
-- label from making two topics: the second waits, then finds the first's.
-- +goose StatementBegin
CREATE FUNCTION topic_resolve(s text, lng text, actor text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    f  text := topic_fold(s);
    id bigint := topic_find(s);
BEGIN
    IF id IS NOT NULL OR f = '' THEN
        RETURN id;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('partnergraph.topic:' || f));
    id := topic_find(s);
    IF id IS NOT NULL THEN
        RETURN id;
    END IF;
    INSERT INTO topic (slug, original_language, created_by, updated_by)
        VALUES (topic_slug_for(s), lng, actor, actor) RETURNING topic.id INTO id;
    INSERT INTO topic_label (topic_id, lang, label, folded)
        VALUES (id, lng, regexp_replace(btrim(s), '\s+', ' ', 'g'), f);
    RETURN id;
END
$$;
-- +goose StatementEnd

-- practice_topic_fill links the practices with ids above after_id to their
-- topics, set-based, making the topics their labels need: what the trigger
-- does row by row, for the bulk load and for this migration. The stored
-- arrays are left as written.
-- +goose StatementBegin
CREATE FUNCTION practice_topic_fill(after_id bigint, actor text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    -- The labels no topic answers to, each folded label once, with its
    -- most frequent spelling, the most used first (it gets the plain slug).
    FOR r IN
        WITH s AS (
            -- Each distinct string once: folding is the costly part.
            SELECT u.t, count(*) AS n FROM good_practice g, unnest(g.topics) u(t)
            WHERE g.id > after_id GROUP BY 1
        ), l AS (
            SELECT topic_fold(s.t) AS f, regexp_replace(btrim(s.t), '\s+', ' ', 'g') AS t, sum(s.n) AS n
            FROM s GROUP BY 1, 2
        ), best AS (
            SELECT DISTINCT ON (f) f, t, sum(n) OVER (PARTITION BY f) AS total FROM l
            WHERE f <> '' ORDER BY f, n DESC, t
        )
        SELECT f, t FROM best ORDER BY total DESC, f
    LOOP
        PERFORM topic_resolve(r.t, 'pl', actor);
    END LOOP;
    -- Each distinct string resolved once, not once per practice
    -- (MATERIALIZED: inlined, topic_find ran for every row).
    INSERT INTO practice_topic (practice_id, topic_id, position)
    WITH m AS MATERIALIZED (
        SELECT d.s, topic_find(d.s) AS topic_id
        FROM (SELECT DISTINCT u.t AS s FROM good_practice g, unnest(g.topics) u(t) WHERE g.id > after_id) d
    )
    SELECT g.id, m.topic_id, min(u.n)
    FROM good_practice g
    CROSS JOIN LATERAL unnest(g.topics) WITH ORDINALITY u(t, n)
    JOIN m ON m.s = u.t
    WHERE g.id > after_id AND m.topic_id IS NOT NULL
    GROUP BY g.id, m.topic_id
    ON CONFLICT (practice_id, topic_id) DO NOTHING;
END
$$;
-- +goose StatementEnd

SELECT practice_topic_fill(0, 'migration 00026');

ALTER TABLE practice_topic ADD FOREIGN KEY (practice_id) REFERENCES entity (id) ON DELETE CASCADE;
ALTER TABLE practice_topic ADD FOREIGN KEY (topic_id) REFERENCES topic (id);
-- The topic filter and the counts read a topic's practices.
CREATE INDEX practice_topic_topic_idx ON practice_topic (topic_id, practice_id);

-- good_practice_topics keeps practice_topic in step with a practice's
-- topics and writes them as the topics' labels in their original
-- languages, each topic once, in the order given.
-- +goose StatementBegin
CREATE FUNCTION good_practice_topics() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids    bigint[] := '{}';
    labels text[] := '{}';
    s      text;
    t      bigint;
    lng    text;
    actor  text := coalesce(nullif(current_setting('partnergraph.actor', true), ''), 'system');
BEGIN
    IF current_setting('partnergraph.bulk', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.topics IS NOT DISTINCT FROM OLD.topics THEN
        RETURN NEW;
    END IF;
    SELECT e.original_language INTO lng FROM entity e WHERE e.id = NEW.id;
    FOREACH s IN ARRAY coalesce(NEW.topics, '{}') LOOP
        t := topic_resolve(s, coalesce(lng, 'pl'), actor);
        IF t IS NULL OR t = ANY (ids) THEN
            CONTINUE;
        END IF;
        ids := ids || t;
        labels := labels || (SELECT l.label FROM topic_label l JOIN topic tp ON tp.id = l.topic_id
                             WHERE l.topic_id = t AND l.lang = tp.original_language);
    END LOOP;
    NEW.topics := labels;
    DELETE FROM practice_topic WHERE practice_id = NEW.id AND topic_id <> ALL (ids);
    INSERT INTO practice_topic (practice_id, topic_id, position)
        SELECT NEW.id, u.t, u.n FROM unnest(ids) WITH ORDINALITY u(t, n)
        ON CONFLICT (practice_id, topic_id) DO UPDATE SET position = EXCLUDED.position
        WHERE practice_topic.position <> EXCLUDED.position;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER good_practice_topics BEFORE INSERT OR UPDATE OF topics ON good_practice
    FOR EACH ROW EXECUTE FUNCTION good_practice_topics();

-- +goose Down
DROP TRIGGER good_practice_topics ON good_practice;
DROP FUNCTION good_practice_topics();
DROP FUNCTION practice_topic_fill(bigint, text);
DROP FUNCTION topic_resolve(text, text, text);
DROP FUNCTION topic_find(text);
DROP FUNCTION topic_slug_for(text);
DROP INDEX revision_topic_idx;
ALTER TABLE revision DROP COLUMN topic_id;
DROP TABLE practice_topic;
DROP TABLE topic_alias;
DROP TABLE topic_redirect;
DROP TABLE topic_label;
DROP TABLE topic;
DROP FUNCTION topic_fold(text);
