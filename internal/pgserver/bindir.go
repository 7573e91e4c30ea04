package pgserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// installHint ends every "binaries not found" error: it says how to get
// PostgreSQL or how to do without a private server.
const installHint = "install the PostgreSQL server " +
	"(Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql) " +
	"or set DATABASE_URL to use an existing server"

// FindBinDir returns the directory holding the PostgreSQL server binaries
// (postgres and initdb). It looks, in order, beside the postgres found on
// PATH (following symlinks, so both binaries come from one installation),
// in `pg_config --bindir`, and in the highest version of
// /usr/lib/postgresql/*/bin (Debian and Ubuntu keep them there, off PATH).
// It returns an error saying how to install PostgreSQL, or to set
// DATABASE_URL instead, when none of them has both binaries.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && hasBinaries(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); hasBinaries(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") // the pattern is valid
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	for _, dir := range dirs {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find PostgreSQL: no postgres and initdb on PATH, in pg_config --bindir or in /usr/lib/postgresql/*/bin: %s", installHint)
}

// checkBinDir returns an error with the install hint unless dir holds both
// server binaries.
func checkBinDir(dir string) error {
	if !hasBinaries(dir) {
		return fmt.Errorf("find PostgreSQL: no postgres and initdb in %s: %s", dir, installHint)
	}
	return nil
}

// hasBinaries reports whether dir holds executable postgres and initdb files.
func hasBinaries(dir string) bool {
	for _, name := range []string{"postgres", "initdb"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// compareVersions compares dotted version numbers such as "9.6" and "15"
// numerically, part by part; a part that is not a number counts as 0.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
