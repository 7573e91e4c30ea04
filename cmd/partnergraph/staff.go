package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/dataimport"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
)

const tokenUsage = `usage:
  partnergraph token create --name NAME --role reader|editor|admin
  partnergraph token list
  partnergraph token revoke ID`

// runToken manages API tokens: create prints the secret once (it is stored
// only as a hash), list shows names and roles, revoke stops one at once.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	action, args := args[0], args[1:]
	var name, roleName *string
	cfg, rest, err := parseConfig("token", args, getenv, func(fs *flag.FlagSet) {
		name = fs.String("name", "", "who or what holds the token (create)")
		roleName = fs.String("role", "", "reader, editor or admin (create)")
	})
	if err != nil {
		return err
	}
	var role kb.Role
	var id int64
	switch action {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return errors.New("token create: --name is required\n" + tokenUsage)
		}
		if role, err = kb.ParseRole(*roleName); err != nil {
			return fmt.Errorf("token create: --role: %w", err)
		}
	case "list":
	case "revoke":
		if len(rest) != 1 {
			return errors.New("token revoke: give the token's ID (see token list)\n" + tokenUsage)
		}
		if id, err = parseTokenID(rest[0]); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown token command %q\n%s", action, tokenUsage)
	}
	app := &App{Config: cfg}
	if err := app.Open(ctx); err != nil {
		return err
	}
	defer app.Close(context.Background())
	switch action {
	case "create":
		secret, hash := auth.NewToken()
		t, err := app.Store.CreateToken(ctx, strings.TrimSpace(*name), role, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d %q (%s) created. Its secret, shown only now:\n\n  %s\n\nSend it as the header  Authorization: Bearer %s\n",
			t.ID, t.Name, strings.ToLower(string(t.Role)), secret, secret)
	case "list":
		ts, err := app.Store.Tokens(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLE\tCREATED\tREVOKED")
		for _, t := range ts {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.ToLower(string(t.Role)),
				t.CreatedAt.UTC().Format("2006-01-02 15:04"), revoked)
		}
		return w.Flush()
	case "revoke":
		t, err := app.Store.RevokeToken(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d %q revoked\n", t.ID, t.Name)
	}
	return nil
}

// parseTokenID reads a token's number (as token list shows it) or its
// global ID (as the API shows it).
func parseTokenID(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	t, n, err := relay.ParseID(s)
	if err != nil || t != "Token" {
		return 0, fmt.Errorf("token revoke: %q is not a token ID", s)
	}
	return n, nil
}

// runImport imports a data-set file: every record is validated first, and
// then all is written or nothing. Bad records are listed by position and
// reason, and the command fails.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	var dryRun *bool
	var actor *string
	cfg, rest, err := parseConfig("import", args, getenv, func(fs *flag.FlagSet) {
		dryRun = fs.Bool("dry-run", false, "validate and report without writing")
		actor = fs.String("actor", "import", "the name recorded as the author of the changes")
	})
	if err != nil {
		return err
	}
	if file == "" && len(rest) == 1 {
		file = rest[0]
	} else if file == "" || len(rest) > 0 {
		return errors.New("usage: partnergraph import FILE [--dry-run]")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := dataimport.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	app := &App{Config: cfg}
	if err := app.Open(ctx); err != nil {
		return err
	}
	defer app.Close(context.Background())
	rep, err := dataimport.Run(ctx, app.Store, *actor, d, *dryRun)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p)
	}
	fmt.Fprintln(stdout, rep.Summary())
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%s: %d bad record(s), nothing written", file, len(rep.Problems))
	}
	return nil
}
