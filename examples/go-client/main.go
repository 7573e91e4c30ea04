// Command go-client is the example Go client of partnergraph: the README's
// five main queries and a refetch through `nodes`, as typed functions that
// genqlient generates from operations.graphql and the schema
// (examples/README.md). Run it against a server:
//
//	go run ./examples/go-client -url http://localhost:8080/graphql
package main

//go:generate go tool genqlient genqlient.yaml

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/Khan/genqlient/graphql"
)

func main() {
	url := flag.String("url", "http://localhost:8080/graphql", "the GraphQL endpoint")
	flag.Parse()
	a, err := run(context.Background(), graphql.NewClient(*url, http.DefaultClient))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-client:", err)
		os.Exit(1)
	}
	a.print(os.Stdout)
}

// answers holds what the five queries answered.
type answers struct {
	project   *ProjectPartnersResponse
	practices []PracticesGoodPracticesGoodPracticeConnectionNodesGoodPractice
	total     int // the practices' totalCount
	pages     int
	search    *SearchResponse
	path      *PathResponse
	sectors   *SectorMixResponse
	refetched []RefetchNodesNode
}

// run sends the README's five queries, paging through the practices, and
// refetches the two ends of the path through `nodes`.
func run(ctx context.Context, c graphql.Client) (*answers, error) {
	var a answers
	var err error
	if a.project, err = ProjectPartners(ctx, c, "innowacyjny model"); err != nil {
		return nil, fmt.Errorf("project partners: %w", err)
	}
	// The first page goes with after "", genqlient's zero value, which the
	// API takes for no cursor.
	after := ""
	for {
		p, err := Practices(ctx, c, after)
		if err != nil {
			return nil, fmt.Errorf("practices after %q: %w", after, err)
		}
		a.pages++
		a.total = p.GoodPractices.TotalCount
		a.practices = append(a.practices, p.GoodPractices.Nodes...)
		if !p.GoodPractices.PageInfo.HasNextPage {
			break
		}
		after = p.GoodPractices.PageInfo.EndCursor
	}
	if a.search, err = Search(ctx, c, "spoldzielnie ceramika", 3); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	ids := make([]string, 2)
	for i, key := range []string{"coompanion", "wtz-gebice"} {
		e, err := EntityID(ctx, c, key)
		if err != nil {
			return nil, fmt.Errorf("entity %s: %w", key, err)
		}
		if e.EntityByKey == nil {
			return nil, fmt.Errorf("entity %s: %w", key, errors.New("no such entity"))
		}
		ids[i] = e.EntityByKey.GetId()
	}
	if a.path, err = Path(ctx, c, ids[0], ids[1]); err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	if a.sectors, err = SectorMix(ctx, c); err != nil {
		return nil, fmt.Errorf("sector mix: %w", err)
	}
	r, err := Refetch(ctx, c, ids)
	if err != nil {
		return nil, fmt.Errorf("refetch: %w", err)
	}
	a.refetched = r.Nodes
	return &a, nil
}

func (a *answers) print(w io.Writer) {
	for _, p := range a.project.Projects.Nodes {
		fmt.Fprintf(w, "project %s\n", p.Name)
		for _, l := range p.Leaders.Nodes {
			fmt.Fprintf(w, "  leader %s (%s)\n", l.GetName(), l.GetSector())
		}
		for _, l := range p.Partners.Nodes {
			fmt.Fprintf(w, "  partner %s (%s)\n", l.Name, l.Sector)
		}
	}
	fmt.Fprintf(w, "%d good practices in %d pages\n", len(a.practices), a.pages)
	for _, e := range a.search.Search.Edges {
		fmt.Fprintf(w, "hit %s (%.2f): %s\n", e.Node.GetName(), e.Score, e.Snippet.Html)
	}
	var names []string
	for _, n := range a.path.Path.Nodes {
		names = append(names, n.GetName())
	}
	fmt.Fprintf(w, "path of %d links: %s\n", a.path.Path.Length, strings.Join(names, " - "))
	for _, g := range a.sectors.Aggregate.Groups {
		fmt.Fprintf(w, "partners %v: %d\n", g.Key, g.Count)
	}
	for _, n := range a.refetched {
		if n != nil {
			fmt.Fprintf(w, "node %s %s\n", n.GetTypename(), n.GetId())
		}
	}
}
