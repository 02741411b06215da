package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"hbsim/experiments"
	"hbsim/model"
	"hbsim/plots"
)

// outputError is an unusable output directory: a usage problem (exit 2).
type outputError struct{ err error }

func (e outputError) Error() string { return e.err.Error() }
func (e outputError) Unwrap() error { return e.err }

// isInputError reports errors caused by the user's input rather than by the
// run: a bad spec or a law it describes, a run the machine cannot hold, a
// missing or unreadable input file (a bare *fs.PathError: every write goes
// through experiments.WriteFiles or the checkpoint, which wrap theirs), a
// foreign checkpoint, an unusable output directory. A write that fails once
// the run is under way (disk full, directory removed) is not one: it is a
// *experiments.WriteError, and the run failed (exit 1).
func isInputError(err error) bool {
	var se *experiments.SpecError
	var oe outputError
	var ce *experiments.CheckpointError
	var re *experiments.ResourceError
	var le *model.LawError
	var pe *fs.PathError
	var we *experiments.WriteError
	switch {
	case errors.As(err, &oe):
		return true // an output path given on the command line (timeline -o)
	case errors.As(err, &we):
		return false
	}
	return errors.As(err, &se) || errors.As(err, &ce) || errors.As(err, &re) || errors.As(err, &le) || errors.As(err, &pe)
}

func loadSpec(path string) (*experiments.Spec, error) {
	s, err := experiments.Load(path)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// replicationConfig is the configuration of one replication of an
// experiment file, for "hbsim trace FILE --point P --replication R".
func replicationConfig(path string, point, rep int) (model.Config, string, error) {
	s, err := loadSpec(path)
	if err != nil {
		return model.Config{}, "", err
	}
	if err := guardResources(s, 1); err != nil {
		return model.Config{}, "", err
	}
	pts, err := s.Points()
	if err != nil {
		return model.Config{}, "", err
	}
	if point < 0 || point >= len(pts) {
		return model.Config{}, "", usagef("trace: --point %d is not in [0, %d)", point, len(pts))
	}
	if rep < 0 || rep >= s.Replications {
		return model.Config{}, "", usagef("trace: --replication %d is not in [0, %d)", rep, s.Replications)
	}
	p := pts[point]
	cfg := experiments.ReplicationConfig(s.Seed, p, rep)
	var params []string
	for _, prm := range p.Params {
		params = append(params, prm.Key+"="+prm.Value)
	}
	title := fmt.Sprintf("experiment %s (%s): point %d [%s], replication %d, seed %d",
		s.Name, path, point, strings.Join(params, " "), rep, cfg.Seed)
	return cfg, title, nil
}

func cmdValidate(args []string, stdout io.Writer) error {
	fs := newFlags("validate")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("validate takes one experiment file")
	}
	s, err := loadSpec(pos[0])
	if err != nil {
		return err
	}
	pts, err := s.Points()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok: experiment %q, %d sweep point(s) x %d replication(s), horizon %v, seed %d\n",
		pos[0], s.Name, len(pts), s.Replications, s.Horizon, s.Seed)
	for _, a := range s.Axes() {
		fmt.Fprintf(stdout, "  sweep %s = [%s]\n", a.Key, strings.Join(a.Values, ", "))
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(stdout, "  warning: %s\n", w)
	}
	return nil
}

