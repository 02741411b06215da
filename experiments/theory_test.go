package experiments_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/combin"

	"hbsim/experiments"
)

// theoryExpSurvival returns the survival function of an exponential law with
// mean m seconds.
func theoryExpSurvival(m float64) func(float64) float64 {
	return func(y float64) float64 { return math.Exp(-y / m) }
}

func TestTheoryPingPeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		T, want float64 // seconds
	}{
		{T: 10, want: 3.333},    // 10000*2/3 = 6666, /2 = 3333 ms
		{T: 30, want: 10},       // 20000 / 2
		{T: 4, want: 1.333},     // 2666 / 2
		{T: 1, want: 0.333},     // 666 / 2
		{T: 2, want: 0.666},     // 1333 / 2 = 666
		{T: 0.005, want: 0.001}, // 3 / 2 = 1 ms
		{T: 40.0004, want: 13.333},
		{T: 0, want: 0},
	}
	for _, tc := range tests {
		assert.InDelta(t, tc.want, experiments.PingPeriod(tc.T), 1e-12, "T=%v", tc.T)
	}
	assert.True(t, math.IsNaN(experiments.PingPeriod(-1)), "negative T")
}

// TestTheoryWorkedValues reproduces the table of closed-forms.md §1:
// R = 1 s, p = T/3, exponential D, to the printed precision.
func TestTheoryWorkedValues(t *testing.T) {
	t.Parallel()
	const R = 1.0
	tests := []struct {
		T, never, always float64
		m, want          []float64
	}{
		{T: 10, never: 5.67, always: 9, m: []float64{2, 5, 10}, want: []float64{2.86e-2, 0.235, 0.483}},
		{T: 30, never: 19, always: 29, m: []float64{2, 5, 10}, want: []float64{1.49e-5, 9.67e-3, 9.45e-2}},
	}
	for _, tc := range tests {
		p := tc.T / 3
		t.Run(fmt.Sprintf("T=%v", tc.T), func(t *testing.T) {
			// The thresholds are printed to 3 significant digits.
			assert.InDelta(t, tc.never, tc.T-R-p, 5e-3, "never-expires threshold")
			assert.InDelta(t, tc.always, tc.T-R, 5e-3, "always-expires threshold")
			assert.Zero(t, experiments.ExpiryFixedD(tc.T, R, p, tc.T-R-p), "at the never threshold")
			assert.Greater(t, experiments.ExpiryFixedD(tc.T, R, p, tc.T-R-p+1e-9), 0.0, "just above the never threshold")
			assert.Less(t, experiments.ExpiryFixedD(tc.T, R, p, tc.T-R), 1.0+1e-15, "at the always threshold")
			assert.Equal(t, 1.0, experiments.ExpiryFixedD(tc.T, R, p, tc.T-R+1e-9), "above the always threshold")

			for i, m := range tc.m {
				got := experiments.ExpiryExponential(tc.T, R, p, m)
				// Three significant digits: half a unit in the last one.
				tol := 0.5 * math.Pow(10, math.Floor(math.Log10(tc.want[i]))-2)
				assert.InDelta(t, tc.want[i], got, tol, "m=%v", m)
			}
		})
	}
}

func TestTheoryExpiryExponentialBranches(t *testing.T) {
	t.Parallel()
	const T, p, m = 10.0, 3.0, 4.0
	// 0 <= T-R < p: the documented second branch.
	R := 8.0 // T-R = 2
	want := (p-2)/p + (m/p)*(1-math.Exp(-2/m))
	assert.InDelta(t, want, experiments.ExpiryExponential(T, R, p, m), 1e-15)
	// T-R < 0: every outage expires the session.
	assert.Equal(t, 1.0, experiments.ExpiryExponential(T, 11, p, m))
	// Continuity at T-R = p between the two formulas.
	assert.InDelta(t,
		experiments.ExpiryExponential(T, T-p+1e-12, p, m),
		experiments.ExpiryExponential(T, T-p, p, m), 1e-11, "continuity at T-R = p")
	// m = 0 is a fixed D = 0.
	assert.Equal(t, experiments.ExpiryFixedD(T, 8, p, 0), experiments.ExpiryExponential(T, 8, p, 0))
	// No overflow for tiny means.
	got := experiments.ExpiryExponential(T, 1, p, 1e-3)
	assert.False(t, math.IsNaN(got) || math.IsInf(got, 0), "m=1e-3: %v", got)
	assert.InDelta(t, 0, got, 1e-300)
	for _, bad := range [][2]float64{{0, 1}, {-1, 1}, {1, -1}} {
		assert.True(t, math.IsNaN(experiments.ExpiryExponential(T, 1, bad[0], bad[1])), "p=%v m=%v", bad[0], bad[1])
	}
}

