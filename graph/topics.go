package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
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

// topics resolves Query.topics.
func (r *Resolver) topics(ctx context.Context, first *int, after *string, filter *model.TopicFilter) (*model.TopicConnection, error) {
	n, err := pageSize("first", first)
	if err != nil {
		return nil, err
	}
	from := ""
	if after != nil {
		if from, err = parseTopicCursor("after", *after); err != nil {
			return nil, err
		}
	}
	var f store.TopicFilter
	if filter != nil {
		f.Text = deref(filter.Text)
		f.Used = filter.Used != nil && *filter.Used
	}
	ts, more, err := r.Store.Topics(ctx, loader.For(ctx).Visibility(), f, n, from)
	if err != nil {
		return nil, err
	}
	c := &model.TopicConnection{Nodes: ts, Edges: make([]*model.TopicEdge, len(ts)), PageInfo: &model.PageInfo{}}
	for i, t := range ts {
		c.Edges[i] = &model.TopicEdge{Cursor: topicCursor(t.Slug), Node: t}
	}
	c.PageInfo.HasNextPage = more
	c.PageInfo.HasPreviousPage = from != ""
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

// topicPractices resolves Topic.practices: the list of practices filtered
// by the topic's slug.
func (r *Resolver) topicPractices(ctx context.Context, t *kb.Topic, pa pageArgs, orderBy []*model.EntityOrder) (*model.GoodPracticeConnection, error) {
	f := store.Filter{Kind: kb.KindGoodPractice, Topics: []string{t.Slug}}
	c := &model.GoodPracticeConnection{}
	err := r.list(ctx, f, orderBy, pa, func(e *kb.Entity, cursor string) {
		n := model.GoodPracticeFrom(e)
		c.Nodes = append(c.Nodes, n)
		c.Edges = append(c.Edges, &model.GoodPracticeEdge{Cursor: cursor, Node: n})
	}, &c.PageInfo, &c.Count, &c.CountIsExact)
	return c, err
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
