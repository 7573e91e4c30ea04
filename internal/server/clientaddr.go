package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Behind a reverse proxy every request comes from the proxy's address, so
// the rate limit and the exports per address would put every anonymous
// client in one bucket. The proxy names the client in Forwarded (RFC 7239)
// or X-Forwarded-For; since any client can send those headers too, they
// count only when the peer is a configured trusted proxy
// (PARTNERGRAPH_TRUSTED_PROXIES), and then only as far as the chain of
// trusted proxies reaches: the client is the last address in the header
// that is not itself a trusted proxy, so an address a client put at the
// front of the header changes nothing.

type clientKey struct{}

// resolveClient puts the client's address in the request's context.
func (s *Server) resolveClient(next http.Handler) http.Handler {
	if len(s.cfg.TrustedProxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := forwardedClient(r, s.cfg.TrustedProxies)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, addr)))
	})
}

// clientAddr is the IP address of the client, without its port: the
// peer's, or the one a trusted proxy forwarded.
func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey{}).(string); ok {
		return a
	}
	return peerAddr(r)
}

func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedClient returns the client address of r: the peer unless it is
// a trusted proxy, else the rightmost address of Forwarded (or, without
// it, X-Forwarded-For) that is not a trusted proxy. A malformed or hidden
// entry ("unknown", "_gw1") stops the walk at the last address known.
func forwardedClient(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r)
	ip, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(ip.Unmap(), trusted) {
		return peer
	}
	var hops []string
	if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		hops = forwardedFor(fwd)
	} else {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for _, h := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
	}
	client := ip.Unmap()
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the for= values of Forwarded header values, in
// order; an element without one gives "" (which stops the walk).
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range splitQuoted(v, ',') {
			val := ""
			for _, pair := range splitQuoted(elem, ';') {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					val = strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
			out = append(out, val)
		}
	}
	return out
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseHop reads one address of a forwarding header: an IPv4 or IPv6
// address, with or without a port, IPv6 possibly in brackets.
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		if a, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
