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

// Main runs cmd with the process's arguments, environment and standard
// output; SIGINT and SIGTERM cancel its context. When cmd fails, Main
// prints "name: error" to standard error (nothing after -h, whose usage is
// already printed) and exits with status 1.
func Main(name string, cmd Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, name+":", err)
		}
		os.Exit(1)
	}
}