// Output file names in the output directory.
const (
	checkpointFile = "checkpoint.hbsim"     // records of an interrupted or running run
	partialCSV     = "results.partial.csv"  // what completed before a failure or an interruption
	partialJSON    = "results.partial.json" // ditto, with "partial": true and a warning
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run")
	out := fs.String("out", "", "output directory (default: the file's output.dir)")
	workers := fs.Int("workers", 0, "parallel replications (default GOMAXPROCS)")
	seed := fs.Uint64("seed", 0, "override the experiment seed")
	quiet := fs.Bool("quiet", false, "no progress bar and no cost estimate")
	check := fs.Bool("check", false, "verify invariants after every event")
	resume := fs.Bool("resume", false, "continue an interrupted run from its checkpoint")
	shardFlag := fs.String("shard", "", "run only shard I/N of the replications")
	yes := fs.Bool("yes", false, "run even when the estimated time exceeds --budget")
	budget := durationFlag(time.Hour)
	fs.Var(&budget, "budget", "refuse runs estimated to take longer, unless --yes")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("run takes one experiment file")
	}
	if *workers < 0 {
		return usagef("run: --workers must be at least 1, got %d", *workers)
	}
	if budget <= 0 {
		return usagef("run: --budget must be positive, got %v", time.Duration(budget))
	}
	var sh experiments.Shard
	if *shardFlag != "" {
		if sh, err = experiments.ParseShard(*shardFlag); err != nil {
			return usagef("run: --shard: %s", strings.TrimPrefix(err.Error(), "experiments: "))
		}
	}
	s, err := loadSpec(pos[0])
	if err != nil {
		return err
	}
	if seedSet(args) {
		s.Seed = *seed
	}
	pts, err := s.Points()
	if err != nil {
		return err
	}
	dir := s.Output.Dir
	if *out != "" {
		dir = *out
	}
	ckpt := filepath.Join(dir, checkpointFile)
	if sh.Count > 0 {
		ckpt = filepath.Join(dir, sh.CheckpointName())
	}
	_, statErr := os.Stat(ckpt)
	hasCkpt := statErr == nil
	if hasCkpt && !*resume {
		return &experiments.CheckpointError{Path: ckpt, Msg: "an interrupted run left this checkpoint: continue it with --resume, or delete it to start over"}
	}

	runs := len(pts) * s.Replications
	if sh.Count > 0 {
		runs = (runs - sh.Index + sh.Count - 1) / sh.Count
	}
	estimate, err := guardCost(s, runs, *workers, time.Duration(budget), *yes)
	if err != nil {
		return err
	}
	if err := checkWritable(dir); err != nil {
		return err
	}
	for _, line := range estimate {
		if !*quiet || strings.HasPrefix(line, "warning") {
			fmt.Fprintf(stderr, "hbsim: %s\n", line)
		}
	}
	printWarnings(stderr, "hbsim: warning: ", s.Warnings())
	if *resume && !hasCkpt {
		fmt.Fprintf(stderr, "hbsim: no checkpoint at %s: starting from the beginning\n", ckpt)
	}
	bar := newProgress(stderr, *quiet)
	opts := experiments.RunOptions{Workers: *workers, Check: *check, Progress: bar.update, Resume: *resume}
	if sh.Count > 0 {
		path, err := experiments.RunShard(ctx, s, sh, dir, opts)
		bar.done()
		if err != nil {
			return runFailed(err, nil, dir, filepath.Join(dir, sh.CheckpointName()), pos[0], s.Seed, args)
		}
		fmt.Fprintf(stdout, "wrote %s (shard %s: %d replications); merge the shards with: hbsim merge %s DIR...\n",
			path, sh, runs, shellQuote(pos[0]))
		return nil
	}
	opts.Checkpoint = ckpt
	res, err := experiments.Run(ctx, s, opts)
	bar.done()
	if err != nil {
		return runFailed(err, res, dir, ckpt, pos[0], s.Seed, args)
	}
	if err := writeResults(stdout, res, s.Output.Charts, dir); err != nil {
		// Every replication is in the checkpoint, which stays, unless the
		// directory went away with it.
		note := "every replication is in the checkpoint " + ckpt + "; once the outputs can be written, write them with: " + resumeCommand(args)
		if _, serr := os.Stat(ckpt); serr != nil {
			note = "the checkpoint " + ckpt + " is gone too (" + ioMessage(serr) + "): the run must start over"
		}
		return &failure{err: err, notes: []string{note}}
	}
	// The outputs are complete: what an earlier failure left is stale.
	var stale error
	for _, name := range []string{partialCSV, partialJSON, checkpointFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			stale = errors.Join(stale, err)
		}
	}
	return stale
}

// guardCost estimates the run's cost on this machine and refuses runs that
// do not fit its memory or the event engine (unless yes, for memory that
// other processes hold) or that are over the time budget (unless yes). It
// returns the lines to show: the estimate, or warnings. A run that goes
// ahead gets a soft memory limit (see setMemoryLimit).
func guardCost(s *experiments.Spec, runs, workers int, budget time.Duration, yes bool) ([]string, error) {
	m := readMachine()
	c, err := experiments.EstimateCostOn(s, runs, workers, m)
	var se *experiments.SpecError
	var re *experiments.ResourceError
	var notes []string
	switch {
	case errors.As(err, &se):
		return nil, err // e.g. more than experiments.MaxRuns replications
	case errors.As(err, &re) && re.Soft && yes:
		need, _, _ := strings.Cut(re.Msg, "; ")
		notes = append(notes, "warning: "+need+"; running it anyway (--yes)")
	case errors.As(err, &re):
		return nil, usagef("run: %s: %s", re.File, re.Msg)
	case err != nil:
		return []string{"warning: " + strings.TrimPrefix(err.Error(), "experiments: ")}, nil
	}
	if c.Time > budget && !yes {
		return nil, usagef("run: %s: over the budget of %s: %s on this machine; pass --yes to run it anyway or raise --budget, or cut experiment.replications, experiment.horizon or the sweep",
			s.File, shortDur(budget), c)
	}
	setMemoryLimit(m, c)
	return append([]string{"estimate: " + c.String()}, notes...), nil
}

