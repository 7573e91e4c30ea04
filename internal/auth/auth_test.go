package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func TestNewTokenIsRandomAndHashedOnly(t *testing.T) {
	a, ha := NewToken()
	b, hb := NewToken()
	if a == b || !strings.HasPrefix(a, Prefix) || len(a) != len(Prefix)+43 {
		t.Errorf("tokens %q, %q: want two different pgr_ tokens of 43 characters", a, b)
	}
	if len(ha) != 32 || string(ha) == string(hb) || string(Hash(a)) != string(ha) {
		t.Error("hashes: want the SHA-256 of each token")
	}
}

func TestAuthenticate(t *testing.T) {
	good, hash := NewToken()
	lookup := func(_ context.Context, h []byte) (kb.Viewer, error) {
		if string(h) == string(hash) {
			return kb.Viewer{TokenID: 1, Name: "anna", Role: kb.RoleEditor}, nil
		}
		return kb.Anonymous, kb.ErrNotFound
	}
	for _, tc := range []struct {
		header string
		want   kb.Role
		err    error
	}{
		{"", kb.RoleAnonymous, nil},
		{"Bearer " + good, kb.RoleEditor, nil},
		{"bearer  " + good + " ", kb.RoleEditor, nil},
		{"Bearer pgr_nope", kb.RoleAnonymous, kb.ErrUnauthenticated},
		{"Basic abc", kb.RoleAnonymous, kb.ErrUnauthenticated},
		{"Bearer", kb.RoleAnonymous, kb.ErrUnauthenticated},
	} {
		v, err := Authenticate(context.Background(), tc.header, lookup)
		if v.Role != tc.want || !errors.Is(err, tc.err) && !(tc.err == nil && err == nil) {
			t.Errorf("%q: got %s, %v; want %s, %v", tc.header, v.Role, err, tc.want, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), good) {
			t.Errorf("%q: the error repeats the token", tc.header)
		}
	}
}
