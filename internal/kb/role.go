package kb

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what an API token allows. Roles are ordered: each allows what
// the ones before it allow.
type Role string

// The roles, from least to most.
const (
	// RoleAnonymous is a caller without a token: published entries only.
	RoleAnonymous Role = "ANONYMOUS"
	// RoleReader reads like an anonymous caller, but is known by name.
	RoleReader Role = "READER"
	// RoleEditor is staff: sees drafts and contact details and may change
	// entries and links.
	RoleEditor Role = "EDITOR"
	// RoleAdmin is staff that may also delete entries, erase personal data
	// and manage tokens.
	RoleAdmin Role = "ADMIN"
)

// Roles lists the roles a token may carry, least first.
var Roles = []Role{RoleReader, RoleEditor, RoleAdmin}

var roleRank = map[Role]int{RoleAnonymous: 0, RoleReader: 1, RoleEditor: 2, RoleAdmin: 3}

// ParseRole returns the role named s, in any case ("editor", "EDITOR"). It
// returns a *ValidationError for anything but READER, EDITOR or ADMIN.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", Invalid("role", "role must be reader, editor or admin, not %q", s)
	}
	return r, nil
}

// Allows reports whether r includes everything need allows.
func (r Role) Allows(need Role) bool { return roleRank[r] >= roleRank[need] }

// Viewer is who makes a request: a named token with its role, or nobody.
type Viewer struct {
	// TokenID is the id of the token; 0 for an anonymous caller.
	TokenID int64
	// Name is the token's name, recorded as the actor of every change.
	Name string
	Role Role
}

// Anonymous is the viewer of a request without a token.
var Anonymous = Viewer{Role: RoleAnonymous}

// Staff reports whether v may see drafts and contact details.
func (v Viewer) Staff() bool { return v.Role.Allows(RoleEditor) }

// Actor is the name recorded in the revision log for v's changes.
func (v Viewer) Actor() string {
	if v.Name == "" {
		return "anonymous"
	}
	return v.Name
}

// Require returns nil when v's role allows need; else ErrUnauthenticated
// for an anonymous caller and ErrForbidden for a token with too small a
// role, each wrapped with what was needed.
func (v Viewer) Require(need Role) error {
	if v.Role.Allows(need) {
		return nil
	}
	if v.Role == RoleAnonymous || v.Role == "" {
		return fmt.Errorf("%w: this needs a token with the %s role", ErrUnauthenticated, need)
	}
	return fmt.Errorf("%w: this needs the %s role; the token has %s", ErrForbidden, need, v.Role)
}
