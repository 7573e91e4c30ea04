package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// The topic vocabulary (migration 00026): topics with slugs and labels,
// the practices that carry them (practice_topic, kept by a trigger from
// good_practice.topics), and the staff's changes, each with a revision
// under the topic. docs/api.md, "Topics".

// topicColumns reads a topic with its labels as two arrays.
const topicColumns = `t.id, t.slug, t.original_language, t.created_at, t.updated_at, t.created_by, t.updated_by,
	array(SELECT l.lang FROM topic_label l WHERE l.topic_id = t.id ORDER BY l.lang),
	array(SELECT l.label FROM topic_label l WHERE l.topic_id = t.id ORDER BY l.lang)`

func scanTopic(row pgx.Row) (*kb.Topic, error) {
	var t kb.Topic
	var langs, labels []string
	if err := row.Scan(&t.ID, &t.Slug, &t.OriginalLanguage, &t.CreatedAt, &t.UpdatedAt, &t.CreatedBy, &t.UpdatedBy,
		&langs, &labels); err != nil {
		return nil, err
	}
	t.Labels = make(map[string]string, len(langs))
	for i, l := range langs {
		t.Labels[l] = labels[i]
	}
	return &t, nil
}

func collectTopics(rows pgx.Rows) ([]*kb.Topic, error) {
	defer rows.Close()
	var out []*kb.Topic
	for rows.Next() {
		t, err := scanTopic(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, t)
	}
	return out, translate(rows.Err())
}

