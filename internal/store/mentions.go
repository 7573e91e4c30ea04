package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// Mentions returns up to first entries of any status, other than person
// id, whose text names the person: the folded words of the person's name,
// in order, as a phrase of one of their texts (name, summary, descriptions
// and the other text fields that the search documents index). They are
// what an erasure of the person leaves (docs/staff.md, "Erasure"). The
// person may have been deleted: its name is then read from its last
// revision. It returns kb.ErrNotFound for an unknown id, and a
// *kb.ValidationError for an entry that is not a person or a person that
// has been erased, whose name is gone.
func (s *Store) Mentions(ctx context.Context, id int64, first int) ([]*kb.Entity, error) {
	name, err := s.personName(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", err)
	}
	words := textsearch.Words(name)
	if len(words) == 0 {
		return []*kb.Entity{}, nil
	}
	rows, err := s.read(ctx).Query(ctx, `SELECT d.entity_id FROM search_doc d JOIN entity e ON e.id = d.entity_id
		WHERE d.vec @@ to_tsquery('simple', $1) AND d.entity_id <> $2
		ORDER BY e.sort_name, e.id LIMIT $3`, namePhrase(words), id, first)
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", translate(err))
	}
	es, err := s.EntitiesByID(ctx, Visibility{Drafts: true}, ids)
	if err != nil {
		return nil, err
	}
	out := es[:0]
	for _, e := range es {
		if e != nil { // deleted since the search
			out = append(out, e)
		}
	}
	return out, nil
}

// namePhrase is the tsquery of a name's folded words next to each other,
// in order (the index keeps word positions), each in any inflection: as
// the word or one of its stems, as the index wrote them. Polish inflects
// names, and an article about "Malwinę Pokrywkę" names Malwina Pokrywka.
func namePhrase(words []string) string {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	groups := make([]string, len(words))
	for i, w := range words {
		alts := textsearch.Lexemes(w)
		for j, l := range alts {
			alts[j] = "'" + quote.Replace(l) + "'"
		}
		groups[i] = "(" + strings.Join(alts, " | ") + ")"
	}
	return strings.Join(groups, " <-> ")
}

// personName returns the name of person id, from its entry or, when the
// entry was deleted, from the newest state its revisions hold.
func (s *Store) personName(ctx context.Context, id int64) (string, error) {
	var kind kb.Kind
	var name string
	var erased bool
	err := s.read(ctx).QueryRow(ctx, `SELECT kind, name, EXISTS (SELECT 1 FROM revision WHERE entity_id = $1 AND operation = $2)
		FROM entity WHERE id = $1`, id, opColumn(kb.OpErase)).Scan(&kind, &name, &erased)
	if errors.Is(err, pgx.ErrNoRows) {
		var raw []byte
		err = s.read(ctx).QueryRow(ctx, `SELECT coalesce(after, before),
				EXISTS (SELECT 1 FROM revision WHERE entity_id = $1 AND operation = $2)
			FROM revision WHERE entity_id = $1 AND (before IS NOT NULL OR after IS NOT NULL)
			ORDER BY id DESC LIMIT 1`, id, opColumn(kb.OpErase)).Scan(&raw, &erased)
		if err == nil {
			var e kb.Entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return "", fmt.Errorf("revision: %w", err)
			}
			kind, name = e.Kind, e.Name
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		var wasErased bool
		if err := s.read(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revision WHERE entity_id = $1 AND operation = $2)`,
			id, opColumn(kb.OpErase)).Scan(&wasErased); err != nil {
			return "", translate(err)
		}
		if wasErased {
			return "", kb.Invalid("of", "the person has been erased: the name that would find mentions of it is gone")
		}
		return "", fmt.Errorf("entry: %w", kb.ErrNotFound)
	}
	if err != nil {
		return "", translate(err)
	}
	switch {
	case kind != kb.KindPerson:
		return "", kb.Invalid("of", "is a %s, not a person", kind.TypeName())
	case erased:
		return "", kb.Invalid("of", "the person has been erased: the name that would find mentions of it is gone")
	}
	return name, nil
}
