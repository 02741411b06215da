package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"hbsim/experiments"
	"hbsim/model"
	"hbsim/plots"
)

// cmdTimeline draws one run as a PNG: "hbsim timeline NAME|FILE.toml
// [--point P --replication R] [--from T --to T] -o timeline.png".
func cmdTimeline(args []string, stdout io.Writer) error {
	fs := newFlags("timeline")
	point := fs.Int("point", 0, "sweep point (experiment files)")
	rep := fs.Int("replication", 0, "replication (experiment files)")
	out := fs.String("o", "", "the PNG file to write (required)")
	fs.StringVar(out, "out", "", "the PNG file to write (same as -o)")
	from := fs.String("from", "", "start of the window, e.g. 25s (default: chosen from the decisive events)")
	to := fs.String("to", "", "end of the window, e.g. 60s")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("timeline takes one scenario name or experiment file (see \"hbsim scenarios\")")
	}
	if *out == "" {
		return usagef("timeline: -o FILE.png is required")
	}
	if !strings.EqualFold(filepath.Ext(*out), ".png") {
		return usagef("timeline: -o %s: the output is a PNG file; name it *.png", *out)
	}
	var opts plots.TimelineOptions
	if *from != "" || *to != "" {
		if *from == "" || *to == "" {
			return usagef("timeline: --from and --to go together")
		}
		if opts.From, err = time.ParseDuration(*from); err != nil {
			return usagef("timeline: --from: %v", err)
		}
		if opts.To, err = time.ParseDuration(*to); err != nil {
			return usagef("timeline: --to: %v", err)
		}
		if opts.To <= opts.From || opts.From < 0 {
			return usagef("timeline: --from %s --to %s is not a window", *from, *to)
		}
	}

	var cfg model.Config
	var title, desc string
	if strings.HasSuffix(pos[0], ".toml") {
		c, t, err := replicationConfig(pos[0], *point, *rep)
		if err != nil {
			return err
		}
		cfg, title = c, filepath.Base(pos[0])
		desc = t
	} else {
		s, ok := model.ScenarioByName(pos[0])
		if !ok {
			return usagef("no scenario %q (see \"hbsim scenarios\")", pos[0])
		}
		cfg, title = s.Config, s.Name
		desc = s.Description + " Expected watcher events: " + s.Expect + "."
	}
	if opts.To > 0 && opts.From >= cfg.Horizon {
		return usagef("timeline: --from %s is not before the run's horizon %v", *from, cfg.Horizon)
	}
	tl, err := experiments.RunTimeline(cfg, title, desc)
	if err != nil {
		return err
	}
	png, err := plots.Timeline(*tl, opts)
	if err != nil {
		return err
	}
	dir, name := filepath.Split(*out)
	if dir == "" {
		dir = "."
	}
	if err := experiments.WriteFiles(dir, []experiments.File{{Name: name, Data: png}}); err != nil {
		return outputError{err}
	}
	for _, o := range tl.Outcome {
		fmt.Fprintln(stdout, o.Text)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}
