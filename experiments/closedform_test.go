package experiments

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracleSpec is the closed forms' simplified world (closed-forms.md §1):
// ideal transport, constant reconnect latency R = 1 s, zero latency, no
// orphaned-socket path, and one outage at a uniformly random ping phase.
func oracleSpec(t *testing.T, timeout, duration string, rounding bool, reps int, seed uint64) *Spec {
	t.Helper()
	src := fmt.Sprintf(`
[experiment]
seed = %d
replications = %d
horizon = "6m"
clients = 1
dead_client_probe = false

[server]
tick_time = "2s"
bucket_rounding = %v
connection_reaper = false

[client]
session_timeout = %q
fixed_reconnect = "1s"

[network]
transport = "ideal"
latency = "0s"
orphan_retransmit = false

[[fault]]
kind = "outage"
clients = 0
arrival = "scripted"
at = ["60s"]
duration = %s
`, seed, reps, rounding, timeout, duration)
	s, err := Parse("oracle.toml", []byte(src))
	require.NoError(t, err)
	return s
}

// wilson99 is the 99 % Wilson interval.
func wilson99(k, n float64) (float64, float64) { return Wilson(k, n, 0.99) }

func runPoint(t *testing.T, s *Spec) []PointResult {
	t.Helper()
	res, err := Run(context.Background(), s, RunOptions{Workers: 2, Check: true})
	require.NoError(t, err)
	return res.Points
}

func checkContains(t *testing.T, p PointResult, want float64, label string) {
	t.Helper()
	m, ok := p.Metric(MetricExpiryPerOutage)
	require.True(t, ok)
	lo, hi := wilson99(m.Count, m.Trials)
	assert.True(t, want >= lo-1e-12 && want <= hi+1e-12,
		"%s: closed form %.5g outside the 99%% interval [%.5g, %.5g] of %v/%v", label, want, lo, hi, m.Count, m.Trials)
}

func TestClosedFormFixedOutage(t *testing.T) {
	reps := 1500
	if testing.Short() {
		reps = 400
	}
	const R = 1.0
	for _, tc := range []struct {
		timeout string
		T       float64
		lengths []float64
	}{
		{"10s", 10, []float64{5, 6, 7, 8, 8.5, 9.5}},
		{"30s", 30, []float64{18, 20, 24, 28, 29.5}},
	} {
		durs := "["
		for i, d := range tc.lengths {
			if i > 0 {
				durs += ", "
			}
			durs += fmt.Sprintf("%q", fmt.Sprintf("%gs", d))
		}
		durs += "]"
		const seed = 11
		pts := runPoint(t, oracleSpec(t, tc.timeout, durs, false, reps, seed))
		require.Len(t, pts, len(tc.lengths))
		p := PingPeriod(tc.T)
		for i, d := range tc.lengths {
			checkContains(t, pts[i], ExpiryFixedD(tc.T, R, p, d), fmt.Sprintf("§1 T=%s D=%gs seed=%d", tc.timeout, d, seed))
		}
	}
}

func TestClosedFormExponentialOutage(t *testing.T) {
	reps := 4000
	if testing.Short() {
		reps = 1000
	}
	const seed = 12
	for _, tc := range []struct {
		timeout string
		T, m    float64
	}{
		{"10s", 10, 5},
		{"10s", 10, 2},
		{"30s", 30, 10},
	} {
		dur := fmt.Sprintf(`{ law = "exponential", mean = "%gs" }`, tc.m)
		pts := runPoint(t, oracleSpec(t, tc.timeout, dur, false, reps, seed))
		want := ExpiryExponential(tc.T, 1, PingPeriod(tc.T), tc.m)
		checkContains(t, pts[0], want, fmt.Sprintf("§1 exponential T=%s m=%gs seed=%d", tc.timeout, tc.m, seed))
	}
}

