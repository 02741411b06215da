package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"hbsim/experiments/fit"
)

// FitFaultOptions say how a fit becomes a [[fault]] table.
type FitFaultOptions struct {
	// Kind is the fault kind: "outage" (default for ZooKeeper logs and
	// CSV), "client-pause" (default for GC logs), or any other kind the
	// experiment files accept.
	Kind string
	// Law indexes the fit's candidates; -1 means the chosen one.
	Law int
	// CSV is the path the empirical law reads its durations from (the
	// file written beside the fit, or the input CSV); needed only for it.
	CSV string
	// Every overrides the fitted mean time between episodes; it is needed
	// when the input has no start times.
	Every time.Duration
}

// ErrFitFault is a fit that cannot become a [[fault]] table.
var ErrFitFault = errors.New("experiments: fit to [[fault]]")

// FitFault writes a [[fault]] table that reproduces fit r in an experiment
// file: the law's parameters as the file names them, Poisson arrivals at
// the fitted rate, each client with its own process. It parses the table
// as an experiment file would before returning it, so what it returns is
// accepted as is (with the CSV for the empirical law at opts.CSV).
func FitFault(r *fit.Result, opts FitFaultOptions) (string, error) {
	i := opts.Law
	if i < 0 {
		i = r.Chosen
	}
	if i >= len(r.Candidates) {
		return "", fmt.Errorf("%w: no candidate %d", ErrFitFault, i)
	}
	e := r.Candidates[i]
	if e.Err != "" {
		return "", fmt.Errorf("%w: the %s law was not fitted: %s", ErrFitFault, e.Law, e.Err)
	}
	kind := opts.Kind
	if kind == "" {
		kind = "outage"
		if r.Source == fit.SourceGC {
			kind = "client-pause"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Fitted by hbsim fit to %d %s from %s: the %s law", r.N, observations(r), fileList(r.Files), e.Law)
	if e.Law != fit.Empirical {
		fmt.Fprintf(&b, " (AIC %.1f, KS %.3f)", e.AIC, e.KS)
	}
	b.WriteString(".\n")
	for _, p := range e.Params {
		fmt.Fprintf(&b, "# %s %s, 95 %% CI %s\n", p.Name, strings.Trim(fitNumber(p, p.Value), `"`), p.Interval())
	}
	b.WriteString("[[fault]]\n")
	fmt.Fprintf(&b, "kind = %q\n", kind)
	b.WriteString("clients = \"all\"\nshared = false                   # each client has its own process\narrival = \"poisson\"\n")
	every := r.EveryFor(i)
	switch {
	case opts.Every > 0:
		fmt.Fprintf(&b, "every = %q\n", fitDuration(opts.Every.Seconds()))
	case every != nil:
		fmt.Fprintf(&b, "every = %-25s # 95 %% CI [%s, %s]", strconv.Quote(fitDuration(every.Value)),
			fitDuration(every.Lower), fitDuration(every.Upper))
		if r.Source == fit.SourceZK {
			b.WriteString(" per client")
		}
		b.WriteByte('\n')
	default:
		b.WriteString("every = \"1h\"                     # NOT ESTIMATED: the input has no start times; set your rate (hbsim fit --every)\n")
	}
	switch e.Law {
	case fit.Empirical:
		if opts.CSV == "" {
			return "", fmt.Errorf("%w: the empirical law needs the path of its durations", ErrFitFault)
		}
		fmt.Fprintf(&b, "duration = { law = \"empirical\", csv = %q }\n", opts.CSV)
	default:
		fmt.Fprintf(&b, "duration = { law = %q", e.Law.String())
		for _, p := range e.Params {
			fmt.Fprintf(&b, ", %s = %s", p.Name, fitNumber(p, p.Value))
		}
		b.WriteString(" }\n")
	}
	block := b.String()
	if err := checkFaultBlock(block, r.Durations); err != nil {
		return "", err
	}
	return block, nil
}

// checkFaultBlock parses block as the only fault of an experiment file.
func checkFaultBlock(block string, durations []float64) error {
	src := "[experiment]\nname = \"fit-check\"\n\n" + block
	readFile := func(name string) ([]byte, error) {
		if data, err := os.ReadFile(name); err == nil {
			return data, nil
		}
		var b strings.Builder // not written yet: the durations it will hold
		for _, x := range durations {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64) + "\n")
		}
		return []byte(b.String()), nil
	}
	if _, err := Parse("fault.toml", []byte(src), WithReadFile(readFile)); err != nil {
		return fmt.Errorf("%w: the table does not parse: %w", ErrFitFault, err)
	}
	return nil
}

// observations names what was fitted.
func observations(r *fit.Result) string {
	switch r.Source {
	case fit.SourceZK:
		return "disconnections"
	case fit.SourceGC:
		return "GC pauses"
	}
	return "durations"
}

func fileList(files []string) string {
	switch len(files) {
	case 0:
		return "no file"
	case 1:
		return files[0]
	case 2:
		return files[0] + " and " + files[1]
	}
	return fmt.Sprintf("%s and %d more files", files[0], len(files)-1)
}

// fitNumber writes a parameter as an experiment file takes it: a duration
// string for durations, a number otherwise, with four significant digits.
func fitNumber(p fit.Param, v float64) string {
	if p.Duration {
		return strconv.Quote(fitDuration(v))
	}
	return strconv.FormatFloat(v, 'g', 4, 64) // a shape or sigma: no exponent in practice
}

// fitDuration writes seconds as a duration string with four significant
// digits in a readable unit: "850ms", "3.417s", "12.5m", "3.1h".
func fitDuration(s float64) string {
	g := func(x float64) string { // four significant digits, never an exponent
		if x == 0 {
			return "0"
		}
		scale := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(x))))
		return strconv.FormatFloat(math.Round(x*scale)/scale, 'f', -1, 64)
	}
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return "?"
	case s < 1e-3:
		return g(s*1e6) + "us"
	case s < 1:
		return g(s*1e3) + "ms"
	case s < 120:
		return g(s) + "s"
	case s < 7200:
		return g(s/60) + "m"
	}
	return g(s/3600) + "h"
}
