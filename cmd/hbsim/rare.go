package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"hbsim/experiments"
)

// cmdRare is "hbsim rare FILE.toml": the rare-event estimation mode.
func cmdRare(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("rare")
	out := fs.String("out", "", "output directory (default: the file's output.dir + \"-rare\")")
	workers := fs.Int("workers", 0, "parallel episodes (default GOMAXPROCS)")
	target := fs.Float64("target", 0.1, "stop at this relative 95 % half-width")
	maxEpisodes := fs.Int("max-episodes", 2_000_000, "episodes per point at most")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("rare takes one experiment file")
	}
	if *target <= 0 || *target >= 1 {
		return usagef("rare: --target must be in (0, 1), got %g", *target)
	}
	s, err := loadSpec(pos[0])
	if err != nil {
		return err
	}
	if err := guardResources(s, *workers); err != nil {
		return err
	}
	dir := s.Output.Dir + "-rare"
	if *out != "" {
		dir = *out
	}
	if err := checkWritable(dir); err != nil {
		return err
	}
	res, est, err := experiments.RunRare(ctx, s, experiments.RareOptions{Workers: *workers, TargetRelHalfWidth: *target, MaxEpisodes: *maxEpisodes})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: rare-event estimates (conditioned on single outages, importance-sampled outage lengths)\n", s.Name)
	for _, pt := range res.Points {
		e, ok := est[pt.Index]
		if !ok {
			continue // simulated plainly: see the warnings
		}
		fmt.Fprintf(stdout, "  %s: P(expire | outage) = %.3g ± %.2g (95 %%, %d episodes, %d expired; a = %.3gs, S(a) = %.3g, overlap ρ = %.3g)\n",
			experiments.PointLabel(pt.Params), e.P, e.HalfWidth, e.Episodes, e.Expired, e.Threshold, e.TailMass, e.Rho)
		fmt.Fprintf(stdout, "    expiries per session-day = %.3g [%.3g, %.3g]\n", e.Rate,
			e.Rate*(1-e.HalfWidth/max(e.P, 1e-300)), e.Rate*(1+e.HalfWidth/max(e.P, 1e-300)))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	js, err := res.JSON()
	if err != nil {
		return err
	}
	files := []experiments.File{{Name: "results.csv", Data: res.CSV()}, {Name: "results.json", Data: js}}
	if err := experiments.WriteFiles(dir, files); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, f.Name))
	}
	return nil
}
