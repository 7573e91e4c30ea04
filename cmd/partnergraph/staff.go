package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/cli"
	"github.com/partnergraph/partnergraph/internal/dataimport"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/progress"
	"github.com/partnergraph/partnergraph/internal/relay"
)

// tokenCreateFlags registers the flags of token create.
func tokenCreateFlags(fs *flag.FlagSet) (name, role *string) {
	name = fs.String("name", "", "who or what holds the token (required)")
	role = fs.String("role", "", "reader, editor or admin (required)")
	return name, role
}

// runToken manages API tokens: create prints the secret once (it is stored
// only as a hash), list shows names and roles, revoke stops one at once.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	group, _ := findCommand("token")
	if len(args) == 0 {
		return cli.Usagef("token: say create, list or revoke; \"partnergraph token -h\" shows how")
	}
	action, args := args[0], args[1:]
	if isHelp(action) || action == "help" {
		writeHelp(stdout, group)
		return nil
	}
	cmd := "token " + action
	var name, roleName *string
	var extra []func(*flag.FlagSet)
	switch action {
	case "create":
		extra = append(extra, func(fs *flag.FlagSet) { name, roleName = tokenCreateFlags(fs) })
	case "list", "revoke":
	default:
		return cli.Usagef("unknown token command %q; \"partnergraph token -h\" lists them", action)
	}
	cfg, rest, err := parseConfig(cmd, args, getenv, extra...)
	if err != nil {
		return helpOr(err, cmd, stdout)
	}
	var role kb.Role
	var id int64
	switch action {
	case "create":
		if len(rest) > 0 {
			return cli.Usagef("token create: unexpected arguments %q", rest)
		}
		if strings.TrimSpace(*name) == "" {
			return cli.Usagef("token create: --name is required; \"partnergraph token create -h\" shows how")
		}
		if role, err = kb.ParseRole(*roleName); err != nil {
			return cli.Usagef("token create: --role: %w", err)
		}
	case "list":
		if len(rest) > 0 {
			return cli.Usagef("token list: unexpected arguments %q", rest)
		}
	case "revoke":
		if len(rest) != 1 {
			return cli.Usagef("token revoke: give the token's ID (see token list); \"partnergraph token revoke -h\" shows how")
		}
		if id, err = parseTokenID(rest[0]); err != nil {
			return cli.UsageError{Err: err}
		}
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

// importFlags registers the flags of import.
func importFlags(fs *flag.FlagSet) (dryRun *bool, actor *string) {
	dryRun = fs.Bool("dry-run", false, "validate and report without writing")
	actor = fs.String("actor", "import", "the name recorded as the author of the changes")
	return dryRun, actor
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
		dryRun, actor = importFlags(fs)
	})
	if err != nil {
		return helpOr(err, "import", stdout)
	}
	if file == "" && len(rest) == 1 {
		file = rest[0]
	} else if file == "" || len(rest) > 0 {
		return cli.Usagef("import: give one data-set file; \"partnergraph import -h\" shows how")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	// The meters stop while the database starts, whose log lines would
	// otherwise run into their line.
	reading := newMeter(cfg, getenv, "import")
	reading.Start("reading "+filepath.Base(file), size, progress.Bytes)
	d, err := dataimport.Decode(progress.Reader{R: f, M: reading})
	reading.End()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	app := &App{Config: cfg}
	if err := app.Open(ctx); err != nil {
		return err
	}
	defer app.Close(context.Background())
	verb := "validating and writing"
	if *dryRun {
		verb = "validating (dry run)"
	}
	writing := newMeter(cfg, getenv, "import")
	writing.Start(fmt.Sprintf("%s %d entities, %d links, %d indicators", verb, len(d.Entities), len(d.Links), len(d.Indicators)), 0, "")
	rep, err := dataimport.Run(ctx, app.Store, *actor, d, *dryRun)
	writing.End()
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
