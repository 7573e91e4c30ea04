package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// facetStatsTTL is how long a Store keeps how many practices have each
// facet value: they decide a plan, not an answer, so they may lag.
const facetStatsTTL = 10 * time.Second

// facetIndexShare is the share of the practices below which a filter on
// their facets reads the matches through the GIN indexes and sorts them;
// at or above it, walking the practices in list order and probing each
// one's facets finds a page sooner. At 2% a page of 20 is found within
// about a thousand practices of the walk.
const facetIndexShare = 0.02

// facetStats is how many practices have each facet value ("c:PL",
// "s:PRIVATE") and how many practices there are ("").
type facetStats map[string]int

// facetPlan returns f with its plan for the facets of practices chosen:
// when the practices of f's countries, or those of its sectors, are fewer
// than facetIndexShare of all, it reads the matching practices through the
// GIN indexes (at most that share of them) and f lists those ids (see
// Filter.conds).
// Only the facets of f itself count; those inside and/or/not are probed
// practice by practice.
func (s *Store) facetPlan(ctx context.Context, f Filter) (Filter, error) {
	if len(f.PracticeCountries) == 0 && len(f.PracticeSectors) == 0 {
		return f, nil
	}
	v, err := s.facets.get("stats", func() (any, error) {
		rows, err := s.read(ctx).Query(ctx, `
			SELECT 'c:' || c, count(*) FROM practice_facet, unnest(countries) c GROUP BY 1
			UNION ALL SELECT 's:' || x, count(*) FROM practice_facet, unnest(sectors) x GROUP BY 1
			UNION ALL SELECT '', count(*) FROM practice_facet`)
		if err != nil {
			return nil, translate(err)
		}
		st := facetStats{}
		var key string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&key, &n}, func() error {
			st[key] = n
			return nil
		}); err != nil {
			return nil, translate(err)
		}
		return st, nil
	})
	if err != nil {
		return f, err
	}
	st := v.(facetStats)
	share := func(prefix string, vals []string) float64 {
		n := 0
		for _, x := range vals {
			n += st[prefix+strings.ToUpper(x)]
		}
		return float64(n) / float64(max(st[""], 1))
	}
	most := 1.0
	if len(f.PracticeCountries) > 0 {
		most = min(most, share("c:", f.PracticeCountries))
	}
	if len(f.PracticeSectors) > 0 {
		most = min(most, share("s:", strs(f.PracticeSectors)))
	}
	if most >= facetIndexShare {
		return f, nil
	}
	var cond []string
	var args []any
	if len(f.PracticeCountries) > 0 {
		cs := make([]string, len(f.PracticeCountries))
		for i, c := range f.PracticeCountries {
			cs[i] = strings.ToUpper(c)
		}
		args = append(args, cs)
		cond = append(cond, fmt.Sprintf("countries && $%d::text[]", len(args)))
	}
	if len(f.PracticeSectors) > 0 {
		args = append(args, strs(f.PracticeSectors))
		cond = append(cond, fmt.Sprintf("sectors && $%d::text[]", len(args)))
	}
	rows, err := s.read(ctx).Query(ctx, `SELECT id FROM practice_facet WHERE `+strings.Join(cond, " AND "), args...)
	if err != nil {
		return f, translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return f, translate(err)
	}
	f.facetIDs = append([]int64{}, ids...) // not nil: none match
	return f, nil
}
