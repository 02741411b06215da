package fit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// The law's pieces agree with gonum's distributions and with numerical
// integration of the survival function.
func TestLawPieces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		l    law
		dist interface {
			CDF(float64) float64
			Survival(float64) float64
			LogProb(float64) float64
			Quantile(float64) float64
		}
	}{
		{law{Exponential, 2, 0}, distuv.Exponential{Rate: 0.5}},
		{law{LogNormal, 3, 0.7}, distuv.LogNormal{Mu: math.Log(3), Sigma: 0.7}},
		{law{Weibull, 4, 1.6}, distuv.Weibull{Lambda: 4, K: 1.6}},
		{law{Weibull, 4, 0.6}, distuv.Weibull{Lambda: 4, K: 0.6}},
		{law{Pareto, 1.5, 2.5}, distuv.Pareto{Xm: 1.5, Alpha: 2.5}},
		{law{Pareto, 1.5, 0.8}, distuv.Pareto{Xm: 1.5, Alpha: 0.8}},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%s(%g,%g)", tc.l.kind, tc.l.a, tc.l.b)
		for _, x := range []float64{0.3, 1, 1.5, 2.7, 6, 15, 40} {
			assert.InDelta(t, tc.dist.CDF(x), tc.l.cdf(x), 1e-12, "%s cdf(%g)", name, x)
			assert.InEpsilon(t, tc.dist.Survival(x)+1e-300, tc.l.survival(x)+1e-300, 1e-9, "%s survival(%g)", name, x)
			if tc.dist.CDF(x) > 0 {
				assert.InDelta(t, tc.dist.LogProb(x), tc.l.logPDF(x), 1e-9, "%s logPDF(%g)", name, x)
			}
			assert.InEpsilon(t, numIntegral(tc.l, 0, x), tc.l.partial(x), 1e-6, "%s partial(%g)", name, x)
			for _, lo := range []float64{-1, 0.5, x / 2} {
				if lo >= x {
					continue
				}
				assert.InEpsilon(t, numIntegral(tc.l, lo, x)+1e-300, tc.l.integral(lo, x)+1e-300, 1e-6, "%s integral(%g, %g)", name, lo, x)
			}
		}
		for _, q := range []float64{0.01, 0.5, 0.99} {
			assert.InEpsilon(t, tc.dist.Quantile(q), tc.l.quantile(q), 1e-9, "%s quantile(%g)", name, q)
		}
	}
}

// numIntegral is ∫_lo^hi S(y) dy by Gauss–Legendre quadrature, split where
// S has a kink (0, and a Pareto law's scale).
func numIntegral(l law, lo, hi float64) float64 {
	cuts := []float64{lo, hi}
	for _, c := range []float64{0, l.a} {
		if (c == 0 || l.kind == Pareto) && c > lo && c < hi {
			cuts = append(cuts, c)
		}
	}
	slices.Sort(cuts)
	f := func(y float64) float64 {
		if y < 0 {
			return 1
		}
		return l.survival(y)
	}
	var s float64
	for i := 1; i < len(cuts); i++ {
		s += quad.Fixed(f, cuts[i-1], cuts[i], 200, nil, 0)
	}
	return s
}

// simEpisodes draws n outages from l and returns what a client with read
// timeout rt (ping period rt/2, one host, connect timeout 3rt/2 = T)
// observes of those it notices, under the ideal transport: the reconnect
// schedule of zk-semantics §1.5 (100 ms cleanup, 1 s spin delay, U[0,1) s
// sleep before each attempt), and a SYN held by the outage completing the
// instant it ends.
func simEpisodes(r *rand.Rand, l law, rt float64, n int) []Episode {
	p := rt / 2
	ct := 1.5 * rt
	var eps []Episode
	for range n {
		d := l.quantile(r.Float64())
		a := p * r.Float64()
		x := a + d
		if x <= rt {
			continue
		}
		e := Episode{Detect: rt, Period: p}
		prevEnd := rt
		c := rt + 1.1 + r.Float64()
		for {
			if x <= c {
				e.Lo, e.Hi = prevEnd, c
				e.Raw = c - rt
				break
			}
			if x <= c+ct {
				e.Lo, e.Hi = x, x
				e.Raw = x - rt
				break
			}
			prevEnd = c + ct
			c = prevEnd + 1.1 + r.Float64()
		}
		eps = append(eps, e)
	}
	return eps
}

// Over many simulated fleets, the 95 % intervals of the episode fit cover
// the true parameters about 95 % of the time, and the naive fit of the raw
// disconnection times is far off.
func TestEpisodeFitCoverage(t *testing.T) {
	t.Parallel()
	reps, outages := 12, 2000
	if testing.Short() {
		reps = 6
	}
	for _, truth := range []law{{LogNormal, 4, 0.6}, {Weibull, 5, 1.8}} {
		covered := make([]int, 2)
		naiveCovered := 0
		for rep := range reps {
			seed := uint64(100 + rep)
			r := rand.New(rand.NewPCG(seed, 7))
			eps := simEpisodes(r, truth, 6.666, outages)
			require.GreaterOrEqual(t, len(eps), 200, "seed=%d", seed)
			e := fitEpisodes(truth.kind, eps)
			require.Empty(t, e.Err, "seed=%d", seed)
			for i, v := range []float64{truth.a, truth.b} {
				if e.Params[i].Contains(v) {
					covered[i]++
				}
			}
			raw := make([]float64, len(eps))
			for i, ep := range eps {
				raw[i] = ep.Raw
			}
			naive := fitComplete(truth.kind, raw)
			if naive.Params[0].Contains(truth.a) && naive.Params[1].Contains(truth.b) {
				naiveCovered++
			}
		}
		// Coverage 95 %: at least 75 % of 12 (9) allows a binomial
		// excursion of about 3 standard errors.
		for i, c := range covered {
			assert.GreaterOrEqual(t, float64(c)/float64(reps), 0.75, "%s parameter %d covered %d/%d", truth.kind, i, c, reps)
		}
		assert.Zero(t, naiveCovered, "%s: the naive fit covers the truth", truth.kind)
		t.Logf("%s: coverage %v of %d; naive %d", truth.kind, covered, reps, naiveCovered)
	}
}
