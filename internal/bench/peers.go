package bench

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// PeerURLs is the value of `partnergraph bench --peer`: the peers to
// compare partnergraph with, by name (a key of Peers: v4, v5), in the
// order given. It implements flag.Value; the flag may be repeated and each
// value may hold several comma-separated NAME=URL pairs, e.g.
// --peer v4=http://127.0.0.1:5433/graphql,v5=http://127.0.0.1:5434/graphql.
type PeerURLs struct {
	Names []string
	URLs  []string
}

// String implements flag.Value.
func (p *PeerURLs) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for i, n := range p.Names {
		parts = append(parts, n+"="+p.URLs[i])
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: it adds the NAME=URL pairs of v, and fails on
// an unknown name, a name given twice or a URL that is not http(s).
func (p *PeerURLs) Set(v string) error {
	for pair := range strings.SplitSeq(v, ",") {
		name, u, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || name == "" || u == "" {
			return fmt.Errorf("peer %q: want NAME=URL, NAME one of %s", pair, strings.Join(PeerNames(), ", "))
		}
		if err := p.Add(name, u); err != nil {
			return err
		}
	}
	return nil
}

// Add adds the peer name at the GraphQL endpoint u; it fails as Set does.
func (p *PeerURLs) Add(name, u string) error {
	if _, ok := Peers[name]; !ok {
		return fmt.Errorf("peer %q: unknown; known: %s", name, strings.Join(PeerNames(), ", "))
	}
	if slices.Contains(p.Names, name) {
		return fmt.Errorf("peer %q: given twice", name)
	}
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return fmt.Errorf("peer %s: %q is not an http(s) URL", name, u)
	}
	p.Names = append(p.Names, name)
	p.URLs = append(p.URLs, u)
	return nil
}

// Targets returns a target per peer, in the order given, sending its
// requests through client.
func (p *PeerURLs) Targets(client *http.Client) []Target {
	var out []Target
	for i, n := range p.Names {
		d := Peers[n]
		out = append(out, &Peer{Label: d.Label, URL: p.URLs[i], HTTP: client, Queries: d.Queries})
	}
	return out
}

// PeerNames returns the names of Peers, sorted.
func PeerNames() []string {
	var names []string
	for n := range Peers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
