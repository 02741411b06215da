package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"hbsim/model"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the run itself failed
	exitUsage  = 2 // bad command line or bad input file
)

const usage = `hbsim simulates ZooKeeper client heartbeats and server session expiry.

Usage:
  hbsim run FILE.toml [--out DIR] [--workers N] [--seed S] [--quiet] [--check]
                  [--resume] [--shard I/N] [--budget D] [--yes]
                                  run an experiment: table on stdout, CSV, JSON and PNG charts in DIR
  hbsim merge FILE.toml SHARD|DIR... [--out DIR] [--seed S]
                                  fold the shards of "run --shard" into the unsharded outputs
  hbsim recommend FILE.toml --target RATE/outage|RATE/session-day [--at KEY=VALUE] [--out DIR] [--plain]
                                  the smallest session timeout that meets an expiry target, and its cost
                                  (per session-day: the rare-event estimator where its assumptions hold)
  hbsim rare FILE.toml [--target 0.1] [--out DIR]
                                  rare-event estimate of expiry (conditioning + importance sampling)
  hbsim validate FILE.toml        check an experiment file and list its sweep points
  hbsim trace NAME|FILE.toml [--point P] [--replication R] [--brief] [--zk-log DIR]
                                  print one run's timeline and outcome, or write it as
                                  ZooKeeper client/server logs and GC logs in DIR
  hbsim fit FILE... [--format auto|csv|zk|gc] [--transport tcp|ideal] [--syn-schedule S]
                  [--rto D] [--no-tlp] [--kind KIND] [--law LAW] [--every D] [--raw] [--out DIR]
                                  fit outage or pause laws to durations, ZooKeeper client
                                  logs or GC logs; print a [[fault]] table and draw fit.png
  hbsim timeline NAME|FILE.toml [--point P] [--replication R] [--from T --to T] -o FILE.png
                                  draw one run: client states, pings, deadlines, faults, decisive events
  hbsim scenarios                 list the built-in scenarios
  hbsim presets [NAME...]         list the built-in outage and pause presets, their sources and caveats
  hbsim help                      show this text

Exit codes: 0 ok, 1 the run failed, 2 bad usage or bad input.
`

// usageError marks errors that exit with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// run is the whole command: all behaviour lives here or in packages, with
// injected output streams, so that tests can call it. Every failure exits
// with exitFailed or exitUsage and one readable line on stderr first; a
// panic outside the replications (which recover their own) is a bug: it
// exits with exitFailed, and its stack goes to a file.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "hbsim: internal error: %v\nhbsim: this is a bug in hbsim, not in the input: please report it with the command line and the file%s\n",
				p, stackFile(debug.Stack()))
			code = exitFailed
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "scenarios":
		err = cmdScenarios(args[1:], stdout)
	case "trace":
		err = cmdTrace(args[1:], stdout)
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "merge":
		err = cmdMerge(args[1:], stdout, stderr)
	case "recommend":
		err = cmdRecommend(ctx, args[1:], stdout, stderr)
	case "rare":
		err = cmdRare(ctx, args[1:], stdout)
	case "validate":
		err = cmdValidate(args[1:], stdout)
	case "presets":
		err = cmdPresets(args[1:], stdout)
	case "timeline":
		err = cmdTimeline(args[1:], stdout)
	case "fit":
		err = cmdFit(args[1:], stdout)
	default:
		err = usagef("unknown command %q (try \"hbsim help\")", args[0])
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "hbsim: "+err.Error())
	var ue usageError
	if errors.As(err, &ue) || isInputError(err) {
		return exitUsage
	}
	return exitFailed
}

// stackFile writes a panic's stack to a temporary file and returns "; the
// stack is in FILE", or "" when it cannot.
func stackFile(stack []byte) string {
	f, err := os.CreateTemp("", "hbsim-crash-*.txt")
	if err != nil {
		return ""
	}
	_, err = f.Write(stack)
	if errors.Join(err, f.Close()) != nil {
		return ""
	}
	return "; the stack is in " + f.Name()
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses flags that may come before or after positional
// arguments ("trace NAME --brief" and "trace --brief NAME").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %w", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdScenarios(args []string, stdout io.Writer) error {
	if len(args) != 0 {
		return usagef("scenarios takes no arguments")
	}
	for _, s := range model.Scenarios() {
		fmt.Fprintf(stdout, "%-30s %s\n%-30s expect: %s\n\n", s.Name, wrap(s.Description, 80, 31), "", s.Expect)
	}
	return nil
}

// wrap folds text at width, indenting continuation lines.
func wrap(text string, width, indent int) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && line+1+len(word) > width {
			b.WriteString("\n" + strings.Repeat(" ", indent))
			line = 0
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}
