package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hbsim/experiments"
	"hbsim/experiments/fit"
	"hbsim/plots"
)

// Output file names of hbsim fit.
const (
	fitJSON      = "fit.json"
	fitFault     = "fault.toml"
	fitDurations = "durations.csv" // the observed durations, for the empirical law
)

// cmdFit is "hbsim fit FILE...": the law behind a capacity planner's own
// observations, and the [[fault]] table that reproduces it.
func cmdFit(args []string, stdout io.Writer) error {
	fs := newFlags("fit")
	format := fs.String("format", "auto", "input format: auto, csv, zk (ZooKeeper client log) or gc (JVM GC log)")
	transport := fs.String("transport", "tcp", "how ZooKeeper reconnections date an outage's end: tcp (SYN retransmissions) or ideal")
	syn := fs.String("syn-schedule", "classic", "with --transport tcp: the SYN retransmission schedule, classic (1, 3, 7 s...) or linear (Linux >= 6.5)")
	rto := fs.Duration("rto", 200*time.Millisecond, "with --transport tcp: a lost ping's first retransmission timeout (rto_min plus the round trip)")
	noTLP := fs.Bool("no-tlp", false, "with --transport tcp: the kernel sends no tail loss probe (retransmissions at rto, 3 rto, 7 rto...)")
	kind := fs.String("kind", "", "the [[fault]] kind (default outage, client-pause for GC logs)")
	lawName := fs.String("law", "", "write the [[fault]] with this law instead of the chosen one")
	every := fs.Duration("every", 0, "mean time between episodes for the [[fault]] when the input has no start times")
	raw := fs.Bool("raw", false, "ZooKeeper logs: also fit the raw disconnection times, for contrast (wrong by construction)")
	out := fs.String("out", filepath.Join("out", "fit"), "output directory for fit.png, fit.json and fault.toml")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("fit takes one or more files: CSV of durations, ZooKeeper client logs or JVM GC logs")
	}
	f, err := fit.ParseFormat(*format)
	if err != nil {
		return usageError{err}
	}
	opts := fit.Options{}
	switch *transport {
	case "tcp":
		opts.Transport = fit.TransportTCP
	case "ideal":
		opts.Transport = fit.TransportIdeal
	default:
		return usagef("fit: --transport %q: want tcp or ideal", *transport)
	}
	switch *syn {
	case "classic":
		opts.SYN = fit.SYNClassic
	case "linear":
		opts.SYN = fit.SYNLinear
	default:
		return usagef("fit: --syn-schedule %q: want classic or linear", *syn)
	}
	if *every < 0 {
		return usagef("fit: --every must not be negative")
	}
	if *rto <= 0 {
		return usagef("fit: --rto must be positive")
	}
	opts.RTO, opts.NoTLP = rto.Seconds(), *noTLP
	files, err := expandFiles(pos)
	if err != nil {
		return err
	}
	var ds []*fit.Data
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return err // a *fs.PathError: exit 2
		}
		d, err := fit.Read(name, data, f, opts)
		if err != nil {
			return usageError{err}
		}
		ds = append(ds, d)
	}
	d, err := fit.Merge(ds)
	if err != nil {
		return usageError{err}
	}
	res, err := fit.Fit(d)
	if err != nil {
		return usageError{fmt.Errorf("fit: %s: %w", fileSummary(files), err)}
	}
	law := -1
	if *lawName != "" {
		law = slices.IndexFunc(res.Candidates, func(e fit.Estimate) bool { return e.Law.String() == *lawName })
		if law < 0 {
			return usagef("fit: --law %q: want exponential, lognormal, weibull, pareto or empirical (for complete data)", *lawName)
		}
	}
	var naive *fit.Result
	if *raw {
		if d.Source != fit.SourceZK {
			return usagef("fit: --raw is for ZooKeeper logs (the raw disconnection times)")
		}
		if naive, err = fit.Fit(fit.RawDisconnections(d)); err != nil {
			return usageError{fmt.Errorf("fit: the raw disconnection times: %w", err)}
		}
	}

	if err := checkWritable(*out); err != nil {
		return err
	}
	absOut, err := filepath.Abs(*out)
	if err != nil {
		return outputError{err}
	}
	csvPath := filepath.Join(absOut, fitDurations)
	if d.Source == fit.SourceCSV && len(files) == 1 {
		if abs, err := filepath.Abs(files[0]); err == nil {
			csvPath = abs // the input itself
		}
	}
	block, err := experiments.FitFault(res, experiments.FitFaultOptions{Kind: *kind, Law: law, CSV: csvPath, Every: *every})
	if err != nil {
		return usageError{err}
	}
	title := "hbsim fit: " + fileSummary(files)
	p, err := plots.Fit(res, title)
	if err != nil {
		return err
	}
	png, err := plots.RenderPNG(p)
	if err != nil {
		return err
	}
	js, err := fitResultJSON(res, naive, block)
	if err != nil {
		return err
	}
	outs := []experiments.File{{Name: plots.NameFit, Data: png}, {Name: fitJSON, Data: js}, {Name: fitFault, Data: []byte(block)}}
	if d.Source != fit.SourceZK && csvPath == filepath.Join(absOut, fitDurations) {
		var b strings.Builder
		b.WriteString("# durations in seconds, read by hbsim fit from " + fileSummary(files) + "\n")
		for _, x := range res.Durations {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64) + "\n")
		}
		outs = append(outs, experiments.File{Name: fitDurations, Data: []byte(b.String())})
	}

	fmt.Fprint(stdout, res.Text())
	if naive != nil {
		fmt.Fprintf(stdout, "\nFor contrast, the raw disconnection times (from the read timeout to the reconnection) fitted as if they were outage lengths: wrong by construction, since they miss the outages the clients never noticed and the part of each outage before the read timeout.\n")
		fmt.Fprint(stdout, indent(naive.Text()))
	}
	fmt.Fprintf(stdout, "\nA [[fault]] table for an experiment file (also in %s):\n\n%s\n", filepath.Join(*out, fitFault), block)
	if err := experiments.WriteFiles(*out, outs); err != nil {
		return err
	}
	for _, f := range outs {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, f.Name))
	}
	return nil
}

// expandFiles expands patterns the shell left alone (quoted, or on
// systems without globbing); a directory is an error.
func expandFiles(pos []string) ([]string, error) {
	var out []string
	for _, p := range pos {
		if _, err := os.Stat(p); err != nil && strings.ContainsAny(p, "*?[") {
			m, gerr := filepath.Glob(p)
			if gerr != nil || len(m) == 0 {
				return nil, usagef("fit: %s: no file matches", p)
			}
			out = append(out, m...)
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil, usagef("fit: %s is a directory: name the files (e.g. %s)", p, filepath.Join(p, "client-*.log"))
		}
		out = append(out, p)
	}
	return out, nil
}

func fileSummary(files []string) string {
	if len(files) == 1 {
		return files[0]
	}
	return fmt.Sprintf("%s and %d more files", files[0], len(files)-1)
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// fitResultJSON is fit.json: the fit, the naive fit if any, and the table.
func fitResultJSON(res, naive *fit.Result, block string) ([]byte, error) {
	type doc struct {
		Fit   *fit.Result `json:"fit"`
		Raw   *fit.Result `json:"raw_disconnection_fit,omitempty"`
		Fault string      `json:"fault"`
	}
	b, err := json.MarshalIndent(doc{res, naive, block}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("fit: encoding fit.json: %w", err)
	}
	return append(b, '\n'), nil
}
