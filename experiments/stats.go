package experiments

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ConfidenceLevel is the two-sided confidence level (a probability, not a
// percentage) of every interval stored in a Metric by ProportionMetric,
// RateMetric and MeanMetric.
const ConfidenceLevel = 0.95

// Interval methods, the values of Metric.Method.
const (
	MethodWilson         = "wilson"          // Wilson score interval for a proportion
	MethodClopperPearson = "clopper-pearson" // exact binomial interval for a proportion
	MethodPoissonExact   = "poisson-exact"   // exact (Garwood) interval for a Poisson rate
	MethodStudentT       = "student-t"       // Student-t interval for a mean
)

// statsCheckConf panics unless 0 < conf < 1. Intervals are computed from counts
// the simulator produced, so a bad level is a programming error.
func statsCheckConf(conf float64) {
	if !(conf > 0 && conf < 1) {
		panic(fmt.Sprintf("experiments: confidence level %v outside (0, 1)", conf))
	}
}

// statsCheckProportion panics unless 0 <= k <= n (counts, dimensionless).
func statsCheckProportion(k, n float64) {
	if !(k >= 0 && n >= 0 && k <= n) || math.IsInf(n, 0) {
		panic(fmt.Sprintf("experiments: proportion %v/%v: need 0 <= k <= n < inf", k, n))
	}
}

// Wilson returns the Wilson score interval [lo, hi] for a binomial
// proportion from k successes in n trials (both counts, dimensionless; they
// may be non-integer, e.g. weighted counts) at two-sided confidence level
// conf (e.g. 0.95). The bounds are probabilities in [0, 1]; z is taken from
// distuv.UnitNormal.Quantile.
//
// With n == 0 there is no information and Wilson returns [0, 1].
// Wilson panics unless 0 <= k <= n and 0 < conf < 1.
func Wilson(k, n float64, conf float64) (lo, hi float64) {
	statsCheckConf(conf)
	statsCheckProportion(k, n)
	if n == 0 {
		return 0, 1
	}
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	z2 := z * z
	phat := k / n
	denom := 1 + z2/n
	// float64(...) around every product rounds it, so no platform fuses a
	// multiply-add (arm64, GOAMD64=v3) and the bounds are the same bits
	// everywhere (the Go spec allows fusion otherwise).
	center := (phat + z2/float64(2*n)) / denom
	half := z * math.Sqrt(float64(phat*(1-phat))/n+z2/float64(float64(4*n)*n)) / denom
	lo = math.Max(0, center-half)
	hi = math.Min(1, center+half)
	// The exact interval has lo = 0 at k = 0 and hi = 1 at k = n; do not let
	// rounding put a hair of daylight there.
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// ClopperPearson returns the exact (Clopper–Pearson) interval [lo, hi] for a
// binomial proportion from k successes in n trials (counts, dimensionless) at
// two-sided confidence level conf, from distuv.Beta quantiles:
// lo = Beta(k, n-k+1).Quantile(α/2) and hi = Beta(k+1, n-k).Quantile(1-α/2)
// with α = 1-conf; lo = 0 when k == 0 and hi = 1 when k == n. The bounds are
// probabilities in [0, 1].
//
// With n == 0 there is no information and ClopperPearson returns [0, 1].
// ClopperPearson panics unless 0 <= k <= n and 0 < conf < 1.
func ClopperPearson(k, n float64, conf float64) (lo, hi float64) {
	statsCheckConf(conf)
	statsCheckProportion(k, n)
	if n == 0 {
		return 0, 1
	}
	alpha := 1 - conf
	lo, hi = 0, 1
	if k > 0 {
		lo = distuv.Beta{Alpha: k, Beta: n - k + 1}.Quantile(alpha / 2)
	}
	if k < n {
		hi = distuv.Beta{Alpha: k + 1, Beta: n - k}.Quantile(1 - alpha/2)
	}
	return lo, hi
}

// PoissonRate returns the estimate k/exposure of a Poisson rate and its exact
// (Garwood) interval at two-sided confidence level conf, from distuv.Gamma
// quantiles: lo = Gamma(k, 1).Quantile(α/2)/exposure and
// hi = Gamma(k+1, 1).Quantile(1-α/2)/exposure with α = 1-conf; lo = 0 when
// k == 0. k is an event count; est, lo and hi are in events per unit of
// exposure (e.g. exposure in session-days gives expiries per session-day).
//
// PoissonRate panics unless k >= 0, 0 < exposure < inf and 0 < conf < 1.
func PoissonRate(k float64, exposure float64, conf float64) (est, lo, hi float64) {
	statsCheckConf(conf)
	if !(k >= 0) || math.IsInf(k, 0) || !(exposure > 0) || math.IsInf(exposure, 0) {
		panic(fmt.Sprintf("experiments: poisson rate %v/%v: need k >= 0 and 0 < exposure < inf", k, exposure))
	}
	alpha := 1 - conf
	if k > 0 {
		lo = distuv.Gamma{Alpha: k, Beta: 1}.Quantile(alpha/2) / exposure
	}
	hi = distuv.Gamma{Alpha: k + 1, Beta: 1}.Quantile(1-alpha/2) / exposure
	return k / exposure, lo, hi
}

// MeanCI returns the sample mean of the observations in acc and its Student-t
// interval est ± t(n-1, 1-α/2)·s/√n at two-sided confidence level conf
// (α = 1-conf, t from distuv.StudentsT). All three values are in the unit of
// the observations.
//
// With fewer than two observations there is no variance estimate: for n == 1
// MeanCI returns the single observation with lo = hi = NaN, and for n == 0 it
// returns NaN for all three. Callers that serialise the result (encoding/json
// rejects NaN) must check acc.N() first.
// MeanCI panics unless 0 < conf < 1.
func MeanCI(acc *Welford, conf float64) (est, lo, hi float64) {
	statsCheckConf(conf)
	n := acc.N()
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	est = acc.Mean()
	if n < 2 {
		return est, math.NaN(), math.NaN()
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-conf)/2)
	half := float64(t * math.Sqrt(acc.Variance()/float64(n))) // rounded: est±half never fuses
	return est, est - half, est + half
}

// Welford is a streaming accumulator of the count, mean and variance of a
// sequence of observations (Welford's algorithm; merging uses the pairwise
// update of Chan, Golub and LeVeque). Mean is in the unit of the observations,
// Variance in that unit squared. The zero value is an empty accumulator ready
// to use.
//
// Several workers may each fill their own Welford and the partial
// accumulators are then combined with Merge. Merging is exact in real
// arithmetic but floating-point rounding makes the last bits depend on the
// order of the merges: to keep results byte-for-byte reproducible, callers
// must merge in a fixed order (e.g. by replication or sweep index), never in
// the order in which workers finish.
type Welford struct {
	n    int64   // number of observations
	mean float64 // running mean, in the unit of the observations
	m2   float64 // sum of squared deviations from the mean, unit squared
}

// Add records one observation x (in the unit of the series).
func (w *Welford) Add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += float64(d * (x - w.mean)) // a rounded product: no fused multiply-add
}