func TestTheoryExpiryGeneralMatchesExponential(t *testing.T) {
	t.Parallel()
	for _, T := range []float64{1, 4, 10, 30, 90} {
		p := experiments.PingPeriod(T)
		for _, R := range []float64{0, 0.2, 1, T - p/2, T + 1} { // last two: 0 <= T-R < p and T-R < 0
			for _, m := range []float64{0.1, 2, 5, 10, 100} {
				want := experiments.ExpiryExponential(T, R, p, m)
				got := experiments.ExpiryGeneral(T, R, p, theoryExpSurvival(m))
				assert.InDelta(t, want, got, 1e-9, "T=%v R=%v p=%v m=%v", T, R, p, m)
			}
		}
	}
}

func TestTheoryExpiryGeneralUniformD(t *testing.T) {
	t.Parallel()
	// D ~ U[0, w]: S is piecewise linear with a kink at w, and
	// ∫_a^b S = ∫ of the clamp, computed exactly here.
	const T, R, p = 10.0, 1.0, 10.0 / 3
	intS := func(w, a, b float64) float64 { // ∫_a^b S(y) dy, S = 1 below 0
		F := func(y float64) float64 { // antiderivative of S
			switch {
			case y <= 0:
				return y
			case y <= w:
				return y - y*y/(2*w)
			default:
				return w / 2
			}
		}
		return F(b) - F(a)
	}
	for _, w := range []float64{5, 6, 7, 8.5, 9, 12, 20} {
		surv := func(y float64) float64 { return math.Max(0, 1-y/w) }
		want := intS(w, T-R-p, T-R) / p
		assert.InDelta(t, want, experiments.ExpiryGeneral(T, R, p, surv), 1e-6, "w=%v", w)
	}
}

func TestTheoryExpiryGeneralFixedD(t *testing.T) {
	t.Parallel()
	// A fixed D has a step survival function: the documented, coarser
	// accuracy (about panel width / p = 1/64) applies.
	const T, R, p = 10.0, 1.0, 10.0 / 3
	for _, D := range []float64{0, 5, 5.7, 6.5, 8.9, 9.5} {
		surv := func(y float64) float64 {
			if y < D {
				return 1
			}
			return 0
		}
		assert.InDelta(t, experiments.ExpiryFixedD(T, R, p, D), experiments.ExpiryGeneral(T, R, p, surv), 1.0/64, "D=%v", D)
	}
}

func TestTheoryBucketedFixedDSupport(t *testing.T) {
	t.Parallel()
	for _, T := range []float64{4, 10, 30} {
		p := experiments.PingPeriod(T)
		for _, k := range []float64{0.05, 0.5, 2, p, 2 * p} {
			for _, R := range []float64{0, 0.3, 1} {
				name := fmt.Sprintf("T=%v p=%v k=%v R=%v", T, p, k, R)
				never := T - R - p // D at or below: never expires
				always := T - R + k
				assert.Zero(t, experiments.ExpiryBucketedFixedD(T, R, p, k, never), name)
				assert.Zero(t, experiments.ExpiryBucketedFixedD(T, R, p, k, never-1), name)
				assert.Greater(t, experiments.ExpiryBucketedFixedD(T, R, p, k, never+1e-6), 0.0, name)
				assert.Less(t, experiments.ExpiryBucketedFixedD(T, R, p, k, always-1e-6), 1.0, name)
				assert.Equal(t, 1.0, experiments.ExpiryBucketedFixedD(T, R, p, k, always+1e-9), name)
				assert.Equal(t, 1.0, experiments.ExpiryBucketedFixedD(T, R, p, k, always+5), name)

				// Monotone in D, and never above the unbucketed §1 value
				// (the grace can only help the session).
				prev := 0.0
				for i := range 200 {
					D := never - 0.5 + (always-never+1)*float64(i)/199
					got := experiments.ExpiryBucketedFixedD(T, R, p, k, D)
					require.GreaterOrEqual(t, got, prev, "%s D=%v", name, D)
					assert.LessOrEqual(t, got, experiments.ExpiryFixedD(T, R, p, D)+1e-15, "%s D=%v", name, D)
					prev = got
				}
			}
		}
	}
}

