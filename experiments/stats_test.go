package experiments_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

// statsSeeds is the number of seeds property tests loop over.
func statsSeeds(t *testing.T) uint64 {
	t.Helper()
	if testing.Short() {
		return 20
	}
	return 200
}

func TestStatsKnownValues(t *testing.T) {
	t.Parallel()
	// Reference values from R (binom.test, prop.test(correct=FALSE),
	// poisson.test, t.test) as printed; tol is at most half a unit in the
	// last printed digit.
	tests := []struct {
		name           string
		got            func() (lo, hi float64)
		wantLo, wantHi float64
		tol            float64
	}{
		{
			name:   "wilson k=5 n=10",
			got:    func() (float64, float64) { return experiments.Wilson(5, 10, 0.95) },
			wantLo: 0.2366, wantHi: 0.7634, tol: 5e-5,
		},
		{
			name:   "wilson k=0 n=10",
			got:    func() (float64, float64) { return experiments.Wilson(0, 10, 0.95) },
			wantLo: 0, wantHi: 0.2775, tol: 5e-5,
		},
		{
			name:   "wilson k=10 n=10",
			got:    func() (float64, float64) { return experiments.Wilson(10, 10, 0.95) },
			wantLo: 0.7225, wantHi: 1, tol: 5e-5,
		},
		{
			name:   "clopper-pearson k=0 n=10",
			got:    func() (float64, float64) { return experiments.ClopperPearson(0, 10, 0.95) },
			wantLo: 0, wantHi: 0.3085, tol: 5e-5,
		},
		{
			name:   "clopper-pearson k=10 n=10",
			got:    func() (float64, float64) { return experiments.ClopperPearson(10, 10, 0.95) },
			wantLo: 0.6915, wantHi: 1, tol: 5e-5,
		},
		{
			name:   "clopper-pearson k=5 n=10",
			got:    func() (float64, float64) { return experiments.ClopperPearson(5, 10, 0.95) },
			wantLo: 0.1871, wantHi: 0.8129, tol: 5e-5,
		},
		{
			name: "poisson k=0 exposure=1",
			got: func() (float64, float64) {
				_, lo, hi := experiments.PoissonRate(0, 1, 0.95)
				return lo, hi
			},
			wantLo: 0, wantHi: 3.689, tol: 5e-4,
		},
		{
			name: "poisson k=10 exposure=1",
			got: func() (float64, float64) {
				_, lo, hi := experiments.PoissonRate(10, 1, 0.95)
				return lo, hi
			},
			wantLo: 4.795, wantHi: 18.39, tol: 5e-4,
		},
		{
			name: "poisson k=10 exposure=2",
			got: func() (float64, float64) {
				_, lo, hi := experiments.PoissonRate(10, 2, 0.95)
				return lo, hi
			},
			wantLo: 4.795 / 2, wantHi: 18.39 / 2, tol: 2.5e-4,
		},
		{
			name: "student-t 1..5",
			got: func() (float64, float64) {
				var w experiments.Welford
				for _, x := range []float64{1, 2, 3, 4, 5} {
					w.Add(x)
				}
				_, lo, hi := experiments.MeanCI(&w, 0.95)
				return lo, hi
			},
			wantLo: 1.037, wantHi: 4.963, tol: 5e-4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := tc.got()
			assert.InDelta(t, tc.wantLo, lo, tc.tol, "lower")
			assert.InDelta(t, tc.wantHi, hi, tc.tol, "upper")
		})
	}
}

