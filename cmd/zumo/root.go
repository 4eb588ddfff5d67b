package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// stdio is where a command reads and writes; tests pass their own.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// globals are the flags every command shares.
type globals struct {
	io      stdio
	app     string // --app, else $ZUMO_APP_URL
	output  string // -o: "", "table" or "json"
	verbose bool
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, io stdio) int {
	g := &globals{io: io}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	fmt.Fprintln(io.err, "zumo: "+message(err))
	if code == exitUsage {
		fmt.Fprintln(io.err, "Run 'zumo --help' for usage.")
	}
	return code
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "zumo",
		Short: "A client and a local emulator for Azure Mobile Apps backends",
		Long: `zumo talks to an Azure Mobile Apps (or Mobile Services) backend from the
terminal, and runs a local emulator of one ("zumo serve").

The service is chosen with --app URL or the ZUMO_APP_URL variable. Exit codes:
0 success, 1 failure (the server's status and message on stderr), 2 usage.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.app, "app", os.Getenv("ZUMO_APP_URL"), "the service's URL (default $ZUMO_APP_URL)")
	pf.StringVarP(&g.output, "output", "o", "", `output format: "table" or "json" (default: table on a terminal, else json)`)
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "log every request to stderr (tokens redacted)")
	root.AddCommand(
		newServeCmd(g),
		newLoginCmd(g), newLogoutCmd(g), newWhoamiCmd(g),
		newTableCmd(g), newAPICmd(g),
		newPullCmd(g), newPushCmd(g),
	)
	wrapRun(root)
	return root
}

// wrapRun marks the errors that commands return as runErrors, so that
// exitCode tells them from cobra's command-line errors.
func wrapRun(c *cobra.Command) {
	if f := c.RunE; f != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if err := f(cmd, args); err != nil {
				if _, ok := err.(*usageError); ok {
					return err
				}
				return &runError{err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapRun(sub)
	}
}