func TestTheoryBucketedTendsToIdealized(t *testing.T) {
	t.Parallel()
	const T, R = 10.0, 1.0
	p := experiments.PingPeriod(T)
	for _, D := range []float64{5, 5.7, 6, 7.5, 8.9, 9, 9.01, 12} {
		want := experiments.ExpiryFixedD(T, R, p, D)
		assert.Equal(t, want, experiments.ExpiryBucketedFixedD(T, R, p, 0, D), "k=0 D=%v", D)
		for _, k := range []float64{1e-2, 1e-4, 1e-6} {
			// |P_k - P_0| <= k/p: the grace shifts the threshold by at most k.
			assert.InDelta(t, want, experiments.ExpiryBucketedFixedD(T, R, p, k, D), k/p, "k=%v D=%v", k, D)
		}
	}
	for _, m := range []float64{2, 5, 10} {
		want := experiments.ExpiryExponential(T, R, p, m)
		assert.InDelta(t, want, experiments.ExpiryBucketedGeneral(T, R, p, 0, theoryExpSurvival(m)), 1e-9, "k=0 m=%v", m)
		assert.InDelta(t, want, experiments.ExpiryBucketedGeneral(T, R, p, 1e-6, theoryExpSurvival(m)), 1e-6, "k=1e-6 m=%v", m)
	}
}

// TestTheoryBucketedMonteCarlo checks the exact trapezoid law against a
// brute-force simulation of A ~ U[0,p) and G ~ U(0,k].
func TestTheoryBucketedMonteCarlo(t *testing.T) {
	t.Parallel()
	const T, R = 10.0, 1.0
	p := experiments.PingPeriod(T)
	draws := 200_000
	seeds := uint64(5)
	if testing.Short() {
		draws, seeds = 50_000, 2
	}
	for _, k := range []float64{2, 5} { // k < p and k > p
		never, always := T-R-p, T-R+k
		var Ds []float64
		for i := range 25 {
			Ds = append(Ds, never-0.2+(always-never+0.4)*float64(i)/24)
		}
		for seed := range seeds {
			r := rand.New(rand.NewPCG(seed, 0x7e0))
			hits := make([]int, len(Ds))
			for range draws {
				a := p * r.Float64()       // U[0, p)
				g := k * (1 - r.Float64()) // U(0, k]
				for i, D := range Ds {
					if a+D+R > T+g {
						hits[i]++
					}
				}
			}
			for i, D := range Ds {
				want := experiments.ExpiryBucketedFixedD(T, R, p, k, D)
				got := float64(hits[i]) / float64(draws)
				// Five binomial standard errors, plus a floor for want near 0 or 1.
				tol := 5*math.Sqrt(want*(1-want)/float64(draws)) + 1e-4
				assert.InDelta(t, want, got, tol, "seed=%d k=%v D=%v", seed, k, D)
			}
		}
	}
}

func TestTheoryBucketedGeneralExpectation(t *testing.T) {
	t.Parallel()
	// An independent route: E[ExpiryBucketedFixedD(D)] with D ~ Exp(mean m),
	// integrating against the density (split at the kinks of the fixed-D law)
	// plus the tail beyond T-R+k where the fixed-D law is 1.
	const T, R = 10.0, 1.0
	p := experiments.PingPeriod(T)
	for _, k := range []float64{0.5, 2, p, 5} {
		for _, m := range []float64{1, 2, 5, 10} {
			fixed := func(d float64) float64 {
				return experiments.ExpiryBucketedFixedD(T, R, p, k, d) * math.Exp(-d/m) / m
			}
			lo := T - R - p
			cuts := []float64{lo, lo + math.Min(p, k), lo + math.Max(p, k), T - R + k}
			want := math.Exp(-cuts[3] / m) // P(D > T-R+k)
			for i := range 3 {
				want += quad.Fixed(fixed, cuts[i], cuts[i+1], 200, quad.Legendre{}, 0)
			}
			got := experiments.ExpiryBucketedGeneral(T, R, p, k, theoryExpSurvival(m))
			assert.InDelta(t, want, got, 1e-9, "k=%v m=%v", k, m)
			assert.LessOrEqual(t, got, experiments.ExpiryExponential(T, R, p, m)+1e-12, "k=%v m=%v", k, m)
		}
	}
}