// The exact bounds 0 and 1 are set by construction, so they are compared
// exactly.
func TestStatsExactBoundaries(t *testing.T) {
	t.Parallel()
	for _, n := range []float64{1, 2, 7, 100, 1e6} {
		lo, hi := experiments.ClopperPearson(0, n, 0.95)
		assert.Zero(t, lo, "clopper-pearson k=0 n=%v", n)
		// Closed form at k = 0: 1 - (α/2)^(1/n).
		assert.InDelta(t, 1-math.Pow(0.025, 1/n), hi, 1e-12, "clopper-pearson k=0 n=%v", n)
		lo, hi = experiments.ClopperPearson(n, n, 0.95)
		assert.InDelta(t, math.Pow(0.025, 1/n), lo, 1e-12, "clopper-pearson k=n n=%v", n)
		assert.Equal(t, 1.0, hi, "clopper-pearson k=n n=%v", n)

		lo, hi = experiments.Wilson(0, n, 0.95)
		assert.Zero(t, lo, "wilson k=0 n=%v", n)
		assert.Less(t, hi, 1.0, "wilson k=0 n=%v", n)
		lo, hi = experiments.Wilson(n, n, 0.95)
		assert.Greater(t, lo, 0.0, "wilson k=n n=%v", n)
		assert.Equal(t, 1.0, hi, "wilson k=n n=%v", n)
	}
	// k = 0: the Poisson upper bound is -ln(α/2)/exposure.
	est, lo, hi := experiments.PoissonRate(0, 4, 0.95)
	assert.Zero(t, est)
	assert.Zero(t, lo)
	assert.InDelta(t, -math.Log(0.025)/4, hi, 1e-12)

	// No trials: the vacuous interval.
	lo, hi = experiments.Wilson(0, 0, 0.95)
	assert.Equal(t, []float64{0, 1}, []float64{lo, hi}, "wilson n=0")
	lo, hi = experiments.ClopperPearson(0, 0, 0.95)
	assert.Equal(t, []float64{0, 1}, []float64{lo, hi}, "clopper-pearson n=0")
}

func TestStatsIntervalProperties(t *testing.T) {
	t.Parallel()
	for seed := range statsSeeds(t) {
		r := rand.New(rand.NewPCG(seed, 1))
		n := float64(1 + r.IntN(2000))
		k := float64(r.IntN(int(n) + 1))
		exposure := 0.01 + 100*r.Float64()
		phat := k / n

		type interval struct{ lo, hi float64 }
		wilson := map[float64]interval{}
		cp := map[float64]interval{}
		pois := map[float64]interval{}
		for _, conf := range []float64{0.95, 0.99} {
			lo, hi := experiments.Wilson(k, n, conf)
			require.True(t, 0 <= lo && lo <= phat && phat <= hi && hi <= 1,
				"wilson seed=%d k=%v n=%v conf=%v: [%v, %v] must hold %v", seed, k, n, conf, lo, hi, phat)
			wilson[conf] = interval{lo, hi}

			lo, hi = experiments.ClopperPearson(k, n, conf)
			require.True(t, 0 <= lo && lo <= phat && phat <= hi && hi <= 1,
				"clopper-pearson seed=%d k=%v n=%v conf=%v: [%v, %v] must hold %v", seed, k, n, conf, lo, hi, phat)
			cp[conf] = interval{lo, hi}

			est, lo, hi := experiments.PoissonRate(k, exposure, conf)
			require.True(t, 0 <= lo && lo <= est && est <= hi,
				"poisson seed=%d k=%v exposure=%v conf=%v: [%v, %v] must hold %v", seed, k, exposure, conf, lo, hi, est)
			pois[conf] = interval{lo, hi}
		}
		for name, m := range map[string]map[float64]interval{"wilson": wilson, "clopper-pearson": cp, "poisson": pois} {
			assert.LessOrEqual(t, m[0.99].lo, m[0.95].lo, "%s seed=%d k=%v n=%v: 99%% must nest 95%%", name, seed, k, n)
			assert.GreaterOrEqual(t, m[0.99].hi, m[0.95].hi, "%s seed=%d k=%v n=%v: 99%% must nest 95%%", name, seed, k, n)
		}
		// The exact interval is conservative: it contains Wilson's at the
		// boundaries, where ProportionMetric switches to it.
		if k == 0 || k == n {
			assert.LessOrEqual(t, cp[0.95].lo, wilson[0.95].lo, "seed=%d k=%v n=%v", seed, k, n)
			assert.GreaterOrEqual(t, cp[0.95].hi, wilson[0.95].hi, "seed=%d k=%v n=%v", seed, k, n)
		}

		// Student-t: contains the mean, nests, and shrinks like 1/sqrt(n).
		var w experiments.Welford
		for range 2 + r.IntN(50) {
			w.Add(r.NormFloat64())
		}
		est95, lo95, hi95 := experiments.MeanCI(&w, 0.95)
		_, lo99, hi99 := experiments.MeanCI(&w, 0.99)
		require.True(t, lo99 <= lo95 && lo95 <= est95 && est95 <= hi95 && hi95 <= hi99,
			"student-t seed=%d n=%d: %v <= %v <= %v <= %v <= %v", seed, w.N(), lo99, lo95, est95, hi95, hi99)
	}
}

