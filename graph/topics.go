package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/store"
)

// The topic vocabulary in the API (schema/topics.graphqls; docs/api.md,
// "Topics").

// topicCursor points at a topic in the slug order of `topics`.
func topicCursor(slug string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("topic:" + slug))
}

func parseTopicCursor(field, c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "topic:") {
		return "", kb.Invalid(field, "%q is not a cursor of the topics list", c)
	}
	return strings.TrimPrefix(string(b), "topic:"), nil
}

// topics resolves Query.topics: the vocabulary is small (at most
// store.MaxTopics terms), so the matching topics are read in slug order
// and the page is cut in memory as Relay's connection spec says: the
// topics after `after` and before `before`, then the first `first`, then
// the last `last` of those.
func (r *Resolver) topics(ctx context.Context, pa pageArgs, filter *model.TopicFilter) (*model.TopicConnection, error) {
	var f store.TopicFilter
	if filter != nil {
		f.Text = deref(filter.Text)
		f.Used = filter.Used != nil && *filter.Used
	}
	w, err := pageWindow(pa, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	var from, to string
	if w.after != nil {
		if from, err = parseTopicCursor("after", *w.after); err != nil {
			return nil, err
		}
	}
	if w.before != nil {
		if to, err = parseTopicCursor("before", *w.before); err != nil {
			return nil, err
		}
	}
	all, err := r.Store.Topics(ctx, loader.For(ctx).Visibility(), f)
	if err != nil {
		return nil, err
	}
	rows := make([]*kb.Topic, 0, len(all))
	for _, t := range all {
		if (from == "" || t.Slug > from) && (to == "" || t.Slug < to) {
			rows = append(rows, t)
		}
	}
	// In reading order, up to one beyond the page, as cut expects.
	if w.backward {
		slices.Reverse(rows)
	}
	if len(rows) > w.n+1 {
		rows = rows[:w.n+1]
	}
	ts, pi := cut(w, rows)
	c := &model.TopicConnection{Nodes: ts, Edges: make([]*model.TopicEdge, len(ts)), PageInfo: pi}
	for i, t := range ts {
		c.Edges[i] = &model.TopicEdge{Cursor: topicCursor(t.Slug), Node: t}
	}
	setCursors(c.PageInfo, len(ts), func(i int) string { return c.Edges[i].Cursor })
	return c, nil
}

// topic resolves Query.topic: null when no topic has or had the slug.
func (r *Resolver) topic(ctx context.Context, slug string) (*kb.Topic, error) {
	t, err := r.Store.TopicBySlug(ctx, slug)
	if err != nil && isTopicNotFound(err) {
		return nil, nil
	}
	return t, err
}

func isTopicNotFound(err error) bool { return errors.Is(err, kb.ErrTopicNotFound) }

// topicLabels resolves Topic.labels, in the order of lang.Supported.
func topicLabels(t *kb.Topic, only *string) ([]*model.TopicLabel, error) {
	want := ""
	if only != nil {
		var err error
		if want, err = lang.Parse(*only); err != nil {
			return nil, kb.Invalid("lang", "%v", err)
		}
	}
	out := []*model.TopicLabel{}
	for _, l := range lang.Supported {
		if s, ok := t.Labels[l]; ok && (want == "" || want == l) {
			out = append(out, &model.TopicLabel{Lang: l, Label: s})
		}
	}
	return out, nil
}

// practiceTopics loads the topics of a practice.
func practiceTopics(ctx context.Context, p *model.GoodPractice) ([]*kb.Topic, error) {
	ts, err := loader.For(ctx).PracticeTopics.Load(ctx, p.RowID)
	if ts == nil {
		ts = []*kb.Topic{}
	}
	return ts, err
}

// practiceTopicLabels resolves the deprecated GoodPractice.topics: the
// labels of its topics in the requested language.
func practiceTopicLabels(ctx context.Context, p *model.GoodPractice) ([]string, error) {
	ts, err := practiceTopics(ctx, p)
	if err != nil {
		return nil, err
	}
	want := lang.Requested(ctx)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i], _ = t.Label(want)
	}
	return out, nil
}

// topicCount counts, up to the count bound, the practices that carry t
// and the caller may see, as the list filtered by its slug counts them.
func (r *Resolver) topicCount(ctx context.Context, t *kb.Topic) (store.Count, error) {
	bound := r.CountBound
	if bound == 0 {
		bound = store.DefaultCountBound
	}
	f := store.Filter{Kind: kb.KindGoodPractice, Topics: []string{t.Slug}}
	return r.Store.CountEntitiesUpTo(ctx, loader.For(ctx).Visibility(), f, bound)
}

func labelMap(in []*model.TopicLabelInput) (map[string]string, error) {
	out := map[string]string{}
	for i, l := range in {
		tag, err := lang.Parse(l.Lang)
		if err != nil {
			return nil, kb.Invalid(fmt.Sprintf("labels[%d].lang", i), "%v", err)
		}
		if _, dup := out[tag]; dup {
			return nil, kb.Invalid(fmt.Sprintf("labels[%d].lang", i), "a second label in %s", tag)
		}
		out[tag] = l.Label
	}
	return out, nil
}

// practiceTopicsChange adds (assign) or removes topics of a practice as a
// change of the entry. The topics are slugs; each must name a topic.
func (r *Resolver) practiceTopicsChange(ctx context.Context, in model.PracticeTopicsInput, assign bool) (*model.GoodPractice, error) {
	n, err := entityID("id", in.ID, kb.KindGoodPractice)
	if err != nil {
		return nil, err
	}
	given := make([]*kb.Topic, len(in.Topics))
	for i, slug := range in.Topics {
		t, err := r.Store.TopicBySlug(ctx, slug)
		if err != nil {
			return nil, fmt.Errorf("topics[%d]: %w", i, err)
		}
		given[i] = t
	}
	e, err := r.Store.UpdateEntity(ctx, actor(ctx), kb.OpUpdate, n, in.ExpectedVersion, func(cur *kb.Entity) (*kb.Entity, error) {
		if cur.GoodPractice == nil {
			return nil, kb.Invalid("id", "not a good practice")
		}
		ids, err := r.Store.FindTopics(ctx, cur.GoodPractice.Topics)
		if err != nil {
			return nil, err
		}
		next := *cur
		gp := *cur.GoodPractice
		next.GoodPractice = &gp
		has := map[int64]bool{}
		var topics []string
		for i, s := range cur.GoodPractice.Topics {
			drop := false
			for _, t := range given {
				drop = drop || (!assign && ids[i] == t.ID)
			}
			if !drop {
				topics = append(topics, s)
				has[ids[i]] = true
			}
		}
		if assign {
			for _, t := range given {
				if !has[t.ID] {
					topics = append(topics, t.Slug)
					has[t.ID] = true
				}
			}
		}
		gp.Topics = topics
		return &next, nil
	})
	if err != nil {
		return nil, err
	}
	return model.GoodPracticeFrom(e), nil
}