// Merge adds every observation recorded in other to w, as if they had been
// passed to w.Add. The result differs from sequential Adds only by rounding;
// see the type comment about merge order.
func (w *Welford) Merge(other Welford) {
	switch {
	case other.n == 0:
		return
	case w.n == 0:
		*w = other
		return
	}
	n := w.n + other.n
	d := other.mean - w.mean
	fa, fb, fn := float64(w.n), float64(other.n), float64(n)
	w.mean += float64(d*fb) / fn
	w.m2 += other.m2 + float64(float64(float64(d*d)*fa)*fb)/fn
	w.n = n
}

// N returns the number of observations recorded.
func (w *Welford) N() int { return int(w.n) }

// Mean returns the sample mean, in the unit of the observations, or NaN when
// no observation was recorded.
func (w *Welford) Mean() float64 {
	if w.n == 0 {
		return math.NaN()
	}
	return w.mean
}

// Variance returns the unbiased sample variance (denominator n-1), in the unit
// of the observations squared, or NaN with fewer than two observations.
func (w *Welford) Variance() float64 {
	if w.n < 2 {
		return math.NaN()
	}
	return w.m2 / float64(w.n-1)
}

// StdDev returns the sample standard deviation (the square root of Variance),
// in the unit of the observations, or NaN with fewer than two observations.
func (w *Welford) StdDev() float64 { return math.Sqrt(w.Variance()) }

// ProportionMetric returns a Metric for the proportion k/n (k events in n
// trials, counts) with its ConfidenceLevel interval, stored with Count = k and
// Trials = n. It uses the Wilson interval, except at k == 0 or k == n where it
// uses the exact Clopper–Pearson interval (which is wider there and exact at
// the boundary); Method says which. unit is copied as is (usually "" for a
// probability). With n == 0 the Estimate is NaN and the interval [0, 1].
// ProportionMetric panics unless 0 <= k <= n.
func ProportionMetric(name, unit string, k, n float64) Metric {
	m := Metric{Name: name, Unit: unit, Count: k, Trials: n}
	if k == 0 || k == n {
		m.Lower, m.Upper = ClopperPearson(k, n, ConfidenceLevel)
		m.Method = MethodClopperPearson
	} else {
		m.Lower, m.Upper = Wilson(k, n, ConfidenceLevel)
		m.Method = MethodWilson
	}
	m.Estimate = math.NaN()
	if n > 0 {
		m.Estimate = k / n
	}
	return m
}

// RateMetric returns a Metric for the Poisson rate of k events over exposure
// (e.g. session-days), in events per unit of exposure, with its exact
// ConfidenceLevel interval (Method "poisson-exact"), stored with Count = k and
// Trials = exposure. unit names the rate's unit (e.g. "1/session-day").
// RateMetric panics unless k >= 0 and 0 < exposure < inf.
func RateMetric(name, unit string, k, exposure float64) Metric {
	est, lo, hi := PoissonRate(k, exposure, ConfidenceLevel)
	return Metric{
		Name: name, Unit: unit,
		Estimate: est, Lower: lo, Upper: hi,
		Count: k, Trials: exposure,
		Method: MethodPoissonExact,
	}
}

// MeanMetric returns a Metric for the mean of the observations in w, in the
// unit of the observations (unit, e.g. "s"), with its Student-t
// ConfidenceLevel interval (Method "student-t"). Count and Trials both hold
// the number of observations. The NaN conventions of MeanCI apply when
// w.N() < 2.
func MeanMetric(name, unit string, w Welford) Metric {
	est, lo, hi := MeanCI(&w, ConfidenceLevel)
	n := float64(w.N())
	return Metric{
		Name: name, Unit: unit,
		Estimate: est, Lower: lo, Upper: hi,
		Count: n, Trials: n,
		Method: MethodStudentT,
	}
}