func TestStatsInvalidPanics(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { experiments.Wilson(3, 2, 0.95) }, "k > n")
	assert.Panics(t, func() { experiments.Wilson(-1, 2, 0.95) }, "k < 0")
	assert.Panics(t, func() { experiments.ClopperPearson(1, 2, 1) }, "conf = 1")
	assert.Panics(t, func() { experiments.ClopperPearson(1, 2, math.NaN()) }, "conf = NaN")
	assert.Panics(t, func() { experiments.PoissonRate(1, 0, 0.95) }, "exposure = 0")
	assert.Panics(t, func() { experiments.PoissonRate(-1, 1, 0.95) }, "k < 0")
	var w experiments.Welford
	assert.Panics(t, func() { experiments.MeanCI(&w, 0) }, "conf = 0")
}

func TestStatsMeanCISmallN(t *testing.T) {
	t.Parallel()
	var w experiments.Welford
	est, lo, hi := experiments.MeanCI(&w, 0.95)
	assert.True(t, math.IsNaN(est) && math.IsNaN(lo) && math.IsNaN(hi), "n=0: %v %v %v", est, lo, hi)

	w.Add(2.5)
	est, lo, hi = experiments.MeanCI(&w, 0.95)
	assert.InDelta(t, 2.5, est, 1e-15)
	assert.True(t, math.IsNaN(lo) && math.IsNaN(hi), "n=1: %v %v", lo, hi)
}

