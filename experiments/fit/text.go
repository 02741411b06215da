package fit

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Curve is a survival function drawn as points.
type Curve struct {
	Name string
	X, Y []float64 // seconds; P(> x)
}

// Survival returns what fit.png draws: the observations' survival
// function and each fitted law's, on the scale of what was observed — the
// durations themselves, or for ZooKeeper logs the outage end X given that
// the client noticed it (see Result.Model), with its imputed empirical
// survival.
func (r *Result) Survival() (empirical Curve, fitted []Curve, xLabel string) {
	if r.Source == SourceZK {
		grid := episodeGrid(r.episodes)
		for i, e := range r.Candidates {
			if e.Err != "" {
				continue
			}
			emp, _, model := episodeCDFs(r.episodes, e.l, grid)
			if i == r.Chosen || empirical.X == nil {
				empirical = Curve{Name: fmt.Sprintf("observed (%d disconnections; interval-censored ends spread as the %s fit would)", r.N, e.Law)}
				empirical.X, empirical.Y = nil, nil
				for j, x := range grid {
					empirical.X = append(empirical.X, x)
					empirical.Y = append(empirical.Y, 1-emp[j])
				}
			}
			c := Curve{Name: e.label()}
			for j, x := range grid {
				c.X = append(c.X, x)
				c.Y = append(c.Y, 1-model[j])
			}
			fitted = append(fitted, c)
		}
		return empirical, fitted, "outage end after the client last heard, X = A + D, given X > rt (s)"
	}
	xs := slices.Clone(r.Durations)
	slices.Sort(xs)
	n := float64(len(xs))
	empirical = Curve{Name: fmt.Sprintf("observed (%d)", len(xs))}
	for i, x := range xs {
		empirical.X = append(empirical.X, x)
		empirical.Y = append(empirical.Y, 1-float64(i+1)/n)
	}
	lo, hi := xs[0], xs[len(xs)-1]
	if lo <= 0 {
		lo = hi / 1e4
	}
	for _, e := range r.Candidates {
		if e.Err != "" || e.Law == Empirical {
			continue
		}
		c := Curve{Name: e.label()}
		for i := range 200 {
			x := lo * math.Pow(hi/lo, float64(i)/199)
			c.X = append(c.X, x)
			c.Y = append(c.Y, e.l.survival(x))
		}
		fitted = append(fitted, c)
	}
	return empirical, fitted, "duration (s)"
}

// label names a fitted law with its parameters: "lognormal(median 3.1 s, sigma 0.62)".
func (e Estimate) label() string {
	var parts []string
	for _, p := range e.Params {
		parts = append(parts, p.Name+" "+p.text())
	}
	return e.Law.String() + "(" + strings.Join(parts, ", ") + ")"
}

// Seconds formats a duration in seconds with 3 significant digits and a
// unit a person reads at a glance: "850 ms", "3.42 s", "12.5 min", "3.1 h".
func Seconds(s float64) string {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return "?"
	case s < 1:
		return sig3(s*1000) + " ms"
	case s < 120:
		return sig3(s) + " s"
	case s < 2*3600:
		return sig3(s/60) + " min"
	case s < 2*86400:
		return sig3(s/3600) + " h"
	}
	return sig3(s/86400) + " d"
}

func sig3(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }

// text is the value alone.
func (p Param) text() string {
	if p.Duration {
		return Seconds(p.Value)
	}
	return sig3(p.Value)
}

// Interval is "[2.9 s, 3.3 s]", "[?, 3.3 s]" for an unknown bound.
func (p Param) Interval() string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "?"
		}
		if p.Duration {
			return Seconds(v)
		}
		return sig3(v)
	}
	return "[" + f(p.Lower) + ", " + f(p.Upper) + "]"
}

