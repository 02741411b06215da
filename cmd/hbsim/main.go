// Command hbsim simulates ZooKeeper heartbeats and session expiry on a
// virtual clock. Run "hbsim help" for the commands.
//
// # Interrupting and resuming a run
//
// "hbsim run" appends every finished replication to DIR/checkpoint.hbsim as
// it goes. On SIGINT or SIGTERM it starts no new replication, lets the ones
// in flight finish, syncs the checkpoint, writes what completed to
// DIR/results.partial.csv and .json, and exits with status 1; a second
// signal exits at once. "hbsim run FILE --resume" (with the same flags)
// continues from the checkpoint and ends with outputs byte-identical to an
// uninterrupted run. A killed process (SIGKILL, a crash) loses at most the
// records not yet written; --resume drops a torn last record and runs it
// again. Outputs are written atomically (temporary file, then rename), so a
// killed run leaves each output either as it was or complete.
//
// # Sharding a run over machines
//
// "hbsim run FILE --shard I/N --out DIR" runs every replication j (numbered
// point by point) with j mod N = I and writes their records to
// DIR/shard-I-of-N.hbsim; the file appears only once the shard is complete.
// "hbsim merge FILE DIR..." folds the N shard files in replication order into
// results.csv, results.json and the charts, byte-identical to the unsharded
// run's. Every shard must use the same FILE (same points, seed and
// replications; merge checks a fingerprint) and the same hbsim build. Shards
// accept --resume like runs do, and treat a complete shard file as done, so
// a retried shard does no work twice.
//
// As a Kubernetes Indexed Job (completionMode: Indexed, completions: N,
// a shared volume at /results):
//
//	command: ["sh", "-c", "hbsim run /spec/exp.toml --quiet --yes --resume --shard $JOB_COMPLETION_INDEX/8 --out /results"]
//
// then, once the Job completes: hbsim merge /spec/exp.toml /results --out /results/merged.
//
// As a Slurm array job (sbatch --array=0-7):
//
//	hbsim run exp.toml --quiet --yes --resume --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --out shards
//
// then: hbsim merge exp.toml shards. Any batch system with an array index
// works the same way; copy the shard files into one place (or pass each
// directory to merge).
//
// # Guard rails
//
// Before running, "hbsim run" estimates the run's memory, events and
// wall-clock time: first from the file alone (sessions, tracker ring, sweep
// points, outputs), then from a calibration of at most about 0.2 s on this
// machine. It prints the estimate (unless --quiet) and refuses, with exit
// status 2, the numbers and what to change: a run that needs more memory
// than the machine has (physical or cgroup memory, GOMEMLIMIT, ulimit -v)
// or more events than the engine holds; a run that needs more memory than
// is available now, unless --yes; a run estimated over --budget (default
// 1h), unless --yes. A run that goes ahead gets a soft memory limit (the
// available memory, unless GOMEMLIMIT is set), so that the collector works
// harder rather than let garbage exhaust the machine. trace, timeline,
// recommend and rare make the same memory and engine checks.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := onSignals(context.Background(), sigs, os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// onSignals returns a context cancelled by the first signal on sigs; the
// second calls exit(exitFailed) at once. cancel releases the watcher.
func onSignals(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(int)) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	quit := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "\nhbsim: %v: finishing the replications in flight and writing a checkpoint (again to exit at once)\n", s)
			cancel()
		case <-quit:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "hbsim: %v again: exiting now\n", s)
			exit(exitFailed)
		case <-quit:
		}
	}()
	var once sync.Once
	return ctx, func() { once.Do(func() { cancel(); close(quit) }) }
}