// With ZooKeeper's bucket rounding the deadline carries a grace G ~ U(0, k]:
// the §2 trapezoid law; never below D + R + p <= T, always above D + R > T + k.
func TestClosedFormBucketRounding(t *testing.T) {
	reps := 1500
	if testing.Short() {
		reps = 400
	}
	const seed = 13
	lengths := []float64{5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.2}
	durs := "["
	for i, d := range lengths {
		if i > 0 {
			durs += ", "
		}
		durs += fmt.Sprintf(`"%gs"`, d)
	}
	durs += "]"
	pts := runPoint(t, oracleSpec(t, "10s", durs, true, reps, seed))
	p := PingPeriod(10)
	for i, d := range lengths {
		want := ExpiryBucketedFixedD(10, 1, p, 2, d)
		checkContains(t, pts[i], want, fmt.Sprintf("§2 T=10s k=2s D=%gs seed=%d", d, seed))
	}
	// The extremes are exact.
	pts = runPoint(t, oracleSpec(t, "10s", `["5.6s", "11.1s"]`, true, 300, seed))
	m0, _ := pts[0].Metric(MetricExpiryPerOutage)
	m1, _ := pts[1].Metric(MetricExpiryPerOutage)
	assert.Zero(t, m0.Count, "D+R+p <= T never expires")
	assert.Equal(t, m1.Trials, m1.Count, "D+R > T+k always expires")
}

// Poisson outages: expiring outages are a thinned Poisson process, so
// P(at least one expiry within H) = 1 - exp(-λ P H) (§3).
func TestClosedFormPoissonHorizon(t *testing.T) {
	reps := 2000
	if testing.Short() {
		reps = 600
	}
	const seed = 14
	src := fmt.Sprintf(`
[experiment]
seed = %d
replications = %d
horizon = "1h"
clients = 1
dead_client_probe = false

[server]
bucket_rounding = false
connection_reaper = false

[client]
session_timeout = "10s"
fixed_reconnect = "1s"

[network]
transport = "ideal"
latency = "0s"
orphan_retransmit = false

[[fault]]
kind = "outage"
clients = 0
arrival = "poisson"
every = "1h"
duration = "8s"
`, seed, reps)
	s, err := Parse("poisson.toml", []byte(src))
	require.NoError(t, err)
	pts := runPoint(t, s)
	pe := ExpiryFixedD(10, 1, PingPeriod(10), 8)
	want := PAtLeastOneExpiry(1.0/3600, pe, 3600)
	m, ok := pts[0].Metric(MetricExpiryInHorizon)
	require.True(t, ok)
	lo, hi := wilson99(m.Count, m.Trials)
	assert.True(t, want >= lo && want <= hi, "§3: 1-exp(-λPH) = %.4f outside [%.4f, %.4f] (seed=%d)", want, lo, hi, seed)
	assert.False(t, math.IsNaN(m.Estimate))
}

// Heavy tails (Pareto shape <= 1, with no mean; lognormal sigma >= 5) run,
// and agree with §1's closed form (1/p)∫S(y)dy over [T-R-p, T-R]. Many of
// their outages outlast the run: those last to the horizon and, being longer
// than T - R, expire, as the closed form has them do.
func TestClosedFormHeavyTails(t *testing.T) {
	reps := 3000
	if testing.Short() {
		reps = 800
	}
	const seed = 15
	for _, law := range []string{
		`{ law = "pareto", scale = "1s", shape = 1 }`,
		`{ law = "pareto", scale = "1s", shape = 0.5 }`,
		`{ law = "pareto", scale = "500ms", shape = 0.1 }`,
		`{ law = "lognormal", median = "2s", sigma = 5 }`,
		`{ law = "lognormal", median = "1s", sigma = 10 }`,
		`{ law = "lognormal", median = "1s", sigma = 40 }`,
	} {
		s := oracleSpec(t, "10s", law, false, reps, seed)
		pts, err := s.Points()
		require.NoError(t, err)
		d := pts[0].Config.Faults[0].Duration
		want := ExpiryGeneral(10, 1, PingPeriod(10), d.Survival)
		require.Greater(t, want, 0.05, law)
		require.Less(t, want, 0.95, law)
		res := runPoint(t, s)
		checkContains(t, res[0], want, fmt.Sprintf("§1 %s T=10s seed=%d", law, seed))
		m, _ := res[0].Metric(MetricExpiryPerOutage)
		t.Logf("%s: closed form %.4f, simulated %.4f (%v/%v), P(D > the rest of the run) = %.3f", law, want, m.Estimate, m.Count, m.Trials, d.Survival(300))
	}
}
