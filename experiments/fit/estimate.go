package fit

import (
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// z95 is the standard normal quantile of a two-sided 95 % interval.
var z95 = distuv.UnitNormal.Quantile(0.975)

// Param is one fitted parameter with its 95 % confidence interval. Lower
// and Upper are NaN when the interval could not be computed (the observed
// information was not positive definite).
type Param struct {
	Name     string
	Value    float64
	Lower    float64
	Upper    float64
	Duration bool // seconds (else a plain number)
}

// Contains reports whether v lies in the interval.
func (p Param) Contains(v float64) bool { return v >= p.Lower && v <= p.Upper }

// Estimate is one candidate law fitted to the observations.
type Estimate struct {
	Law    Kind
	Params []Param // none for the empirical law
	LogLik float64
	AIC    float64 // NaN for the empirical law
	// KS is the Kolmogorov–Smirnov distance between the observations and
	// the fitted law (see Result.Model for what is compared), KSCritical
	// its 5 % critical value 1.358/√n, and Rejected says KS exceeded it.
	KS         float64
	KSCritical float64
	Rejected   bool
	// Err says why the law could not be fitted; the other fields are then
	// meaningless.
	Err string

	l   law
	cov *mat.SymDense // covariance of the log-parameters; nil if unknown
}

// MarshalText names a Kind in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// objective is a negative log-likelihood over log-parameters.
type objective func(l law) float64

// lawOf builds the law from log-parameters.
func lawOf(k Kind, x []float64) law {
	l := law{kind: k, a: math.Exp(x[0])}
	if len(x) > 1 {
		l.b = math.Exp(x[1])
	}
	return l
}

// bad is the value a minimised objective takes where the parameters are
// impossible or the likelihood is zero: finite, so the simplex shrinks
// away from it.
const bad = 1e300

// atLogParams is nll as a function of the log-parameters x, with bad for
// impossible parameters and zero likelihoods.
func atLogParams(k Kind, nll objective) func(x []float64) float64 {
	return func(x []float64) float64 {
		l := lawOf(k, x)
		if !l.valid() {
			return bad
		}
		v := nll(l)
		if math.IsNaN(v) || v > bad {
			return bad
		}
		return v
	}
}

// minimise runs Nelder–Mead over log-parameters from each start and keeps
// the best optimum, restarted once from itself (Nelder–Mead can stall).
func minimise(k Kind, nll objective, starts [][]float64) ([]float64, float64, error) {
	at := atLogParams(k, nll)
	f := func(x []float64) float64 {
		for _, v := range x {
			if math.IsNaN(v) || math.Abs(v) > 300 {
				return bad // exp overflows
			}
		}
		return at(x)
	}
	settings := &optimize.Settings{
		Converger:       &optimize.FunctionConverge{Absolute: 1e-8, Relative: 1e-10, Iterations: 25},
		FuncEvaluations: 5000,
	}
	var best []float64
	bestF := math.Inf(1)
	run := func(x0 []float64) {
		res, err := optimize.Minimize(optimize.Problem{Func: f}, x0, settings, &optimize.NelderMead{})
		if err != nil && res == nil {
			return
		}
		if res.F < bestF {
			bestF = res.F
			best = slices.Clone(res.X)
		}
	}
	// Start from the most likely of the starting points only.
	first, firstF := starts[0], f(starts[0])
	for _, s := range starts[1:] {
		if v := f(s); v < firstF {
			first, firstF = s, v
		}
	}
	run(first)
	if best == nil || bestF >= bad {
		return nil, 0, errors.New("the likelihood is zero wherever it was searched")
	}
	run(slices.Clone(best))
	return best, bestF, nil
}

// covariance inverts the observed information (the Hessian of the negative
// log-likelihood in log-parameters, by central differences); nil when it
// is not positive definite.
func covariance(k Kind, nll objective, x []float64) *mat.SymDense {
	f := func(y []float64) float64 {
		l := lawOf(k, y)
		if !l.valid() {
			return math.NaN()
		}
		return nll(l)
	}
	var h mat.SymDense
	fd.Hessian(&h, f, x, &fd.Settings{Formula: fd.Central, Step: 1e-3})
	var ch mat.Cholesky
	if !ch.Factorize(&h) {
		return nil
	}
	var cov mat.SymDense
	if err := ch.InverseTo(&cov); err != nil {
		return nil
	}
	for i := range len(x) {
		if v := cov.At(i, i); !(v > 0) || math.IsInf(v, 0) {
			return nil
		}
	}
	return &cov
}

// params turns log-parameter estimates and their covariance into natural
// parameters with Wald intervals on the log scale (so always positive).
func params(k Kind, x []float64, cov *mat.SymDense) []Param {
	out := make([]Param, len(x))
	for i := range x {
		p := Param{Name: paramNames[k][i], Value: math.Exp(x[i]), Lower: math.NaN(), Upper: math.NaN(), Duration: i == 0}
		if cov != nil {
			se := math.Sqrt(cov.At(i, i))
			p.Lower, p.Upper = math.Exp(x[i]-z95*se), math.Exp(x[i]+z95*se)
		}
		out[i] = p
	}
	return out
}

// aic is Akaike's information criterion.
func aic(k Kind, logLik float64) float64 { return 2*float64(len(paramNames[k])) - 2*logLik }

// completeStart is a closed-form or moment start for complete data xs > 0,
// in log-parameters.
func completeStart(k Kind, xs []float64) []float64 {
	logs := make([]float64, len(xs))
	for i, x := range xs {
		logs[i] = math.Log(x)
	}
	mean, sd := stat.MeanStdDev(xs, nil)
	switch k {
	case Exponential:
		return []float64{math.Log(mean)}
	case LogNormal:
		mu, s := stat.PopMeanStdDev(logs, nil)
		return []float64{mu, math.Log(math.Max(s, 1e-3))}
	case Weibull:
		cv := math.Max(sd/mean, 0.05)
		shape := math.Pow(cv, -1.086)
		return []float64{math.Log(mean / math.Gamma(1+1/shape)), math.Log(shape)}
	case Pareto:
		xm := slices.Min(xs)
		var s float64
		for _, l := range logs {
			s += l - math.Log(xm)
		}
		alpha := float64(len(xs)) / math.Max(s, 1e-9)
		return []float64{math.Log(xm), math.Log(alpha)}
	}
	panic("fit: start for " + k.String())
}

// fitComplete fits law k to complete observations xs (all > 0) by maximum
// likelihood.
func fitComplete(k Kind, xs []float64) Estimate {
	n := float64(len(xs))
	if k == Pareto {
		return paretoComplete(xs)
	}
	nll := func(l law) float64 {
		var s float64
		for _, x := range xs {
			s -= l.logPDF(x)
		}
		return s
	}
	x, f, err := minimise(k, nll, [][]float64{completeStart(k, xs)})
	if err != nil {
		return Estimate{Law: k, Err: err.Error()}
	}
	cov := covariance(k, nll, x)
	e := Estimate{Law: k, l: lawOf(k, x), cov: cov, Params: profileParams(k, nll, x, f, cov), LogLik: -f}
	e.AIC = aic(k, e.LogLik)
	e.KS = ksComplete(xs, e.l.cdf)
	e.KSCritical = 1.358 / math.Sqrt(n)
	e.Rejected = e.KS > e.KSCritical
	return e
}

// paretoComplete is the Pareto fit to complete data, whose scale has a
// closed-form estimate at the boundary of the support (the smallest
// observation) where the observed information does not apply: exact
// intervals instead. With xm = min, 2α·Σ ln(x/xm) ~ χ²(2(n−1)), and
// min/xm ~ Pareto(1, nα).
func paretoComplete(xs []float64) Estimate {
	n := float64(len(xs))
	xm := slices.Min(xs)
	var s float64
	for _, x := range xs {
		s += math.Log(x / xm)
	}
	if !(s > 0) {
		return Estimate{Law: Pareto, Err: "every observation is equal"}
	}
	alpha := n / s
	l := law{kind: Pareto, a: xm, b: alpha}
	var logLik float64
	for _, x := range xs {
		logLik += l.logPDF(x)
	}
	df := 2 * (n - 1)
	chi := distuv.ChiSquared{K: df}
	e := Estimate{Law: Pareto, l: l, LogLik: logLik}
	e.Params = []Param{
		{Name: "scale", Value: xm, Duration: true,
			Lower: xm * math.Pow(0.025, 1/(n*alpha)), Upper: xm * math.Pow(0.975, 1/(n*alpha))},
		{Name: "shape", Value: alpha, Lower: chi.Quantile(0.025) / (2 * s), Upper: chi.Quantile(0.975) / (2 * s)},
	}
	if n < 2 {
		e.Params[1].Lower, e.Params[1].Upper = math.NaN(), math.NaN()
	}
	e.AIC = aic(Pareto, logLik)
	e.KS = ksComplete(xs, l.cdf)
	e.KSCritical = 1.358 / math.Sqrt(n)
	e.Rejected = e.KS > e.KSCritical
	return e
}

// ksComplete is the one-sample Kolmogorov–Smirnov distance of xs from cdf.
func ksComplete(xs []float64, cdf func(float64) float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := float64(len(s))
	var d float64
	for i, x := range s {
		f := cdf(x)
		d = math.Max(d, math.Max(float64(i+1)/n-f, f-float64(i)/n))
	}
	return d
}

// group is the episodes and exposure sharing one read timeout.
type group struct {
	rt, p float64
}

// episodeNLL is the negative log-likelihood of eps under l.
func episodeNLL(eps []Episode) objective {
	return func(l law) float64 {
		var s float64
		var last group
		norm := math.NaN()
		for _, e := range eps {
			if g := (group{e.Detect, e.Period}); g != last || math.IsNaN(norm) {
				last, norm = g, l.survivalX(e.Detect, e.Period)
			}
			v := l.episodeLogLik(e, norm)
			if math.IsInf(v, -1) {
				return bad
			}
			s -= v
		}
		return s
	}
}

// episodeStarts are starting points for the episode fit: the complete-data
// estimate on rough stand-ins for the outage lengths (the middle of each
// observed range less half a ping period), and the same with a smaller
// scale, since only the long outages are seen.
func episodeStarts(k Kind, eps []Episode) [][]float64 {
	ys := make([]float64, len(eps))
	for i, e := range eps {
		mid := (e.Lo + e.Hi) / 2
		if math.IsInf(e.Hi, 1) {
			mid = e.Lo + e.Period
		}
		ys[i] = math.Max(mid-e.Period/2, 0.05*e.Detect)
	}
	s := completeStart(k, ys)
	starts := [][]float64{s}
	for _, f := range []float64{0.5, 0.25} {
		t := slices.Clone(s)
		t[0] += math.Log(f)
		starts = append(starts, t)
	}
	if len(s) > 1 {
		t := slices.Clone(s)
		t[1] += math.Log(2)
		starts = append(starts, t)
	}
	return starts
}

// fitEpisodes fits law k to the outage lengths behind eps.
func fitEpisodes(k Kind, eps []Episode) Estimate {
	nll := episodeNLL(eps)
	x, f, err := minimise(k, nll, episodeStarts(k, eps))
	if err != nil {
		return Estimate{Law: k, Err: err.Error()}
	}
	cov := covariance(k, nll, x)
	e := Estimate{Law: k, l: lawOf(k, x), cov: cov, Params: profileParams(k, nll, x, f, cov), LogLik: -f}
	e.AIC = aic(k, e.LogLik)
	e.KS = ksEpisodes(eps, e.l)
	e.KSCritical = 1.358 / math.Sqrt(float64(len(eps)))
	e.Rejected = e.KS > e.KSCritical
	return e
}

// chi2Half is half the 95 % quantile of χ²(1): a profile likelihood
// interval holds the values whose profile log-likelihood is within it of
// the maximum.
var chi2Half = distuv.ChiSquared{K: 1}.Quantile(0.95) / 2

// profileParams returns the natural parameters with 95 % profile
// likelihood intervals: for parameter j, the values t where the
// log-likelihood maximised over the other parameters falls chi2Half below
// its maximum. They follow the likelihood's shape where a Wald interval
// assumes it is quadratic, which matters when only the long outages are
// seen. The search starts at the Wald bounds (cov) and refines them by
// regula falsi; where a bound cannot be found it is NaN.
func profileParams(k Kind, nll objective, x []float64, fmin float64, cov *mat.SymDense) []Param {
	out := params(k, x, cov)
	f := atLogParams(k, nll)
	for j := range x {
		step := 0.1
		if cov != nil {
			step = z95 * math.Sqrt(cov.At(j, j))
		}
		for side, sign := range []float64{-1, 1} {
			inner := 0.0 // the other parameter's conditional optimum, carried along
			if len(x) > 1 {
				inner = x[1-j]
			}
			// g is the profile deviance excess at x_j = t: negative inside
			// the interval, zero at its bound.
			g := func(t float64) float64 {
				y := slices.Clone(x)
				y[j] = t
				if len(x) > 1 {
					o := 1 - j
					y[o] = minimise1(func(u float64) float64 { y[o] = u; return f(y) }, inner, 0.02)
					inner = y[o]
				}
				return f(y) - fmin - chi2Half
			}
			a, ga := x[j], -chi2Half
			b := x[j] + sign*step
			gb := g(b)
			for i := 0; gb <= 0 && i < 10; i++ {
				a, ga = b, gb
				b = x[j] + sign*step*math.Pow(1.6, float64(i+1))
				gb = g(b)
			}
			v := math.NaN()
			if gb > 0 && gb < bad/2 {
				v = math.Exp(falsePosition(g, a, ga, b, gb))
			}
			if side == 0 {
				out[j].Lower = v
			} else {
				out[j].Upper = v
			}
		}
	}
	return out
}

// minimise1 minimises f near x0: it brackets the minimum with steps growing
// from h, then narrows the bracket by golden sections to 1e-4.
func minimise1(f func(float64) float64, x0, h float64) float64 {
	a, b := x0-h, x0+h
	fa, fx, fb := f(a), f(x0), f(b)
	for range 30 {
		if fx <= fa && fx <= fb {
			break
		}
		if fa < fb {
			b, fb = x0, fx
			x0, fx = a, fa
			a = x0 - 2*(b-x0)
			fa = f(a)
		} else {
			a, fa = x0, fx
			x0, fx = b, fb
			b = x0 + 2*(x0-a)
			fb = f(b)
		}
	}
	const gr = 0.3819660112501051
	c, d := a+gr*(b-a), b-gr*(b-a)
	fc, fd := f(c), f(d)
	for i := 0; b-a > 1e-4 && i < 100; i++ {
		if fc < fd {
			b, d, fd = d, c, fc
			c = a + gr*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = b - gr*(b-a)
			fd = f(d)
		}
	}
	if fc < fd {
		return c
	}
	return d
}

// falsePosition finds a zero of g between a and b, g(a) <= 0 < g(b), by
// the Illinois variant of regula falsi, to 1e-3 in t or 1e-3 in g.
func falsePosition(g func(float64) float64, a, ga, b, gb float64) float64 {
	side := 0
	for range 30 {
		t := b - gb*(b-a)/(gb-ga)
		if math.IsNaN(t) || math.Abs(b-a) < 1e-3 {
			return (a + b) / 2
		}
		gt := g(t)
		if math.Abs(gt) < 1e-3 {
			return t
		}
		if gt > 0 {
			b, gb = t, gt
			if side == 1 {
				ga /= 2
			}
			side = 1
		} else {
			a, ga = t, gt
			if side == -1 {
				gb /= 2
			}
			side = -1
		}
	}
	return (a + b) / 2
}