// TopicBySlug returns the topic with the slug, or the one a former slug
// of a renamed or merged topic leads to (its Slug is then the current
// one); kb.ErrTopicNotFound when there is none.
func (s *Store) TopicBySlug(ctx context.Context, slug string) (*kb.Topic, error) {
	t, err := scanTopic(s.read(ctx).QueryRow(ctx, `SELECT `+topicColumns+` FROM topic t
		WHERE t.slug = $1 OR t.id = (SELECT r.topic_id FROM topic_redirect r WHERE r.slug = $1)
		ORDER BY t.slug = $1 DESC LIMIT 1`, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no topic has the slug %q", kb.ErrTopicNotFound, slug)
	}
	return t, translate(err)
}

// TopicFilter restricts a list of topics.
type TopicFilter struct {
	// Text keeps the topics with a label, in any language, that the text
	// matches as the practices' topic filter does (each word starts a word
	// of the label, folded and stemmed), or whose slug it is.
	Text string
	// Used keeps the topics that at least one practice visible under the
	// list's visibility carries.
	Used bool
}

// MaxTopics bounds what Topics reads: the vocabulary is meant to stay
// small (hundreds of terms), and a list of topics is paged in memory.
const MaxTopics = 10000

// Topics returns the topics that match f, in slug order, at most
// MaxTopics of them.
func (s *Store) Topics(ctx context.Context, vis Visibility, f TopicFilter) ([]*kb.Topic, error) {
	b := &builder{}
	if f.Text != "" {
		b.where = append(b.where, "("+topicMatch(b, []string{f.Text})+")")
	}
	if f.Used {
		b.cond(`EXISTS (SELECT 1 FROM practice_topic pt JOIN entity e ON e.id = pt.practice_id
			WHERE pt.topic_id = t.id AND e.status = ANY(?))`, vis.statuses())
	}
	where := ""
	if len(b.where) > 0 {
		where = " WHERE " + strings.Join(b.where, " AND ")
	}
	rows, err := s.read(ctx).Query(ctx, `SELECT `+topicColumns+` FROM topic t`+where+
		fmt.Sprintf(` ORDER BY t.slug LIMIT %d`, MaxTopics), b.args...)
	if err != nil {
		return nil, translate(err)
	}
	return collectTopics(rows)
}

// PracticeTopics returns the topics of practices ids, each practice's in
// the order it lists them. The caller has checked that it may see the
// practices.
func (s *Store) PracticeTopics(ctx context.Context, ids []int64) (map[int64][]*kb.Topic, error) {
	rows, err := s.read(ctx).Query(ctx, `SELECT pt.practice_id, `+topicColumns+`
		FROM practice_topic pt JOIN topic t ON t.id = pt.topic_id
		WHERE pt.practice_id = ANY($1) ORDER BY pt.practice_id, pt.position`, ids)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := make(map[int64][]*kb.Topic, len(ids))
	byID := map[int64]*kb.Topic{}
	for rows.Next() {
		var pid int64
		var t kb.Topic
		var langs, labels []string
		if err := rows.Scan(&pid, &t.ID, &t.Slug, &t.OriginalLanguage, &t.CreatedAt, &t.UpdatedAt, &t.CreatedBy,
			&t.UpdatedBy, &langs, &labels); err != nil {
			return nil, translate(err)
		}
		tp := byID[t.ID]
		if tp == nil {
			t.Labels = make(map[string]string, len(langs))
			for i, l := range langs {
				t.Labels[l] = labels[i]
			}
			tp = &t
			byID[t.ID] = tp
		}
		out[pid] = append(out[pid], tp)
	}
	return out, translate(rows.Err())
}

// topicMatch is the condition on a topic t that one of the strings names
// it: its slug or a former one exactly, or, folded and stemmed, a label
// in any language (each word of the string starts a word of the label:
// "spółdzielnia" finds "spółdzielnie socjalne", the query word's Polish,
// Swedish and English stems, textsearch.Lexemes, each may start it).
func topicMatch(b *builder, texts []string) string {
	var alts []string
	slugs := make([]string, 0, len(texts))
	for _, t := range texts {
		slugs = append(slugs, strings.TrimSpace(t))
		words := textsearch.Words(t)
		if len(words) == 0 {
			continue
		}
		conds := make([]string, len(words))
		for i, w := range words {
			stems := textsearch.Lexemes(w)
			for j, st := range stems {
				stems[j] = regexp.QuoteMeta(st)
			}
			// Words as textsearch.Tokenize splits them: runs of letters
			// and digits, in the label folded (topic_fold: lower, unaccent).
			conds[i] = "l.folded ~ " + b.arg(`(^|[^[:alnum:]])(`+strings.Join(stems, "|")+`)`)
		}
		alts = append(alts, "("+strings.Join(conds, " AND ")+")")
	}
	sl := b.arg(slugs)
	out := "t.slug = ANY(" + sl + "::text[]) OR t.id IN (SELECT r.topic_id FROM topic_redirect r WHERE r.slug = ANY(" + sl + "::text[]))"
	if len(alts) > 0 {
		out += " OR EXISTS (SELECT 1 FROM topic_label l WHERE l.topic_id = t.id AND (" + strings.Join(alts, " OR ") + "))"
	}
	return out
}

// matchTopics returns the ids of the topics that one of texts names
// (topicMatch), in id order.
func (s *Store) matchTopics(ctx context.Context, texts []string) ([]int64, error) {
	b := &builder{}
	cond := topicMatch(b, texts)
	rows, err := s.read(ctx).Query(ctx, `SELECT t.id FROM topic t WHERE `+cond+` ORDER BY t.id`, b.args...)
	if err != nil {
		return nil, translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, translate(err)
	}
	if ids == nil {
		ids = []int64{}
	}
	return ids, nil
}

// topicPlan returns f with the topics of its topic filters, at every
// level of and/or/not, read beforehand (Filter.topicIDs): the list's
// query then holds the ids as constants, whose share of the practices the
// planner knows from practice_topic's statistics, rather than a subquery
// it cannot estimate.
func (s *Store) topicPlan(ctx context.Context, f Filter) (Filter, error) {
	var err error
	if len(f.Topics) > 0 && f.topicIDs == nil {
		if f.topicIDs, err = s.matchTopics(ctx, f.Topics); err != nil {
			return f, err
		}
		// As placePlan: the practices of topics few practices carry are
		// read through practice_topic's index, and the list probes them
		// by their keys; as a semi-join through entity_full the planner
		// hashed every practice first (2.5 s at 1M for a topic of 5).
		// The practices of common topics are found by probing each
		// practice the list walks, in its order.
		rows, err := s.read(ctx).Query(ctx, fmt.Sprintf(`SELECT practice_id FROM practice_topic
			WHERE topic_id = ANY($1) LIMIT %d`, placeIndexLimit), f.topicIDs)
		if err != nil {
			return f, fmt.Errorf("topics: %w", translate(err))
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return f, fmt.Errorf("topics: %w", translate(err))
		}
		if len(ids) < placeIndexLimit {
			f.topicPractices = append([]int64{}, ids...) // not nil: no practice is no match
		}
	}
	sub := func(fs []Filter) ([]Filter, error) {
		if fs == nil {
			return nil, nil
		}
		out := make([]Filter, len(fs))
		for i, x := range fs {
			if out[i], err = s.topicPlan(ctx, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if f.And, err = sub(f.And); err != nil {
		return f, err
	}
	if f.Or, err = sub(f.Or); err != nil {
		return f, err
	}
	if f.Not != nil {
		n, err := s.topicPlan(ctx, *f.Not)
		if err != nil {
			return f, err
		}
		f.Not = &n
	}
	return f, nil
}

// topicCond is the condition that a practice carries one of the topics
// the filter's strings name (topicMatch): one of the practices or topics
// topicPlan read when it did, else of a subquery.
func (f Filter) topicCond(b *builder) string {
	if f.topicPractices != nil {
		return "e.id = ANY(" + b.arg(f.topicPractices) + "::bigint[])"
	}
	if f.topicIDs != nil {
		if len(f.topicIDs) == 0 {
			return "false"
		}
		return "EXISTS (SELECT 1 FROM practice_topic pt WHERE pt.practice_id = e.id AND pt.topic_id = ANY(" +
			b.arg(f.topicIDs) + "::bigint[]))"
	}
	return "EXISTS (SELECT 1 FROM practice_topic pt JOIN topic t ON t.id = pt.topic_id WHERE pt.practice_id = e.id AND (" +
		topicMatch(b, f.Topics) + "))"
}

// NewTopic is a topic to create.
type NewTopic struct {
	// Slug is the topic's slug; "" makes one from the label in the
	// original language.
	Slug string
	// OriginalLanguage is the language of the label the topic is made
	// with; "" is Polish.
	OriginalLanguage string
	// Labels by language; the original language's is required.
	Labels map[string]string
}

// The changes of a topic, as the revision log spells them (opColumn):
// topic.create, topic.label.set, topic.label.remove, topic.rename,
// topic.merge.
const (
	opTopicCreate      = kb.OpTopicCreate
	opTopicSetLabel    = kb.OpTopicLabelSet
	opTopicRemoveLabel = kb.OpTopicLabelRemove
	opTopicRename      = kb.OpTopicRename
	opTopicMerge       = kb.OpTopicMerge
)

// writeTopicRevision appends the revision of a change of topic id to the
// log and announces it on the change feed, as writeRevision does for
// entries and links: the caches of every server forget what they kept
// (a topic's labels show in practices, lists and aggregates) and the
// subscribers of `changes` hear of it.
func writeTopicRevision(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, id int64, before, after *kb.Topic) error {
	b, err := jsonOrNil(before)
	if err != nil {
		return err
	}
	a, err := jsonOrNil(after)
	if err != nil {
		return err
	}
	c := Change{Operation: op, Actor: actor, TopicID: id}
	for _, t := range []*kb.Topic{after, before} {
		if t != nil && c.TopicSlug == "" {
			c.TopicSlug = t.Slug
		}
	}
	err = tx.QueryRow(ctx, `INSERT INTO revision (actor, operation, topic_id, before, after) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, at`, actor, opColumn(op), id, b, a).Scan(&c.RevisionID, &c.At)
	if err != nil {
		return translate(err)
	}
	return notify(ctx, tx, c)
}

// topicTx reads and locks the topic with the slug (or a former one).
func topicTx(ctx context.Context, tx pgx.Tx, field, slug string) (*kb.Topic, error) {
	t, err := scanTopic(tx.QueryRow(ctx, `SELECT `+topicColumns+` FROM topic t
		WHERE t.slug = $1 OR t.id = (SELECT r.topic_id FROM topic_redirect r WHERE r.slug = $1)
		ORDER BY t.slug = $1 DESC LIMIT 1 FOR UPDATE OF t`, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &topicError{field, fmt.Errorf("%w: no topic has the slug %q", kb.ErrTopicNotFound, slug)}
	}
	return t, translate(err)
}

// topicError names the input at fault in an error of the vocabulary.
type topicError struct {
	Field string
	Err   error
}

func (e *topicError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *topicError) Unwrap() error { return e.Err }

// labelTaken turns a unique violation of (lang, folded) into
// kb.ErrLabelTaken naming the topic that has the label.
func labelTaken(ctx context.Context, tx pgx.Tx, field, lng, label string, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return translate(err)
	}
	return &topicError{field, fmt.Errorf("%w: another topic has the label %q in %s", kb.ErrLabelTaken, label, lng)}
}

// checkFreeSlug fails with kb.ErrSlugTaken when a topic other than id has
// the slug or had it.
func checkFreeSlug(ctx context.Context, tx pgx.Tx, field, slug string, id int64) error {
	var other int64
	err := tx.QueryRow(ctx, `SELECT id FROM topic WHERE slug = $1 AND id <> $2
		UNION ALL SELECT topic_id FROM topic_redirect WHERE slug = $1 AND topic_id <> $2 LIMIT 1`, slug, id).Scan(&other)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return translate(err)
	}
	return &topicError{field, fmt.Errorf("%w: the slug %q is (or was) another topic's", kb.ErrSlugTaken, slug)}
}

func checkLang(field, l string) (string, error) {
	t, err := lang.Parse(l)
	if err != nil {
		return "", kb.Invalid(field, "%v", err)
	}
	return t, nil
}

// CreateTopic creates a topic, with a revision.
func (s *Store) CreateTopic(ctx context.Context, actor string, n NewTopic) (*kb.Topic, error) {
	orig := lang.Default
	if n.OriginalLanguage != "" {
		var err error
		if orig, err = checkLang("originalLanguage", n.OriginalLanguage); err != nil {
			return nil, err
		}
	}
	labels := map[string]string{}
	for l, text := range n.Labels {
		tag, err := checkLang("labels.lang", l)
		if err != nil {
			return nil, err
		}
		if _, dup := labels[tag]; dup {
			return nil, kb.Invalid("labels", "two labels in %s", tag)
		}
		if labels[tag], err = kb.TopicLabel("labels.label", text); err != nil {
			return nil, err
		}
	}
	if labels[orig] == "" {
		return nil, kb.Invalid("labels", "a topic needs its label in its original language (%s)", orig)
	}
	if n.Slug != "" {
		if err := kb.CheckSlug("slug", n.Slug); err != nil {
			return nil, err
		}
	}
	var out *kb.Topic
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		slug := n.Slug
		if slug == "" {
			if err := tx.QueryRow(ctx, `SELECT topic_slug_for($1)`, labels[orig]).Scan(&slug); err != nil {
				return translate(err)
			}
		} else if err := checkFreeSlug(ctx, tx, "slug", slug, 0); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO topic (slug, original_language, created_by, updated_by)
			VALUES ($1, $2, $3, $3) RETURNING id`, slug, orig, actor).Scan(&id); err != nil {
			return translate(err)
		}
		for _, l := range lang.Supported {
			if text, ok := labels[l]; ok {
				if err := setLabel(ctx, tx, id, l, text); err != nil {
					return err
				}
			}
		}
		var err error
		if out, err = topicTx(ctx, tx, "slug", slug); err != nil {
			return err
		}
		return writeTopicRevision(ctx, tx, actor, opTopicCreate, id, nil, out)
	})
	return out, err
}

// setLabel writes the label of topic id in lng; a label another topic
// has in that language is kb.ErrLabelTaken. The former label becomes an
// alias of the topic, and one that was another's alias is no longer.
func setLabel(ctx context.Context, tx pgx.Tx, id int64, lng, label string) error {
	if _, err := tx.Exec(ctx, `SAVEPOINT topic_label`); err != nil {
		return translate(err)
	}
	_, err := tx.Exec(ctx, `
		WITH old AS (SELECT folded FROM topic_label WHERE topic_id = $1 AND lang = $2),
		alias AS (INSERT INTO topic_alias (folded, topic_id) SELECT folded, $1 FROM old
			WHERE folded <> topic_fold($3) ON CONFLICT (folded) DO UPDATE SET topic_id = $1)
		INSERT INTO topic_label (topic_id, lang, label, folded) VALUES ($1, $2, $3, topic_fold($3))
		ON CONFLICT (topic_id, lang) DO UPDATE SET label = EXCLUDED.label, folded = EXCLUDED.folded`, id, lng, label)
	if err != nil {
		if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT topic_label`); rerr != nil {
			return translate(rerr)
		}
		return labelTaken(ctx, tx, "label", lng, label, err)
	}
	_, err = tx.Exec(ctx, `DELETE FROM topic_alias WHERE folded = topic_fold($1) AND topic_id <> $2`, label, id)
	return translate(err)
}

// SetTopicLabel sets the label of a topic in a language, with a revision.
// A new label in the topic's original language is written into the
// topics of its practices (good_practice.topics and their search
// documents).
func (s *Store) SetTopicLabel(ctx context.Context, actor, slug, l, label string) (*kb.Topic, error) {
	tag, err := checkLang("lang", l)
	if err != nil {
		return nil, err
	}
	if label, err = kb.TopicLabel("label", label); err != nil {
		return nil, err
	}
	var out *kb.Topic
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := topicTx(ctx, tx, "slug", slug)
		if err != nil {
			return err
		}
		if cur.Labels[tag] == label {
			out = cur
			return nil
		}
		if err := setLabel(ctx, tx, cur.ID, tag, label); err != nil {
			return err
		}
		// The practices' search documents hold the label: a new one in
		// the original language is also written into their topics.
		rewrite := reindexPractices
		if tag == cur.OriginalLanguage {
			rewrite = rewritePractices
		}
		if err := rewrite(ctx, tx, []int64{cur.ID}); err != nil {
			return err
		}
		return touchTopic(ctx, tx, actor, opTopicSetLabel, cur, &out)
	})
	return out, err
}

