package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"hbsim/experiments"
	"hbsim/plots"
)

// fixFlag collects repeated --at KEY=VALUE flags.
type fixFlag map[string]string

func (f fixFlag) String() string {
	var parts []string
	for k, v := range f {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (f fixFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want KEY=VALUE, e.g. fault[0].duration=8s, got %q", s)
	}
	if _, dup := f[k]; dup {
		return fmt.Errorf("%s is fixed twice", k)
	}
	f[k] = v
	return nil
}

// cmdRecommend is "hbsim recommend FILE.toml --target RATE": the smallest
// session timeout that meets an expiry target, its cost in plain sentences,
// and the trade-off chart.
func cmdRecommend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("recommend")
	target := fs.String("target", "", "the expiry target: RATE/outage or RATE/session-day")
	out := fs.String("out", "", "output directory (default out/<name>-recommend)")
	fix := fixFlag{}
	fs.Var(fix, "at", "fix a swept axis to one value, KEY=VALUE (repeatable; default: pool every value)")
	baseline := fs.Duration("baseline", 0, "the timeout to compare with (default: the file's session timeout)")
	maxTimeout := fs.Duration("max-timeout", 0, "search ceiling (default: min(4 x maxSessionTimeout, horizon/2))")
	batch := fs.Int("batch", 0, "first batch of replications per point (default: the file's replications)")
	maxReps := fs.Int("max-replications", 0, "replication budget per point and timeout (default 8 x batch)")
	workers := fs.Int("workers", 0, "parallel replications (default GOMAXPROCS)")
	seed := fs.Uint64("seed", 0, "override the experiment seed")
	quiet := fs.Bool("quiet", false, "no progress lines")
	check := fs.Bool("check", false, "verify invariants after every event")
	plain := fs.Bool("plain", false, "per-session-day targets: simulate plainly even where the rare-event estimator applies")
	rareBatch := fs.Int("rare-batch", 0, "rare-event estimator: first batch of episodes per point and timeout (default 2000)")
	rareMax := fs.Int("rare-max-episodes", 0, "rare-event estimator: episodes per point and timeout at most (default 4 x rare-batch)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("recommend takes one experiment file")
	}
	if *target == "" {
		return usagef("recommend: --target is required, e.g. --target 1e-3/outage or --target 1e-4/session-day")
	}
	tgt, err := experiments.ParseTarget(*target)
	if err != nil {
		return usageError{err}
	}
	if *workers < 0 || *batch < 0 || *maxReps < 0 || *baseline < 0 || *maxTimeout < 0 || *rareBatch < 0 || *rareMax < 0 {
		return usagef("recommend: --workers, --batch, --max-replications, --baseline, --max-timeout, --rare-batch and --rare-max-episodes must not be negative")
	}
	s, err := loadSpec(pos[0])
	if err != nil {
		return err
	}
	if err := guardResources(s, *workers); err != nil {
		return err
	}
	if seedSet(args) {
		s.Seed = *seed
	}
	dir := filepath.Join("out", s.Name+"-recommend")
	if *out != "" {
		dir = *out
	}
	if err := checkWritable(dir); err != nil {
		return err
	}
	opts := experiments.RecommendOptions{
		Target: tgt, Fix: fix, Baseline: *baseline, MaxTimeout: *maxTimeout,
		Batch: *batch, MaxReplications: *maxReps, Workers: *workers, Check: *check,
		Plain: *plain, RareBatch: *rareBatch, RareMaxEpisodes: *rareMax,
	}
	if !*quiet {
		start := time.Now()
		opts.Progress = func(c experiments.Candidate) {
			m, _ := c.Metric(tgt.Metric)
			unit := "replications"
			if m.Method == experiments.MethodImportance {
				unit = "episodes"
			}
			fmt.Fprintf(stderr, "hbsim: T = %gs: %s (%.3g, 95%% CI [%.3g, %.3g], %d %s/point, %v)\n",
				c.TimeoutS, c.Verdict, m.Estimate, m.Lower, m.Upper, c.Replications, unit, time.Since(start).Round(time.Second))
		}
	}
	rec, err := experiments.Recommend(ctx, s, opts)
	if err != nil {
		if errors.Is(err, experiments.ErrTargetUnreachable) || errors.Is(err, experiments.ErrRecommendInput) {
			return usageError{err}
		}
		return err
	}
	js, err := rec.JSON()
	if err != nil {
		return err
	}
	files := []experiments.File{{Name: "recommend.json", Data: js}}
	p, err := plots.Recommend(*rec)
	if err != nil && !errors.Is(err, plots.ErrNoData) {
		return err
	}
	if err == nil {
		png, err := plots.RenderPNG(p)
		if err != nil {
			return err
		}
		files = append(files, experiments.File{Name: plots.NameTradeOff, Data: png})
	}
	if err := experiments.WriteFiles(dir, files); err != nil {
		return err
	}
	fmt.Fprint(stdout, rec.Text())
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, f.Name))
	}
	if rec.Recommended < 0 {
		return fmt.Errorf("recommend: %s", rec.Reason)
	}
	return nil
}