// guardResources refuses to start work on s (workers replications at once)
// that does not fit this machine's memory or the event engine, for the
// commands without a time budget (trace, timeline, recommend, rare).
func guardResources(s *experiments.Spec, workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	m := readMachine()
	c, err := experiments.EstimateCostOn(s, workers, workers, m)
	var re *experiments.ResourceError
	if errors.As(err, &re) {
		return usagef("%s: %s", re.File, re.Msg)
	}
	var se *experiments.SpecError
	if errors.As(err, &se) {
		return err
	}
	setMemoryLimit(m, c)
	return nil // without an estimate (no calibration run succeeded), the run reports what fails
}

// readMachine reads this machine's memory (tests replace it).
var readMachine = experiments.ReadMachine

// setMemoryLimit gives the Go runtime a soft memory limit, unless GOMEMLIMIT
// sets one: the memory available now, or, for a run forced past it, the
// machine's. Near the limit the collector works harder instead of letting
// the heap grow to twice what is live (GOGC=100), which keeps a run that
// fits from running out of memory on garbage.
func setMemoryLimit(m experiments.Machine, c experiments.Cost) {
	if m.GoLimit != math.MaxInt64 {
		return
	}
	limit := m.Usable()
	if c.Memory > limit {
		limit = m.Installed()
	}
	if limit < math.MaxInt64 {
		debug.SetMemoryLimit(limit)
	}
}

// maxWarnings is how many warnings are printed; results.json has them all.
const maxWarnings = 10

// printWarnings prints the first maxWarnings warnings, each after prefix,
// and how many more there are.
func printWarnings(w io.Writer, prefix string, warnings []string) {
	for i, x := range warnings {
		if i == maxWarnings {
			fmt.Fprintf(w, "%s... and %d more (results.json lists them all)\n", prefix, len(warnings)-i)
			return
		}
		fmt.Fprintf(w, "%s%s\n", prefix, x)
	}
}

// shortDur formats a duration without zero trailing units: "1h", "90m", "2h30m".
func shortDur(d time.Duration) string {
	t := d.String()
	if strings.HasSuffix(t, "m0s") {
		t = strings.TrimSuffix(t, "0s")
	}
	if strings.HasSuffix(t, "h0m") {
		t = strings.TrimSuffix(t, "0m")
	}
	return t
}

// runFailed explains a run that stopped early: what failed and how to
// replay it, or how to resume from the checkpoint ckpt; it writes the
// partial result res (when there is one) to dir, and the stack of a panic
// to a file there (a bug report's attachment, not a terminal's reading).
func runFailed(err error, res *experiments.Result, dir, ckpt, file string, seed uint64, args []string) error {
	f := &failure{err: err}
	var re *experiments.ReplicationError
	var ie *experiments.InterruptedError
	var we *experiments.WriteError
	kept := func(what string) string {
		if _, serr := os.Stat(ckpt); serr != nil {
			return "the checkpoint " + ckpt + " is gone too (" + ioMessage(serr) + "): the run must start over"
		}
		return what + resumeCommand(args)
	}
	switch {
	case errors.As(err, &re):
		cmd := fmt.Sprintf("hbsim trace %s --point %d --replication %d", shellQuote(file), re.Point, re.Replication)
		if seedSet(args) {
			// trace has no --seed: the file must carry the run's seed.
			cmd += fmt.Sprintf(", after setting experiment.seed = %d in the file", seed)
		}
		f.notes = append(f.notes, "replay it with: "+cmd)
		if len(re.Stack) > 0 {
			name := fmt.Sprintf("panic-point-%d-replication-%d.txt", re.Point, re.Replication)
			if dir != "" && experiments.WriteFiles(dir, []experiments.File{{Name: name, Data: re.Stack}}) == nil {
				f.notes = append(f.notes, "the panic's stack is in "+filepath.Join(dir, name)+" (attach it to a bug report)")
			} else {
				f.stack = re.Stack
			}
		}
	case errors.As(err, &ie):
		f.notes = append(f.notes, kept("the checkpoint keeps every finished replication; continue with: "))
	case errors.As(err, &we):
		f.notes = append(f.notes, kept("the checkpoint keeps the replications written before the failure; once there is room, continue with: "))
	}
	if res != nil && dir != "" {
		if err := writePartial(res, dir); err != nil {
			f.notes = append(f.notes, "could not write the partial results: "+err.Error())
		} else {
			f.notes = append(f.notes, fmt.Sprintf("wrote the partial results to %s and %s",
				filepath.Join(dir, partialCSV), filepath.Join(dir, partialJSON)))
		}
	}
	return f
}

