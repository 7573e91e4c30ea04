// Package cli runs the project's command-line programs (partnergraph and
// partnergraph-bench) the same way: the process's arguments, environment
// and standard output go to a run function that a test can call with its
// own, and an interrupt cancels its context.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is a program's body: it runs with args (without the program's
// name), reads its environment through getenv and writes its output to
// stdout, until it ends or ctx is cancelled.
type Command func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error

// UsageError is a command line that cannot be understood: an unknown
// command or flag, a missing or extra argument. Main exits with status 2
// for it, as the flag package and most Unix tools do, so that a script
// can tell a mistake in its call from a failure of the work.
type UsageError struct{ Err error }

// Error returns the message of the mistake.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the mistake.
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// Main runs cmd with the process's arguments, environment and standard
// output; SIGINT and SIGTERM cancel its context. When cmd fails, Main
// prints "name: error" to standard error and exits with status 2 for a
// UsageError and 1 for any other; after -h (flag.ErrHelp, the usage
// already printed) it exits with status 0, as help is what was asked.
func Main(name string, cmd Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	os.Exit(exitCode(name, err, os.Stderr))
}

// exitCode prints err to w as Main does and returns the status to exit
// with.
func exitCode(name string, err error, w io.Writer) int {
	var usage UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintln(w, name+":", err)
		return 2
	default:
		fmt.Fprintln(w, name+":", err)
		return 1
	}
}
