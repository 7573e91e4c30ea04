package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/loader"
)

// localized returns es with their text in the language the request asks
// for (lang.Requested: @lang or Accept-Language), as copies; es as they
// are when it asks for none. The texts of the whole list come through the
// Texts loader: the lists of one level, which gqlgen resolves
// concurrently, share one query. Nil entries stay nil.
func localized(ctx context.Context, es []*kb.Entity) ([]*kb.Entity, error) {
	return localize(ctx, es, func(ids []int64) ([]kb.Texts, error) {
		ts, err := loader.For(ctx).Texts.LoadAll(ctx, ids)
		return ts, firstError(err)
	})
}

// localizedRoot is localized for a root field's list, which shares its
// level with no other: its texts are read at once, without the loaders'
// wait.
func localizedRoot(ctx context.Context, es []*kb.Entity) ([]*kb.Entity, error) {
	return localize(ctx, es, func(ids []int64) ([]kb.Texts, error) { return loader.For(ctx).TextsNow(ctx, ids) })
}

func localize(ctx context.Context, es []*kb.Entity, fetch func([]int64) ([]kb.Texts, error)) ([]*kb.Entity, error) {
	want := lang.Requested(ctx)
	if want == "" || len(es) == 0 {
		return es, nil
	}
	ids := make([]int64, 0, len(es))
	for _, e := range es {
		if e != nil {
			ids = append(ids, e.ID)
		}
	}
	texts, err := fetch(ids)
	if err != nil {
		return nil, err
	}
	out := make([]*kb.Entity, len(es))
	j := 0
	for i, e := range es {
		if e == nil {
			continue
		}
		out[i] = e.Localized(want, texts[j])
		j++
	}
	return out, nil
}

// localizedOne is localized for one entity.
func localizedOne(ctx context.Context, e *kb.Entity) (*kb.Entity, error) {
	want := lang.Requested(ctx)
	if want == "" || e == nil {
		return e, nil
	}
	t, err := loader.For(ctx).Texts.Load(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	return e.Localized(want, t), nil
}

// texts returns the original language and translations of an entity.
func texts(ctx context.Context, b *model.EntityBase) (kb.Texts, error) {
	t, err := loader.For(ctx).Texts.Load(ctx, b.RowID)
	if t.Original == "" {
		t.Original = lang.Default
	}
	return t, err
}

// originalLanguage resolves Entity.originalLanguage.
func originalLanguage(ctx context.Context, b *model.EntityBase) (string, error) {
	t, err := texts(ctx, b)
	return t.Original, err
}

// servedLang resolves nameLang, summaryLang and descriptionLang: the
// language localized served the field in, or, when the request asked for
// none, the language of the entry's own text of the field.
func servedLang(ctx context.Context, b *model.EntityBase, field func(*kb.Served) string) (string, error) {
	if b.Served != nil {
		return field(b.Served), nil
	}
	t, err := texts(ctx, b)
	if err != nil {
		return "", err
	}
	s := kb.Localize(&kb.Entity{}, "", t)
	return field(&s), nil
}

// translations resolves Entity.translations, those into l when it is
// given (a supported language, else BAD_USER_INPUT naming lang).
func translations(ctx context.Context, b *model.EntityBase, l *string) ([]*model.Translation, error) {
	only := ""
	if l != nil {
		var err error
		if only, err = lang.Parse(*l); err != nil {
			return nil, kb.Invalid("lang", "%v", err)
		}
	}
	t, err := texts(ctx, b)
	if err != nil {
		return nil, err
	}
	return model.TranslationsFrom(t.Translations, only), nil
}

func servedName(s *kb.Served) string    { return s.Name }
func servedSummary(s *kb.Served) string { return s.Summary }

// languageModels are the supported languages as the API lists them.
func languageModels() []*model.Language {
	out := make([]*model.Language, len(lang.Supported))
	for i, l := range lang.Supported {
		out[i] = &model.Language{Tag: l, Name: lang.Name(l), EnglishName: lang.EnglishName(l), IsDefault: l == lang.Default}
	}
	return out
}

// translationInput parses the ID, field and language of a translation
// to set or remove.
func translationInput(id string, field kb.TextField, l string) (int64, string, error) {
	n, err := entityID("id", id, "")
	if err != nil {
		return 0, "", err
	}
	if !field.Valid() {
		return 0, "", kb.Invalid("field", "unknown field %q", field)
	}
	tag, err := lang.Parse(l)
	if err != nil {
		return 0, "", kb.Invalid("lang", "%v", err)
	}
	return n, tag, nil
}

// setTranslation sets one translation as a change of the entry: locked,
// version-checked, validated (kb.Entity.Validate checks the language, the
// field and the length), with a revision.
func (r *Resolver) setTranslation(ctx context.Context, in model.SetTranslationInput) (model.Entity, error) {
	n, tag, err := translationInput(in.ID, in.Field, in.Lang)
	if err != nil {
		return nil, err
	}
	t := kb.Translation{Field: in.Field, Lang: tag, Text: in.Text, Machine: in.Machine != nil && *in.Machine, Place: placeArg(in.Place)}
	e, err := r.Store.UpdateEntity(ctx, actor(ctx), kb.OpUpdate, n, in.ExpectedVersion, func(cur *kb.Entity) (*kb.Entity, error) {
		next := *cur
		next.Translations = append([]kb.Translation(nil), cur.Translations...)
		next.SetTranslation(t)
		return &next, nil
	})
	if err != nil {
		return nil, inputField(err)
	}
	return model.FromEntity(e), nil
}

// placeArg is the place of a translation input: 0 when omitted.
func placeArg(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// inputField names the input's field in a validation error of the
// entry's translations: "text", not "translations[2].text".
func inputField(err error) error {
	var v *kb.ValidationError
	if errors.As(err, &v) && strings.HasPrefix(v.Field, "translations[") {
		if i := strings.Index(v.Field, "]."); i > 0 {
			return &kb.ValidationError{Field: v.Field[i+2:], Message: v.Message}
		}
	}
	return err
}

// removeTranslation removes one translation, with a revision; NOT_FOUND
// when there is none.
func (r *Resolver) removeTranslation(ctx context.Context, in model.RemoveTranslationInput) (model.Entity, error) {
	n, tag, err := translationInput(in.ID, in.Field, in.Lang)
	if err != nil {
		return nil, err
	}
	e, err := r.Store.UpdateEntity(ctx, actor(ctx), kb.OpUpdate, n, in.ExpectedVersion, func(cur *kb.Entity) (*kb.Entity, error) {
		next := *cur
		place := placeArg(in.Place)
		if !next.RemoveTranslation(in.Field, place, tag) {
			if place > 0 {
				return nil, fmt.Errorf("%w: the entry has no %s translation of place %d into %s", kb.ErrNotFound, in.Field, place, tag)
			}
			return nil, fmt.Errorf("%w: the entry has no %s translation into %s", kb.ErrNotFound, in.Field, tag)
		}
		return &next, nil
	})
	if err != nil {
		return nil, err
	}
	return model.FromEntity(e), nil
}
