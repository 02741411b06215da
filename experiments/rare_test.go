package experiments

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rareSpec(t testing.TB, timeout, mean, every string, shared bool, seed uint64) *Spec {
	t.Helper()
	src := fmt.Sprintf(`
[experiment]
seed = %d
replications = 2
horizon = "1d"
clients = 1

[client]
session_timeout = %q

[[fault]]
kind = "outage"
clients = "all"
shared = %v
arrival = "poisson"
every = %q
duration = { law = "exponential", mean = %q }
`, seed, timeout, shared, every, mean)
	s, err := Parse("rare.toml", []byte(src))
	require.NoError(t, err)
	return s
}

// The rare-event estimate of P(expire | outage) agrees with plain simulation
// of single outages (scripted at a random phase, lengths drawn from the same
// law, the full TCP model) where plain simulation is feasible.
func TestRareAgreesWithPlainSimulation(t *testing.T) {
	reps := 12000
	if testing.Short() {
		reps = 3000
	}
	for _, tc := range []struct {
		timeout, mean string
		seed          uint64
	}{
		{"10s", "2s", 21}, // P about 3e-2
		{"30s", "5s", 22}, // P about 1e-2
	} {
		name := fmt.Sprintf("T=%s mean=%s seed=%d", tc.timeout, tc.mean, tc.seed)
		plainSrc := fmt.Sprintf(`
[experiment]
seed = %d
replications = %d
horizon = "5m"
clients = 1
dead_client_probe = false

[client]
session_timeout = %q

[[fault]]
kind = "outage"
clients = 0
arrival = "scripted"
at = ["60s"]
duration = { law = "exponential", mean = %q }
`, tc.seed, reps, tc.timeout, tc.mean)
		ps, err := Parse("plain.toml", []byte(plainSrc))
		require.NoError(t, err)
		plain, err := Run(context.Background(), ps, RunOptions{Workers: 2})
		require.NoError(t, err)
		pm, _ := plain.Points[0].Metric(MetricExpiryPerOutage)

		rs := rareSpec(t, tc.timeout, tc.mean, "10h", false, tc.seed)
		res, est, err := RunRare(context.Background(), rs, RareOptions{Workers: 2, TargetRelHalfWidth: 0.05})
		require.NoError(t, err)
		require.Len(t, est, 1, name)
		e := est[0]
		rm, _ := res.Points[0].Metric(MetricExpiryPerOutage)
		assert.Equal(t, MethodImportance, rm.Method)
		// Two independent estimates: their difference is within 2.58 combined
		// standard errors (99 %).
		sePlain := (pm.Upper - pm.Lower) / (2 * 1.96)
		seRare := e.HalfWidth / 1.96
		diff := math.Abs(pm.Estimate - e.P)
		assert.LessOrEqual(t, diff, 2.58*math.Hypot(sePlain, seRare),
			"%s: plain %.4g [%.4g, %.4g] vs rare %.4g ± %.2g", name, pm.Estimate, pm.Lower, pm.Upper, e.P, e.HalfWidth)
		assert.Positive(t, e.P, name)
		// The rate is λ·day·P exactly.
		rate, _ := res.Points[0].Metric(MetricExpiryRate)
		assert.InDelta(t, e.P*24/10, rate.Estimate, 1e-12, name)
	}
}

// The mode states its assumptions and falls back to plain simulation when
// they do not hold.
func TestRareChecksAssumptions(t *testing.T) {
	shared := rareSpec(t, "10s", "2s", "10h", true, 1)
	res, est, err := RunRare(context.Background(), shared, RareOptions{Workers: 2})
	require.NoError(t, err)
	assert.Empty(t, est)
	require.NotEmpty(t, res.Warnings)
	assert.Contains(t, res.Warnings[len(res.Warnings)-1], "shared outages")
	m, _ := res.Points[0].Metric(MetricExpiryRate)
	assert.Equal(t, "poisson-exact", m.Method, "plain simulation's metric")

	overlapping := rareSpec(t, "10s", "2s", "10m", false, 1)
	res, est, err = RunRare(context.Background(), overlapping, RareOptions{Workers: 2})
	require.NoError(t, err)
	assert.Empty(t, est)
	assert.Contains(t, res.Warnings[len(res.Warnings)-1], "overlap too often")
}

// The same seed gives the same estimate whatever the worker count.
func TestRareDeterminism(t *testing.T) {
	s := rareSpec(t, "30s", "3s", "10h", false, 5)
	_, a, err := RunRare(context.Background(), s, RareOptions{Workers: 1, Batch: 500, MaxEpisodes: 1000})
	require.NoError(t, err)
	_, b, err := RunRare(context.Background(), s, RareOptions{Workers: 3, Batch: 500, MaxEpisodes: 1000})
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

// BenchmarkRareEvent is the performance issue's 60 s case: T = 30 s,
// exponential outages (mean 1.25 s, one per hour per client), where the
// expiry rate is about 1e-6 per session-day; it reports the estimate and the
// relative half-width reached.
func BenchmarkRareEvent(b *testing.B) {
	s := rareSpec(b, "30s", "1.25s", "1h", false, 1)
	for b.Loop() {
		_, est, err := RunRare(context.Background(), s, RareOptions{TargetRelHalfWidth: 0.1})
		if err != nil {
			b.Fatal(err)
		}
		e := est[0]
		b.ReportMetric(e.Rate, "expiries/session-day")
		b.ReportMetric(e.HalfWidth/e.P, "rel-half-width")
		b.ReportMetric(float64(e.Episodes), "episodes")
	}
}
