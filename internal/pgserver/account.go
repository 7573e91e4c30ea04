package pgserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// account is the unprivileged OS user that initdb and postgres run as when
// this process is root (both refuse to run as root).
type account struct {
	name     string
	uid, gid uint32
	groups   []uint32 // supplementary groups, the primary one included
	home     string
}

// lookupAccount returns the account named name, or when name is empty the
// "postgres" user if it exists and else "nobody".
func lookupAccount(name string) (*account, error) {
	var u *user.User
	var err error
	if name != "" {
		u, err = user.Lookup(name)
	} else {
		u, err = user.Lookup("postgres")
		if errors.As(err, new(user.UnknownUserError)) {
			u, err = user.Lookup("nobody")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("look up the user to run PostgreSQL as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %s is root: PostgreSQL refuses to run as root, choose an unprivileged user", u.Username)
	}
	a := &account{name: u.Username, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}, home: u.HomeDir}
	// Without the group list the server runs with its primary group only,
	// which is enough for everything pgserver sets up.
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && uint32(g) != a.gid {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// credentialOrNil returns the credential that makes a child process run as
// a, or nil (run as ourselves) when a is nil.
func (a *account) credentialOrNil() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

// chown makes a the owner of path.
func (a *account) chown(path string) error {
	if err := os.Chown(path, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// checkTraversable returns an error naming the first existing ancestor of
// dir, from the root down, that a cannot enter (search permission), since
// the server running as a could then not reach its data directory. A
// typical case is a data directory under /root, which is mode 0700. Access
// control lists are not consulted; the mode bits decide.
func (a *account) checkTraversable(dir string) error {
	var ancestors []string
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		ancestors = append(ancestors, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	slices.Reverse(ancestors) // from the root down
	for _, d := range ancestors {
		fi, err := os.Stat(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue // created later with mode 0755
		}
		if err != nil {
			return fmt.Errorf("check data directory %s: %w", dir, err)
		}
		if !a.canSearch(fi) {
			return fmt.Errorf("data directory %s is out of reach: PostgreSQL must run as the unprivileged user %s (uid %d) because this process is root, "+
				"and %s (mode %v) does not let that user in; set PARTNERGRAPH_DATA_DIR to a directory elsewhere, e.g. /var/lib/partnergraph",
				dir, a.name, a.uid, d, fi.Mode().Perm())
		}
	}
	return nil
}

// canSearch reports whether the mode bits of directory fi let a enter it.
func (a *account) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // cannot tell; let the server report any problem
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case slices.Contains(a.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
