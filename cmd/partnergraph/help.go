package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one command of the command line, as help shows it: the
// dispatch in run and the help come from this table, so that every
// command has a summary, a usage line and an example.
type command struct {
	name    string // "export", "token create"
	summary string
	args    string // what follows the name in the usage line
	example string
	// own registers the command's flags beyond the option table's
	// (export's format and filters, token create's name and role).
	own func(*flag.FlagSet)
	// subs are the subcommands of a command that is only a group (token).
	subs []string
}

// commands is the table of commands, in the order help lists them.
func commands() []command {
	return []command{
		{name: "serve", summary: "serve the GraphQL API (the default command); without DATABASE_URL it runs its own PostgreSQL in the data directory and loads the reference data into an empty database",
			args: "[flags]", example: "partnergraph serve --addr 127.0.0.1:8080"},
		{name: "migrate", summary: "apply pending database migrations",
			args: "[flags]", example: "DATABASE_URL=postgres://partnergraph@db.internal/partnergraph partnergraph migrate"},
		{name: "seed", summary: "load the reference data; a second run changes nothing",
			args: "[flags]", example: "partnergraph seed --data-dir /var/lib/partnergraph"},
		{name: "export", summary: "write the published graph, or a filtered part of it, as CSV, JSON-LD, GraphML or JSON",
			args: "--format csv|jsonld|graphml|json [--out FILE] [filters] [flags]", example: "partnergraph export --format jsonld --country SE --out se.jsonld",
			own: func(fs *flag.FlagSet) { new(exportFlags).register(fs) }},
		{name: "token", summary: "create, list and revoke API tokens", args: "create|list|revoke ...",
			example: `partnergraph token create --name "Anna, editor" --role editor`, subs: []string{"create", "list", "revoke"}},
		{name: "token create", summary: "create an API token and print its secret, once (only its hash is stored)",
			args: "--name NAME --role reader|editor|admin [flags]", example: `partnergraph token create --name "Anna, editor" --role editor`,
			own: func(fs *flag.FlagSet) { tokenCreateFlags(fs) }},
		{name: "token list", summary: "list the tokens: number, name, role, created, revoked",
			args: "[flags]", example: "partnergraph token list"},
		{name: "token revoke", summary: "revoke a token at once, by its number (token list) or its global ID",
			args: "ID [flags]", example: "partnergraph token revoke 3"},
		{name: "import", summary: "import a data-set file: every record is validated first, then all is written or nothing",
			args: "FILE [--dry-run] [flags]", example: "partnergraph import new-partners.json --dry-run",
			own: func(fs *flag.FlagSet) { importFlags(fs) }},
		{name: "generate", summary: "data tool: load a synthetic graph of a chosen size (default 1,000,000 entities, 5,000,000 links)",
			args: "[flags]", example: "partnergraph generate --entities 10000 --links 50000 --data-dir /tmp/partnergraph-small"},
		{name: "reindex", summary: "recompute the search documents of the entities that have none or an older version, or with --all of every entity, then count the vocabulary afresh",
			args: "[--all] [flags]", example: "partnergraph reindex --all",
			own: func(fs *flag.FlagSet) { reindexFlags(fs) }},
		{name: "db", summary: "dev tool: run the embedded PostgreSQL (migrated), or find the one running on the data directory, and print its DATABASE_URL until interrupted",
			args: "[flags]", example: "partnergraph db --data-dir none"},
		{name: "version", summary: "print the version, commit, Go version, schema hash and migration level",
			args: "", example: "partnergraph version"},
		{name: "config-doc", summary: "print the table of settings (docs/configuration.md)",
			args: "", example: "partnergraph config-doc > docs/configuration.md"},
		{name: "help", summary: "show the commands, or the flags and an example of one",
			args: "[COMMAND [SUBCOMMAND]]", example: "partnergraph help token create"},
	}
}

// findCommand returns the command named by the words of name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// writeRootHelp writes the list of commands, each with its summary.
func writeRootHelp(w io.Writer) {
	fmt.Fprint(w, "partnergraph serves the partnership knowledge base of the social economy over GraphQL.\n\n")
	fmt.Fprint(w, "usage: partnergraph [COMMAND] [flags]\n\ncommands:\n")
	for _, c := range commands() {
		if strings.Contains(c.name, " ") {
			continue // listed under its group's help
		}
		fmt.Fprintf(w, "  %-11s %s\n", c.name, wrap(c.summary, 14, 78))
	}
	fmt.Fprint(w, `
example:
  partnergraph token create --name "Anna, editor" --role editor

"partnergraph help COMMAND" or "partnergraph COMMAND -h" shows a command's
flags and an example; "partnergraph --version" the version. Every command
works while serve runs on the same data directory (docs/operations.md).
docs/configuration.md lists every setting with its environment variable.
`)
}

// writeHelp writes the help of c: its summary, usage line, example, and
// its flags only, each with its variable and default.
func writeHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "%s\n\nusage: partnergraph %s", wrap("partnergraph "+c.name+": "+c.summary, 2, 78), c.name)
	if c.args != "" {
		fmt.Fprint(w, " "+c.args)
	}
	fmt.Fprint(w, "\n")
	if len(c.subs) > 0 {
		fmt.Fprint(w, "\ncommands:\n")
		for _, s := range c.subs {
			sub, _ := findCommand(c.name + " " + s)
			fmt.Fprintf(w, "  %-8s %s\n", s, wrap(sub.summary, 11, 78))
		}
	}
	fmt.Fprintf(w, "\nexample:\n  %s\n", c.example)
	if len(c.subs) > 0 {
		fmt.Fprintf(w, "\n\"partnergraph %s COMMAND -h\" shows the flags of each.\n", c.name)
		return
	}
	var cfg Config
	var own []func(*flag.FlagSet)
	if c.own != nil {
		own = append(own, c.own)
	}
	fs := flagSet(c.name, &cfg, own...)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\n")
	fs.SetOutput(w)
	writeUsage(fs, commandBit(c.name))
}

// wrap breaks s into lines of at most width runes, indenting the lines
// after the first by indent spaces.
func wrap(s string, indent, width int) string {
	var b strings.Builder
	col := indent
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if col+1+len([]rune(word)) > width {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len([]rune(word))
	}
	return b.String()
}