func TestTheoryInvalidIsNaN(t *testing.T) {
	t.Parallel()
	surv := theoryExpSurvival(1)
	for name, v := range map[string]float64{
		"fixed p=0":            experiments.ExpiryFixedD(10, 1, 0, 5),
		"general p<0":          experiments.ExpiryGeneral(10, 1, -1, surv),
		"bucketed k<0":         experiments.ExpiryBucketedFixedD(10, 1, 3, -1, 5),
		"bucketed general p=0": experiments.ExpiryBucketedGeneral(10, 1, 0, 1, surv),
		"at least one P>1":     experiments.PAtLeastOneExpiry(1, 2, 1),
		"k of n p<0":           experiments.PAtLeastKOfN(1, 3, -0.1),
		"k of n n<0":           experiments.PAtLeastKOfN(1, -3, 0.1),
		"mass mean p>1":        experiments.MassExpiryMean(3, 1.5),
		"mtbe lambda<0":        experiments.MeanTimeBetweenExpiries(-1, 0.5),
	} {
		assert.True(t, math.IsNaN(v), "%s: %v", name, v)
	}
}

func TestTheoryManyOutages(t *testing.T) {
	t.Parallel()
	// λ = 1/day, P = 0.235, horizon 30 days.
	lambda, P, H := 1/86400.0, 0.235, 30*86400.0
	assert.InDelta(t, 1-math.Exp(-0.235*30), experiments.PAtLeastOneExpiry(lambda, P, H), 1e-15)
	assert.InDelta(t, 86400/0.235, experiments.MeanTimeBetweenExpiries(lambda, P), 1e-6)
	assert.True(t, math.IsInf(experiments.MeanTimeBetweenExpiries(lambda, 0), 1), "P=0")
	assert.Zero(t, experiments.PAtLeastOneExpiry(lambda, P, 0))
	// Tiny products keep their precision (1 - exp would give 0).
	assert.InEpsilon(t, 1e-20, experiments.PAtLeastOneExpiry(1e-10, 1e-5, 1e-5), 1e-12)
}

func TestTheoryPAtLeastKOfN(t *testing.T) {
	t.Parallel()
	// exactTail sums the binomial pmf in log space.
	exactTail := func(k, n int, p float64) float64 {
		var sum float64
		for j := k; j <= n; j++ {
			sum += math.Exp(combin.LogGeneralizedBinomial(float64(n), float64(j)) +
				float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p))
		}
		return sum
	}
	for _, n := range []int{1, 2, 10, 100, 1000} {
		for _, p := range []float64{1e-6, 0.01, 0.235, 0.5, 0.9} {
			for _, k := range []int{1, 2, n / 2, n - 1, n} {
				if k < 1 {
					continue
				}
				got := experiments.PAtLeastKOfN(k, n, p)
				want := exactTail(k, n, p)
				if want < 1e-300 {
					assert.InDelta(t, want, got, 1e-300, "k=%d n=%d p=%v", k, n, p)
					continue
				}
				assert.InEpsilon(t, want, got, 1e-9, "k=%d n=%d p=%v", k, n, p)
			}
			assert.InEpsilon(t, -math.Expm1(float64(n)*math.Log1p(-p)), experiments.PAtLeastKOfN(1, n, p), 1e-12,
				"at least one of n=%d p=%v", n, p)
			assert.Equal(t, 1.0, experiments.PAtLeastKOfN(0, n, p), "k=0")
			assert.Zero(t, experiments.PAtLeastKOfN(n+1, n, p), "k>n")
			assert.InDelta(t, float64(n)*p, experiments.MassExpiryMean(n, p), 1e-12)
		}
		assert.Zero(t, experiments.PAtLeastKOfN(1, n, 0), "p=0")
		assert.Equal(t, 1.0, experiments.PAtLeastKOfN(n, n, 1), "p=1")
	}
}