// RemoveTopicLabel removes the label of a topic in a language, with a
// revision. The label in its original language cannot be removed.
func (s *Store) RemoveTopicLabel(ctx context.Context, actor, slug, l string) (*kb.Topic, error) {
	tag, err := checkLang("lang", l)
	if err != nil {
		return nil, err
	}
	var out *kb.Topic
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := topicTx(ctx, tx, "slug", slug)
		if err != nil {
			return err
		}
		if tag == cur.OriginalLanguage {
			return kb.Invalid("lang", "the label in the topic's original language (%s) cannot be removed; set another instead", tag)
		}
		if _, ok := cur.Labels[tag]; !ok {
			return &topicError{"lang", fmt.Errorf("%w: the topic %q has no label in %s", kb.ErrNotFound, cur.Slug, tag)}
		}
		if _, err := tx.Exec(ctx, `
			WITH old AS (DELETE FROM topic_label WHERE topic_id = $1 AND lang = $2 RETURNING folded)
			INSERT INTO topic_alias (folded, topic_id) SELECT folded, $1 FROM old
			ON CONFLICT (folded) DO UPDATE SET topic_id = $1`, cur.ID, tag); err != nil {
			return translate(err)
		}
		if err := reindexPractices(ctx, tx, []int64{cur.ID}); err != nil {
			return err
		}
		return touchTopic(ctx, tx, actor, opTopicRemoveLabel, cur, &out)
	})
	return out, err
}