// Text is the fit as a table a person reads: every law with its
// parameters and 95 % intervals, log-likelihood, AIC and KS distance, the
// chosen law, the arrival rate and the notes.
func (r *Result) Text() string {
	var b strings.Builder
	switch {
	case r.Source == SourceZK:
		fmt.Fprintf(&b, "%d disconnections noticed by a read timeout, in %d ZooKeeper client log(s); %d of them ended in a session expiry.\n", r.N, len(r.Files), r.Expired)
	case r.Raw:
		fmt.Fprintf(&b, "%d raw disconnection times from %d ZooKeeper client log(s).\n", r.N, len(r.Files))
	default:
		fmt.Fprintf(&b, "%d durations from %d %s file(s).\n", r.N, len(r.Files), r.Source)
	}
	fmt.Fprintf(&b, "Model: %s.\n\n", r.Model)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	zk := r.Source == SourceZK
	if zk { // the rate goes with the law: P(noticed) differs by law
		fmt.Fprintf(tw, "law\tparameters, 95 %% CI\toutages per client: one every, 95 %% CI\tlog-lik\tAIC\tKS\t\n")
	} else {
		fmt.Fprintf(tw, "law\tparameters, 95 %% CI\tlog-lik\tAIC\tKS\t\n")
	}
	for i, e := range r.Candidates {
		mark := ""
		if i == r.Chosen {
			mark = "<- chosen"
		}
		switch {
		case e.Err != "":
			fmt.Fprintf(tw, "%s\tnot fitted: %s\t\t\t\t\n", e.Law, e.Err)
			continue
		case e.Law == Empirical:
			fmt.Fprintf(tw, "%s\tthe %d observed durations\t-\t-\t0\t%s\n", e.Law, len(r.Durations), mark)
			continue
		case e.Rejected:
			mark = strings.TrimSpace("rejected " + mark)
		}
		var ps []string
		for _, p := range e.Params {
			ps = append(ps, p.Name+" = "+p.text()+" "+p.Interval())
		}
		every := ""
		if zk {
			every = "?\t"
			if ev := r.EveryFor(i); ev != nil {
				every = ev.text() + " " + ev.Interval() + "\t"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%.1f\t%.1f\t%.3f\t%s\n", e.Law, strings.Join(ps, ", "), every, e.LogLik, e.AIC, e.KS, mark)
	}
	_ = tw.Flush() // a strings.Builder does not fail
	if len(r.Candidates) > 0 {
		fmt.Fprintf(&b, "KS: rejected above %.3f (5 %%, 1.358/√n; conservative with fitted parameters).\n", r.Candidates[0].KSCritical)
	}
	fmt.Fprintf(&b, "\nChosen: %s: %s.\n", r.Best().Law, r.Reason)
	if close := r.closeCalls(); len(close) > 0 && r.Source == SourceZK {
		fmt.Fprintf(&b, "Within 2 AIC of it: %s. The logs show only the outages that outlast the read timeout, and these laws fit that tail as well: they differ on the short outages nobody noticed (and so on the rate) and beyond the longest outages seen, where fit.png shows how each extrapolates.\n",
			strings.Join(close, ", "))
	}
	switch {
	case r.Every != nil && r.Source == SourceZK:
		fmt.Fprintf(&b, "Outages per client: one every %s, 95 %% CI %s (the noticed ones, corrected by the %s law's P(noticed)).\n",
			Seconds(r.Every.Value), r.Every.Interval(), r.Best().Law)
	case r.Every != nil:
		fmt.Fprintf(&b, "Episodes: one every %s, 95 %% CI %s (from the start times, as a Poisson process).\n", Seconds(r.Every.Value), r.Every.Interval())
	default:
		b.WriteString("Episodes: the rate is not estimated (no start times in the input).\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s.\n", strings.TrimSuffix(n, "."))
	}
	return b.String()
}

// closeCalls names the fitted laws, other than the chosen one, whose AIC
// is within 2 of it.
func (r *Result) closeCalls() []string {
	best := r.Best()
	var out []string
	for i, e := range r.Candidates {
		if i != r.Chosen && e.Err == "" && e.Law != Empirical && !e.Rejected && e.AIC-best.AIC <= 2 {
			out = append(out, fmt.Sprintf("%s (ΔAIC %.1f)", e.Law, e.AIC-best.AIC))
		}
	}
	return out
}

// RawDisconnections is the naive reading of ZooKeeper logs: each
// disconnection's length, from the read timeout to the reconnection, taken
// for an outage length. Fitting it is wrong by construction (it misses the
// outages the client never noticed and the part of each outage before the
// read timeout); hbsim fit --raw shows it for contrast.
func RawDisconnections(d *Data) *Data {
	out := &Data{Source: SourceCSV, Files: d.Files, Raw: true}
	for _, e := range d.Episodes {
		if e.Raw > 0 {
			out.Durations = append(out.Durations, e.Raw)
		}
	}
	return out
}
