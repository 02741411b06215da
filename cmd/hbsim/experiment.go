package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
// run: a bad spec, a missing file, an unusable output directory.
func isInputError(err error) bool {
	var se *experiments.SpecError
	var oe outputError
	var pe *fs.PathError
	return errors.As(err, &se) || errors.As(err, &oe) || errors.As(err, &pe)
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

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run")
	out := fs.String("out", "", "output directory (default: the file's output.dir)")
	workers := fs.Int("workers", 0, "parallel replications (default GOMAXPROCS)")
	seed := fs.Uint64("seed", 0, "override the experiment seed")
	quiet := fs.Bool("quiet", false, "no progress bar")
	check := fs.Bool("check", false, "verify invariants after every event")
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
	s, err := loadSpec(pos[0])
	if err != nil {
		return err
	}
	if seedSet(args) {
		s.Seed = *seed
	}
	dir := s.Output.Dir
	if *out != "" {
		dir = *out
	}
	if err := checkWritable(dir); err != nil {
		return err
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(stderr, "hbsim: warning: %s\n", w)
	}
	bar := newProgress(stderr, *quiet)
	res, err := experiments.Run(ctx, s, experiments.RunOptions{Workers: *workers, Check: *check, Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	files := []experiments.File{{Name: "results.csv", Data: res.CSV()}}
	js, err := res.JSON()
	if err != nil {
		return err
	}
	files = append(files, experiments.File{Name: "results.json", Data: js})
	charts, err := plots.Charts(*res)
	if err != nil && !errors.Is(err, plots.ErrNoData) {
		return err
	}
	for _, c := range charts {
		if s.Output.Charts == nil || slices.Contains(s.Output.Charts, strings.TrimSuffix(c.Name, ".png")) {
			files = append(files, experiments.File{Name: c.Name, Data: c.PNG})
		}
	}
	if err := experiments.WriteFiles(dir, files); err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Table())
	for _, w := range res.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, f.Name))
	}
	return nil
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
