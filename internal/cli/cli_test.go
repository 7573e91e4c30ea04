package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary be the program under test: with
// CLI_TEST_RUN set it runs Main with a command that does what the
// variable says.
func TestMain(m *testing.M) {
	switch os.Getenv("CLI_TEST_RUN") {
	case "":
		os.Exit(m.Run())
	case "ok":
		Main("prog", func(_ context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
			fmt.Fprintf(stdout, "args %q env %s\n", args, getenv("CLI_TEST_RUN"))
			return nil
		})
		os.Exit(0)
	case "fail":
		Main("prog", func(context.Context, []string, func(string) string, io.Writer) error {
			return errors.New("the database is gone")
		})
	case "usage":
		Main("prog", func(context.Context, []string, func(string) string, io.Writer) error {
			return Usagef("unknown command %q", "frobnicate")
		})
	case "help":
		Main("prog", func(context.Context, []string, func(string) string, io.Writer) error {
			return fmt.Errorf("parse: %w", flag.ErrHelp)
		})
	}
	os.Exit(3) // Main returned after a failure: it must not
}

func runSelf(t *testing.T, mode string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CLI_TEST_RUN="+mode)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestMainPassesTheProcessAndExitsOnFailure: the command gets the
// arguments without the program's name and the environment; a failure is
// printed as "prog: error" with status 1, a usage error with status 2, -h
// exits 0 without a message.
func TestMainPassesTheProcessAndExitsOnFailure(t *testing.T) {
	if out, _, code := runSelf(t, "ok", "serve", "--addr", ":1"); code != 0 || out != "args [\"serve\" \"--addr\" \":1\"] env ok\n" {
		t.Errorf("ok: status %d, output %q", code, out)
	}
	if _, errOut, code := runSelf(t, "fail"); code != 1 || errOut != "prog: the database is gone\n" {
		t.Errorf("fail: status %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runSelf(t, "usage"); code != 2 || errOut != "prog: unknown command \"frobnicate\"\n" {
		t.Errorf("usage: status %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runSelf(t, "help"); code != 0 || strings.TrimSpace(errOut) != "" {
		t.Errorf("help: status %d, stderr %q", code, errOut)
	}
}
