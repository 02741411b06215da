package fit

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrNoData means nothing could be fitted: no observation survived reading.
var ErrNoData = errors.New("fit: no observations to fit")

// MinObservations is the fewest observations Fit accepts: below it the
// intervals and the goodness-of-fit checks mean little.
const MinObservations = 10

// Result is a fit: every candidate law with its parameters, intervals,
// AIC and Kolmogorov–Smirnov distance, the chosen one, and the arrival
// rate. It is plain data.
type Result struct {
	Source Source   `json:"source"`
	Files  []string `json:"files"`
	// N is the number of observations fitted: durations, or episodes.
	N int `json:"n"`
	// Model says in a sentence what the likelihood describes.
	Model string `json:"model"`
	// Candidates are the parametric laws in Parametric order, then the
	// empirical law for complete data.
	Candidates []Estimate `json:"candidates"`
	// Chosen indexes Candidates; Reason says why.
	Chosen int    `json:"chosen"`
	Reason string `json:"reason"`
	// Every is the mean time between episodes (seconds) with its 95 %
	// interval, per client for ZooKeeper logs, per file (one JVM) for GC
	// logs and CSV with start times; nil when the input does not say.
	Every *Param `json:"every,omitempty"`
	// Expired counts episodes that ended in a session expiry (logs only).
	Expired int `json:"expired"`
	// Durations are the complete observations, seconds (CSV and GC); the
	// empirical law draws from them.
	Durations []float64 `json:"-"`
	Notes     []string  `json:"notes"`
	// Raw marks a fit of raw disconnection times (RawDisconnections).
	Raw bool `json:"raw,omitempty"`

	episodes []Episode
	exposure []Exposure
}

// Best is the chosen estimate.
func (r *Result) Best() Estimate { return r.Candidates[r.Chosen] }

// Fit fits every candidate law to d and chooses one: the lowest AIC among
// the laws that pass the Kolmogorov–Smirnov check; when none passes, the
// empirical law for complete data, or the lowest AIC with a warning for
// episodes.
//
// Complete observations (CSV, GC logs) are fitted by plain maximum
// likelihood. ZooKeeper episodes are fitted by the likelihood of what the
// client could observe (see Episode): each outage end X = A + D, D from the
// law and A uniform over the ping cycle, conditioned on X > rt, exact or
// within its interval. Intervals are Wald intervals on the log scale from
// the observed information (exact ones for the Pareto law on complete
// data, whose scale estimate sits on the edge of the support).
func Fit(d *Data) (*Result, error) {
	r := &Result{Source: d.Source, Files: d.Files, Notes: slices.Clone(d.Notes), Raw: d.Raw}
	switch d.Source {
	case SourceZK:
		if err := r.fitEpisodes(d); err != nil {
			return nil, err
		}
	default:
		if err := r.fitComplete(d); err != nil {
			return nil, err
		}
	}
	r.choose()
	if r.Source == SourceZK {
		r.Every = r.EveryFor(r.Chosen)
	}
	return r, nil
}

func (r *Result) fitComplete(d *Data) error {
	var xs []float64
	zeros := 0
	for _, x := range d.Durations {
		if x > 0 {
			xs = append(xs, x)
		} else {
			zeros++
		}
	}
	if zeros > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d zero durations left out of the parametric fits (their laws live on (0, ∞)); the empirical law keeps them", zeros))
	}
	if len(xs) < MinObservations {
		return fmt.Errorf("%w: %d positive durations, need at least %d", ErrNoData, len(xs), MinObservations)
	}
	r.N = len(xs)
	r.Durations = slices.Clone(d.Durations)
	r.Model = "each duration is a draw from the law (complete observations)"
	if d.Raw {
		r.Model = "each raw disconnection time taken for an outage length, as a naive reading would"
	}
	for _, k := range Parametric {
		r.Candidates = append(r.Candidates, fitComplete(k, xs))
	}
	r.Candidates = append(r.Candidates, Estimate{Law: Empirical, AIC: math.NaN(), LogLik: math.NaN(),
		KSCritical: 1.358 / math.Sqrt(float64(len(d.Durations)))})
	r.Every = rateFromArrivals(d.Arrivals)
	return nil
}

func (r *Result) fitEpisodes(d *Data) error {
	if len(d.Episodes) < MinObservations {
		return fmt.Errorf("%w: %d disconnections noticed by a read timeout, need at least %d", ErrNoData, len(d.Episodes), MinObservations)
	}
	r.N = len(d.Episodes)
	r.episodes = slices.Clone(d.Episodes)
	for _, e := range d.Episodes {
		if e.Expired {
			r.Expired++
		}
	}
	r.Model = "outage lengths D behind the disconnections: the client noticed an outage only when it ended too late to be heard of before its read timeout rt (X = A + D > rt, or over TCP after the last retransmission of the lost ping before rt; A uniform over the ping cycle), and its reconnection dates the end of the outage exactly or within an interval"
	for _, k := range Parametric {
		r.Candidates = append(r.Candidates, fitEpisodes(k, d.Episodes))
	}
	r.exposure = slices.Clone(d.Exposure)
	var total float64
	for _, x := range d.Exposure {
		total += x.Seconds
	}
	if !(total > 0) {
		r.Notes = append(r.Notes, "no connected time in the logs: the outage rate is not estimated")
	}
	return nil
}