// ioMessage is an I/O error without the path that the message already shows.
func ioMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// resumeCommand is the command line of "hbsim run" args with --resume.
func resumeCommand(args []string) string {
	resume := []string{"hbsim"}
	for _, a := range append([]string{"run"}, args...) {
		resume = append(resume, shellQuote(a))
	}
	if !slices.Contains(args, "--resume") && !slices.Contains(args, "-resume") {
		resume = append(resume, "--resume")
	}
	return strings.Join(resume, " ")
}

// failure is a failed run's error with follow-up lines for the user.
type failure struct {
	err   error
	notes []string
	stack []byte
}

func (f *failure) Error() string {
	var b strings.Builder
	b.WriteString(f.err.Error())
	for _, n := range f.notes {
		b.WriteString("\nhbsim: " + n)
	}
	if len(f.stack) > 0 {
		b.WriteString("\n" + strings.TrimRight(string(f.stack), "\n"))
	}
	return b.String()
}

func (f *failure) Unwrap() error { return f.err }

// writePartial writes a partial result under names that cannot be taken for
// complete outputs.
func writePartial(res *experiments.Result, dir string) error {
	js, err := res.JSON()
	if err != nil {
		return err
	}
	return experiments.WriteFiles(dir, []experiments.File{{Name: partialCSV, Data: res.CSV()}, {Name: partialJSON, Data: js}})
}

// writeResults writes results.csv, results.json and the charts to dir
// (each atomically) and prints the summary table.
func writeResults(stdout io.Writer, res *experiments.Result, charts []string, dir string) error {
	files := []experiments.File{{Name: "results.csv", Data: res.CSV()}}
	js, err := res.JSON()
	if err != nil {
		return err
	}
	files = append(files, experiments.File{Name: "results.json", Data: js})
	pngs, err := plots.Charts(*res)
	if err != nil && !errors.Is(err, plots.ErrNoData) {
		return err
	}
	for _, c := range pngs {
		if charts == nil || slices.Contains(charts, strings.TrimSuffix(c.Name, ".png")) {
			files = append(files, experiments.File{Name: c.Name, Data: c.PNG})
		}
	}
	if err := experiments.WriteFiles(dir, files); err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Table())
	fmt.Fprint(stdout, res.MassExpiryTable()) // "" without shared fault episodes
	printWarnings(stdout, "warning: ", res.Warnings)
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, f.Name))
	}
	return nil
}

// cmdMerge is "hbsim merge FILE.toml SHARD...": fold the shards of a run
// into the outputs the unsharded run would have written.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge")
	out := fs.String("out", "", "output directory (default: the file's output.dir)")
	seed := fs.Uint64("seed", 0, "the --seed the shards were run with")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("merge takes the experiment file and the shard files or directories")
	}
	s, err := loadSpec(pos[0])
	if err != nil {
		return err
	}
	if seedSet(args) {
		s.Seed = *seed
	}
	res, err := experiments.Merge(s, pos[1:])
	if err != nil {
		return err
	}
	dir := s.Output.Dir
	if *out != "" {
		dir = *out
	}
	if err := checkWritable(dir); err != nil {
		return err
	}
	printWarnings(stderr, "hbsim: warning: ", s.Warnings())
	return writeResults(stdout, res, s.Output.Charts, dir)
}

// durationFlag is a time.Duration flag whose error shows what to write.
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New(`want a duration with a unit, such as "90m" or "2h"`)
	}
	*d = durationFlag(v)
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// seedSet reports whether --seed was given (0 is a valid seed).
func seedSet(args []string) bool {
	for _, a := range args {
		if a == "--seed" || a == "-seed" || strings.HasPrefix(a, "--seed=") || strings.HasPrefix(a, "-seed=") {
			return true
		}
	}
	return false
}

// checkWritable makes sure results can be written before anything runs.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return outputError{fmt.Errorf("output directory %s: %w", dir, err)}
	}
	f, err := os.CreateTemp(dir, ".hbsim-write-check-*")
	if err != nil {
		return outputError{fmt.Errorf("output directory %s is not writable: %w", dir, err)}
	}
	name := f.Name()
	if err := errors.Join(f.Close(), os.Remove(name)); err != nil {
		return outputError{fmt.Errorf("output directory %s: %w", dir, err)}
	}
	return nil
}

// progress draws a progress line on stderr when it is a terminal and the
// run has lasted more than a second.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	start time.Time
	drawn bool
	last  time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.start) < time.Second || (now.Sub(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last = now
	const width = 40
	filled := width * done / max(total, 1)
	el := now.Sub(p.start)
	eta := time.Duration(float64(el) * float64(total-done) / float64(max(done, 1)))
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d replications, %v elapsed, ~%v left ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, el.Round(time.Second), eta.Round(time.Second))
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
