package fit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func draws(r *rand.Rand, l law, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = l.quantile(r.Float64())
	}
	return xs
}

// Complete data: over repeated samples the 95 % intervals cover the true
// parameters about 95 % of the time (at least 80 % of 20, a 3 standard-error
// excursion), and Fit chooses the true law (checked on the first 6
// samples) — or, for exponential data, the Weibull law that nests it
// (shape interval containing 1), which AIC prefers about one time in six.
func TestCompleteFitCoverage(t *testing.T) {
	t.Parallel()
	reps := 20
	if testing.Short() {
		reps = 8
	}
	for _, truth := range []law{{Exponential, 2, 0}, {LogNormal, 0.12, 0.8}, {Weibull, 5, 1.8}, {Pareto, 1, 2.5}} {
		covered := make([]int, 2)
		for rep := range reps {
			seed := uint64(500 + rep)
			r := rand.New(rand.NewPCG(seed, 3))
			xs := draws(r, truth, 800)
			e := fitComplete(truth.kind, xs)
			require.Empty(t, e.Err, "seed=%d", seed)
			for j, v := range []float64{truth.a, truth.b}[:len(e.Params)] {
				if e.Params[j].Contains(v) {
					covered[j]++
				}
			}
			if rep >= 6 {
				continue
			}
			res, err := Fit(&Data{Source: SourceCSV, Files: []string{"x"}, Durations: xs})
			require.NoError(t, err, "seed=%d", seed)
			best := res.Best()
			nested := truth.kind == Exponential && best.Law == Weibull && best.Params[1].Contains(1)
			assert.True(t, best.Law == truth.kind || nested, "seed=%d: %s data, chose %s", seed, truth.kind, best.Law)
		}
		for j, c := range covered[:len(paramNames[truth.kind])] {
			assert.GreaterOrEqual(t, float64(c)/float64(reps), 0.8, "%s parameter %d covered %d/%d", truth.kind, j, c, reps)
		}
		t.Logf("%s: coverage %v of %d", truth.kind, covered, reps)
	}
}

// A law none of the candidates can follow (two far-apart modes) falls
// back to the empirical law.
func TestFitFallsBackToEmpirical(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	var xs []float64
	for range 500 {
		xs = append(xs, 0.05+0.01*r.Float64(), 20+r.Float64())
	}
	res, err := Fit(&Data{Source: SourceGC, Files: []string{"x"}, Durations: xs})
	require.NoError(t, err)
	assert.Equal(t, Empirical, res.Best().Law)
	for _, e := range res.Candidates[:4] {
		assert.True(t, e.Rejected, "%s", e.Law)
	}
	assert.Regexp(t, `empirical +the 1000 observed durations .* <- chosen`, res.Text())
}

// The rate from start times: exact χ² interval around (n-1)/span.
func TestRateFromArrivals(t *testing.T) {
	t.Parallel()
	p := rateFromArrivals([]Arrivals{{Count: 101, Span: 3000}, {Count: 1}})
	require.NotNil(t, p)
	assert.InDelta(t, 30.0, p.Value, 1e-12)
	assert.Less(t, p.Lower, 30.0)
	assert.Greater(t, p.Upper, 30.0)
	// 100 gaps: the interval is about ±20 % wide.
	assert.InDelta(t, 30/1.22, p.Lower, 0.6)
	assert.InDelta(t, 30/0.81, p.Upper, 0.8)
	assert.Nil(t, rateFromArrivals(nil))
}

func TestFitNeedsData(t *testing.T) {
	t.Parallel()
	_, err := Fit(&Data{Source: SourceCSV, Durations: []float64{1, 2, 0}})
	assert.ErrorIs(t, err, ErrNoData)
	_, err = Fit(&Data{Source: SourceZK})
	assert.ErrorIs(t, err, ErrNoData)
}

// The episode likelihood of a law: the conditional probabilities of the
// observable part integrate to one over every way X can be observed.
func TestEpisodeLikelihoodIsADistribution(t *testing.T) {
	t.Parallel()
	for _, l := range []law{{LogNormal, 3, 0.7}, {Weibull, 4, 1.5}, {Exponential, 3, 0}, {Pareto, 2, 1.7}} {
		rt, p := 6.666, 3.333
		norm := l.survivalX(rt, p)
		// Exact observations on (rt, 12], an interval (12, 20], and
		// right-censoring beyond 20.
		var exact float64
		const n = 20000
		for i := range n {
			x := rt + (12-rt)*(float64(i)+0.5)/n
			exact += l.densityX(x, p) * (12 - rt) / n
		}
		total := exact/norm + l.probX(12, 20, p)/norm + l.probX(20, math.Inf(1), p)/norm
		assert.InDelta(t, 1, total, 1e-6, "%s", l.kind)
	}
}