// choose picks the lowest AIC among candidates that were fitted and pass
// the KS check.
func (r *Result) choose() {
	best := -1
	for i, e := range r.Candidates {
		if e.Err != "" || e.Law == Empirical || e.Rejected {
			continue
		}
		if best < 0 || e.AIC < r.Candidates[best].AIC {
			best = i
		}
	}
	if best >= 0 {
		r.Chosen = best
		r.Reason = fmt.Sprintf("lowest AIC among the laws the Kolmogorov–Smirnov check does not reject (KS <= %.3g)", r.Candidates[best].KSCritical)
		return
	}
	if i := slices.IndexFunc(r.Candidates, func(e Estimate) bool { return e.Law == Empirical }); i >= 0 {
		r.Chosen = i
		r.Reason = "every parametric law fails the Kolmogorov–Smirnov check: the observed durations themselves"
		return
	}
	best = -1
	for i, e := range r.Candidates {
		if e.Err == "" && (best < 0 || e.AIC < r.Candidates[best].AIC) {
			best = i
		}
	}
	if best < 0 {
		best = 0
	}
	r.Chosen = best
	r.Reason = "lowest AIC, although every law fails the Kolmogorov–Smirnov check: treat the fit with care"
}

// rateFromArrivals is the Poisson rate's exact interval from the starts:
// the gaps after each file's first start are exponential, so with m gaps
// summing to S, 2λS ~ χ²(2m). Every is 1/λ.
func rateFromArrivals(as []Arrivals) *Param {
	var m, s float64
	for _, a := range as {
		if a.Count >= 2 {
			m += float64(a.Count - 1)
			s += a.Span
		}
	}
	if m < 1 || !(s > 0) {
		return nil
	}
	chi := distuv.ChiSquared{K: 2 * m}
	lamLo, lamHi := chi.Quantile(0.025)/(2*s), chi.Quantile(0.975)/(2*s)
	return &Param{Name: "every", Value: s / m, Lower: 1 / lamHi, Upper: 1 / lamLo, Duration: true}
}

// episodeEvery estimates the mean time between outages per client from
// the episodes under law e: with outages arriving at rate λ while a client
// is connected, it notices a fraction S_X(rt) of them, so E[episodes] =
// λ·Σ exposure·S_X(rt) and λ = n / Σ exposure·S_X(rt). The interval adds,
// on the log scale, the Poisson variance of n (1/n) and the law's
// uncertainty carried through S_X(rt) (delta method with the fitted
// covariance of the log-parameters).
func episodeEvery(eps []Episode, exposure []Exposure, e Estimate) *Param {
	if e.Err != "" || e.Law == Empirical || len(eps) == 0 {
		return nil
	}
	logEff := func(x []float64) float64 {
		l := lawOf(e.Law, x)
		var s float64
		for _, ex := range exposure {
			s += ex.Seconds * l.survivalX(ex.Detect, ex.Period)
		}
		return math.Log(s)
	}
	x := logParams(e)
	eff := math.Exp(logEff(x))
	if !(eff > 0) {
		return nil
	}
	n := float64(len(eps))
	logLam := math.Log(n / eff)
	v := 1 / n
	if e.cov != nil {
		g := make([]float64, len(x))
		for i := range x {
			const h = 1e-4
			up, dn := slices.Clone(x), slices.Clone(x)
			up[i] += h
			dn[i] -= h
			g[i] = (logEff(up) - logEff(dn)) / (2 * h)
		}
		for i := range g {
			for j := range g {
				v += g[i] * e.cov.At(i, j) * g[j]
			}
		}
	}
	se := math.Sqrt(v)
	return &Param{Name: "every", Value: math.Exp(-logLam), Lower: math.Exp(-logLam - z95*se), Upper: math.Exp(-logLam + z95*se), Duration: true}
}

// EveryFor is the mean time between episodes that goes with candidate i:
// for ZooKeeper logs the rate of noticed outages is corrected by each
// law's own P(noticed), so it differs by law; otherwise it is Every.
func (r *Result) EveryFor(i int) *Param {
	if r.Source != SourceZK {
		return r.Every
	}
	return episodeEvery(r.episodes, r.exposure, r.Candidates[i])
}

// logParams are an estimate's log-parameters.
func logParams(e Estimate) []float64 {
	x := []float64{math.Log(e.l.a)}
	if e.Law != Exponential {
		x = append(x, math.Log(e.l.b))
	}
	return x
}