// statsTwoPass returns the mean and unbiased variance of xs by the textbook
// two-pass algorithm.
func statsTwoPass(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

func TestStatsWelfordTwoPass(t *testing.T) {
	t.Parallel()
	for seed := range statsSeeds(t) {
		r := rand.New(rand.NewPCG(seed, 2))
		// A large offset makes the naive sum-of-squares formula fail.
		offset := []float64{0, 1e3, 1e9}[seed%3]
		n := 2 + r.IntN(1000)
		xs := make([]float64, n)
		var w experiments.Welford
		for i := range xs {
			xs[i] = offset + r.ExpFloat64()
			w.Add(xs[i])
		}
		mean, variance := statsTwoPass(xs)
		require.Equal(t, n, w.N(), "seed=%d", seed)
		assert.InEpsilon(t, mean, w.Mean(), 1e-13, "mean seed=%d offset=%v", seed, offset)
		// At offset 1e9 the data carry only ~7 significant digits of spread.
		assert.InEpsilon(t, variance, w.Variance(), 1e-6, "variance seed=%d offset=%v", seed, offset)
		assert.InEpsilon(t, math.Sqrt(variance), w.StdDev(), 1e-6, "stddev seed=%d offset=%v", seed, offset)
	}
}

func TestStatsWelfordMerge(t *testing.T) {
	t.Parallel()
	for seed := range statsSeeds(t) {
		r := rand.New(rand.NewPCG(seed, 3))
		n := 2 + r.IntN(500)
		var whole experiments.Welford
		parts := make([]experiments.Welford, 1+r.IntN(8)) // some may stay empty
		for range n {
			x := 5 + 3*r.NormFloat64()
			whole.Add(x)
			parts[r.IntN(len(parts))].Add(x)
		}
		var merged experiments.Welford
		for _, p := range parts {
			merged.Merge(p)
		}
		require.Equal(t, whole.N(), merged.N(), "seed=%d", seed)
		assert.InEpsilon(t, whole.Mean(), merged.Mean(), 1e-12, "mean seed=%d", seed)
		assert.InEpsilon(t, whole.Variance(), merged.Variance(), 1e-12, "variance seed=%d", seed)

		// Merging in the reverse order agrees up to rounding.
		var reversed experiments.Welford
		for i := len(parts) - 1; i >= 0; i-- {
			reversed.Merge(parts[i])
		}
		assert.InEpsilon(t, merged.Mean(), reversed.Mean(), 1e-12, "mean seed=%d", seed)
		assert.InEpsilon(t, merged.Variance(), reversed.Variance(), 1e-12, "variance seed=%d", seed)

		// The same fixed order gives identical bits.
		var again experiments.Welford
		for _, p := range parts {
			again.Merge(p)
		}
		assert.Equal(t, merged, again, "seed=%d", seed)
	}
}

func TestStatsWelfordEmpty(t *testing.T) {
	t.Parallel()
	var w experiments.Welford
	assert.Zero(t, w.N())
	assert.True(t, math.IsNaN(w.Mean()), "mean of nothing")
	w.Add(1)
	assert.True(t, math.IsNaN(w.Variance()), "variance of one observation")

	var empty, one experiments.Welford
	one.Add(4)
	empty.Merge(one)
	assert.Equal(t, one, empty, "merge into empty")
	one.Merge(experiments.Welford{})
	assert.Equal(t, 1, one.N(), "merge of empty")
}

func TestStatsMetricHelpers(t *testing.T) {
	t.Parallel()
	t.Run("proportion interior uses wilson", func(t *testing.T) {
		m := experiments.ProportionMetric(experiments.MetricExpiryPerOutage, "", 5, 10)
		lo, hi := experiments.Wilson(5, 10, experiments.ConfidenceLevel)
		assert.Equal(t, experiments.Metric{
			Name: experiments.MetricExpiryPerOutage, Estimate: 0.5, Lower: lo, Upper: hi,
			Count: 5, Trials: 10, Method: "wilson",
		}, m)
	})
	for _, k := range []float64{0, 10} {
		t.Run(fmt.Sprintf("proportion k=%v n=10 uses clopper-pearson", k), func(t *testing.T) {
			m := experiments.ProportionMetric(experiments.MetricExpiryPerOutage, "", k, 10)
			lo, hi := experiments.ClopperPearson(k, 10, experiments.ConfidenceLevel)
			assert.Equal(t, experiments.Metric{
				Name: experiments.MetricExpiryPerOutage, Estimate: k / 10, Lower: lo, Upper: hi,
				Count: k, Trials: 10, Method: "clopper-pearson",
			}, m, "k=%v", k)
		})
	}
	t.Run("proportion without trials", func(t *testing.T) {
		m := experiments.ProportionMetric(experiments.MetricExpiryPerOutage, "", 0, 0)
		assert.True(t, math.IsNaN(m.Estimate), "estimate %v", m.Estimate)
		assert.Equal(t, []float64{0, 1}, []float64{m.Lower, m.Upper})
	})
	t.Run("rate", func(t *testing.T) {
		m := experiments.RateMetric(experiments.MetricExpiryRate, "1/session-day", 10, 2)
		assert.Equal(t, "poisson-exact", m.Method)
		assert.Equal(t, []float64{10, 2}, []float64{m.Count, m.Trials})
		assert.InDelta(t, 5, m.Estimate, 1e-12)
		assert.InDelta(t, 4.795/2, m.Lower, 1e-3)
		assert.InDelta(t, 18.39/2, m.Upper, 1e-2)
	})
	t.Run("mean", func(t *testing.T) {
		var w experiments.Welford
		for _, x := range []float64{1, 2, 3, 4, 5} {
			w.Add(x)
		}
		m := experiments.MeanMetric(experiments.MetricDetectionTime, "s", w)
		assert.Equal(t, "student-t", m.Method)
		assert.Equal(t, "s", m.Unit)
		assert.Equal(t, []float64{5, 5}, []float64{m.Count, m.Trials})
		assert.InDelta(t, 3, m.Estimate, 1e-12)
		assert.InDelta(t, 1.037, m.Lower, 1e-3)
		assert.InDelta(t, 4.963, m.Upper, 1e-3)
		assert.Equal(t, 5, w.N(), "MeanMetric must not alter its argument")
	})
}