// RenameTopic gives a topic a new slug, with a revision. The old slug
// keeps leading to the topic (TopicBySlug, the topic filter); a slug that
// is or was another topic's is kb.ErrSlugTaken.
func (s *Store) RenameTopic(ctx context.Context, actor, slug, newSlug string) (*kb.Topic, error) {
	if err := kb.CheckSlug("newSlug", newSlug); err != nil {
		return nil, err
	}
	var out *kb.Topic
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := topicTx(ctx, tx, "slug", slug)
		if err != nil {
			return err
		}
		if cur.Slug == newSlug {
			out = cur
			return nil
		}
		if err := checkFreeSlug(ctx, tx, "newSlug", newSlug, cur.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM topic_redirect WHERE slug = $1`, newSlug); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE topic SET slug = $2 WHERE id = $1`, cur.ID, newSlug); err != nil {
			return translate(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO topic_redirect (slug, topic_id) VALUES ($1, $2)`, cur.Slug, cur.ID); err != nil {
			return translate(err)
		}
		return touchTopic(ctx, tx, actor, opTopicRename, cur, &out)
	})
	return out, err
}

// MergeTopics merges the topic from into the topic into, with a revision
// under into: the practices of from carry into instead, from's slugs lead
// to into, its labels become into's where into has none in the language
// and aliases of into otherwise, and from is gone.
func (s *Store) MergeTopics(ctx context.Context, actor, from, into string) (*kb.Topic, error) {
	var out *kb.Topic
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		src, err := topicTx(ctx, tx, "from", from)
		if err != nil {
			return err
		}
		dst, err := topicTx(ctx, tx, "into", into)
		if err != nil {
			return err
		}
		if src.ID == dst.ID {
			return kb.Invalid("into", "a topic cannot be merged into itself (%q)", dst.Slug)
		}
		stmts := []string{
			// Practices that carry both keep into's place.
			`DELETE FROM practice_topic a USING practice_topic b
				WHERE a.topic_id = $1 AND b.topic_id = $2 AND b.practice_id = a.practice_id`,
			`UPDATE practice_topic SET topic_id = $2 WHERE topic_id = $1`,
			`UPDATE topic_redirect SET topic_id = $2 WHERE topic_id = $1`,
			`INSERT INTO topic_redirect (slug, topic_id) SELECT slug, $2 FROM topic WHERE id = $1`,
			`UPDATE topic_alias SET topic_id = $2 WHERE topic_id = $1`,
			`DELETE FROM topic WHERE id = $1`,
		}
		for _, q := range stmts {
			args := []any{src.ID, dst.ID}
			if !strings.Contains(q, "$2") {
				args = args[:1]
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("merge topics: %w", translate(err))
			}
		}
		// The merged topic's labels: into's where it has none in the
		// language, aliases of into otherwise.
		for _, l := range lang.Supported {
			label, ok := src.Labels[l]
			if !ok {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO topic_label (topic_id, lang, label, folded)
				VALUES ($1, $2, $3, topic_fold($3)) ON CONFLICT (topic_id, lang) DO NOTHING`, dst.ID, l, label); err != nil {
				return fmt.Errorf("merge topics: %w", translate(err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO topic_alias (folded, topic_id)
				SELECT topic_fold($2), $1 WHERE NOT EXISTS (
					SELECT 1 FROM topic_label l WHERE l.topic_id = $1 AND l.folded = topic_fold($2))
				ON CONFLICT (folded) DO UPDATE SET topic_id = $1`, dst.ID, label); err != nil {
				return fmt.Errorf("merge topics: %w", translate(err))
			}
		}
		if err := rewritePractices(ctx, tx, []int64{dst.ID}); err != nil {
			return err
		}
		if err := touchTopic(ctx, tx, actor, opTopicMerge, dst, &out); err != nil {
			return err
		}
		// The merged topic's own history ends with the merge.
		return writeTopicRevision(ctx, tx, actor, opTopicMerge, src.ID, src, out)
	})
	return out, err
}

// touchTopic stamps the topic as changed by actor, reads it into *out and
// writes the revision from before to it.
func touchTopic(ctx context.Context, tx pgx.Tx, actor string, op kb.Operation, before *kb.Topic, out **kb.Topic) error {
	if _, err := tx.Exec(ctx, `UPDATE topic SET updated_at = now(), updated_by = $2 WHERE id = $1`, before.ID, actor); err != nil {
		return translate(err)
	}
	t, err := scanTopic(tx.QueryRow(ctx, `SELECT `+topicColumns+` FROM topic t WHERE t.id = $1`, before.ID))
	if err != nil {
		return translate(err)
	}
	*out = t
	return writeTopicRevision(ctx, tx, actor, op, t.ID, before, t)
}

// rewritePractices writes the topics of the practices that carry one of
// the topics ids as their topics' current labels (the trigger of
// migration 00026 resolves them to the same topics), and their search
// documents, which hold the labels.
func rewritePractices(ctx context.Context, tx pgx.Tx, ids []int64) error {
	rows, err := tx.Query(ctx, `UPDATE good_practice g SET topics = coalesce((
			SELECT array_agg(l.label ORDER BY pt.position) FROM practice_topic pt
			JOIN topic tp ON tp.id = pt.topic_id
			JOIN topic_label l ON l.topic_id = tp.id AND l.lang = tp.original_language
			WHERE pt.practice_id = g.id), '{}')
		WHERE g.id IN (SELECT practice_id FROM practice_topic WHERE topic_id = ANY($1))
		RETURNING g.id`, ids)
	return indexRows(ctx, tx, rows, err)
}

// indexRows writes afresh the search documents of the entities whose ids
// rows (with its query's err) return.
func indexRows(ctx context.Context, tx pgx.Tx, rows pgx.Rows, err error) error {
	if err != nil {
		return translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return translate(err)
	}
	for _, id := range ids {
		e, err := entityTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := indexEntity(ctx, tx, id, e); err != nil {
			return err
		}
	}
	return nil
}

// practiceTopicLabels returns, for the practices ids, the labels of their
// topics in the languages other than each topic's original one, by
// language in the practices' order (kb.GoodPractice.TopicLabels), with
// one query; a practice without such labels is missing from the map.
func practiceTopicLabels(ctx context.Context, q querier, ids []int64) (map[int64]map[string][]string, error) {
	rows, err := q.Query(ctx, practiceTopicLabelsSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("topic labels: %w", translate(err))
	}
	return collectTopicLabels(rows)
}

// practiceTopicLabelsSQL is the statement of practiceTopicLabels, with
// the argument ids: ids of other kinds have no topics.
const practiceTopicLabelsSQL = `SELECT pt.practice_id, l.lang, l.label FROM practice_topic pt
		JOIN topic t ON t.id = pt.topic_id
		JOIN topic_label l ON l.topic_id = t.id AND l.lang <> t.original_language
		WHERE pt.practice_id = ANY($1) ORDER BY pt.practice_id, pt.position, l.lang`

// collectTopicLabels reads the rows of practiceTopicLabelsSQL.
func collectTopicLabels(rows pgx.Rows) (map[int64]map[string][]string, error) {
	out := map[int64]map[string][]string{}
	var id int64
	var l, label string
	_, err := pgx.ForEachRow(rows, []any{&id, &l, &label}, func() error {
		if out[id] == nil {
			out[id] = map[string][]string{}
		}
		out[id][l] = append(out[id][l], label)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("topic labels: %w", translate(err))
	}
	return out, nil
}

// fillTopicLabels sets the TopicLabels of the practices among es, read
// with one query on q, for their search documents.
func fillTopicLabels(ctx context.Context, q querier, es []*kb.Entity) error {
	labels, err := topicLabelsOf(ctx, q, es)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e != nil && e.GoodPractice != nil {
			e.GoodPractice.TopicLabels = labels[e.ID]
		}
	}
	return nil
}

// topicLabelsOf reads the topic labels of the good practices among es
// (practiceTopicLabels), in one query, or none when es holds no practice.
func topicLabelsOf(ctx context.Context, q querier, es []*kb.Entity) (map[int64]map[string][]string, error) {
	var ids []int64
	for _, e := range es {
		if e != nil && e.GoodPractice != nil {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return practiceTopicLabels(ctx, q, ids)
}

// reindexPractices writes afresh the search documents of the practices
// that carry one of the topics ids, which hold their topics' labels in
// every language: after a label other than the original one changed.
func reindexPractices(ctx context.Context, tx pgx.Tx, ids []int64) error {
	rows, err := tx.Query(ctx, `SELECT DISTINCT practice_id FROM practice_topic WHERE topic_id = ANY($1)`, ids)
	return indexRows(ctx, tx, rows, err)
}

// FindTopics returns the topic each string names as the trigger of
// migration 00026 resolves it (a slug, a former slug, a label, a former
// label), 0 for none, in the order of texts.
func (s *Store) FindTopics(ctx context.Context, texts []string) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT coalesce(topic_find(u.x), 0) FROM unnest($1::text[]) WITH ORDINALITY u(x, n) ORDER BY u.n`, texts)
	if err != nil {
		return nil, translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, translate(err)
}

// applyTopics makes the vocabulary hold the data set's topics: a topic is
// matched by its slug (or a former one), else by its label in its
// original language, and gets the labels the record gives (others it has
// stay); one that matches none is created. Each change has a revision.
func applyTopics(ctx context.Context, tx pgx.Tx, actor string, ts []kb.TopicRecord, rep *ApplyReport) error {
	for i, r := range ts {
		rec := fmt.Sprintf("topics[%d] (%s)", i, r.Slug)
		if err := applyTopic(ctx, tx, actor, r, rep); err != nil {
			return fmt.Errorf("%s: %w", rec, err)
		}
	}
	return nil
}

func applyTopic(ctx context.Context, tx pgx.Tx, actor string, r kb.TopicRecord, rep *ApplyReport) error {
	orig := r.OriginalLanguage
	if orig == "" {
		orig = lang.Default
	}
	labels := map[string]string{}
	for _, l := range r.Labels {
		labels[l.Lang] = l.Label
	}
	cur, err := topicTx(ctx, tx, "slug", r.Slug)
	if errors.Is(err, kb.ErrTopicNotFound) {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(topic_find($1), 0)`, labels[orig]).Scan(&id); err != nil {
			return translate(err)
		}
		if id != 0 {
			var slug string
			if err := tx.QueryRow(ctx, `SELECT slug FROM topic WHERE id = $1`, id).Scan(&slug); err != nil {
				return translate(err)
			}
			cur, err = topicTx(ctx, tx, "slug", slug)
		}
	}
	if errors.Is(err, kb.ErrTopicNotFound) {
		if err := checkFreeSlug(ctx, tx, "slug", r.Slug, 0); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO topic (slug, original_language, created_by, updated_by)
			VALUES ($1, $2, $3, $3) RETURNING id`, r.Slug, orig, actor).Scan(&id); err != nil {
			return translate(err)
		}
		for _, l := range r.Labels {
			if err := setLabel(ctx, tx, id, l.Lang, l.Label); err != nil {
				return err
			}
		}
		t, err := scanTopic(tx.QueryRow(ctx, `SELECT `+topicColumns+` FROM topic t WHERE t.id = $1`, id))
		if err != nil {
			return translate(err)
		}
		rep.TopicsCreated++
		return writeTopicRevision(ctx, tx, actor, opTopicCreate, id, nil, t)
	}
	if err != nil {
		return err
	}
	changed, rewrite := false, false
	for _, l := range r.Labels {
		if cur.Labels[l.Lang] == l.Label {
			continue
		}
		if err := setLabel(ctx, tx, cur.ID, l.Lang, l.Label); err != nil {
			return err
		}
		changed = true
		rewrite = rewrite || l.Lang == cur.OriginalLanguage
	}
	if !changed {
		rep.TopicsUnchanged++
		return nil
	}
	reindex := reindexPractices
	if rewrite {
		reindex = rewritePractices
	}
	if err := reindex(ctx, tx, []int64{cur.ID}); err != nil {
		return err
	}
	rep.TopicsUpdated++
	var out *kb.Topic
	return touchTopic(ctx, tx, actor, opTopicSetLabel, cur, &out)
}

// TopicsBySlugs returns the topics with the slugs (current ones only), by
// slug; a slug no topic has is missing from the map.
func (s *Store) TopicsBySlugs(ctx context.Context, slugs []string) (map[string]*kb.Topic, error) {
	rows, err := s.read(ctx).Query(ctx, `SELECT `+topicColumns+` FROM topic t WHERE t.slug = ANY($1)`, slugs)
	if err != nil {
		return nil, translate(err)
	}
	ts, err := collectTopics(rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*kb.Topic, len(ts))
	for _, t := range ts {
		out[t.Slug] = t
	}
	return out, nil
}

// AllTopics returns every topic in slug order, for the data-set export.
func (s *Store) AllTopics(ctx context.Context) ([]*kb.Topic, error) {
	rows, err := s.read(ctx).Query(ctx, `SELECT `+topicColumns+` FROM topic t ORDER BY t.slug`)
	if err != nil {
		return nil, translate(err)
	}
	return collectTopics(rows)
}
