package experiments

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recommendSpec is the closed forms' simplified world (closed-forms.md §1,
// as in oracleSpec): ideal transport, no bucket rounding, constant
// reconnect latency R = 1 s, zero latency, no orphaned-socket path, one
// outage of the given length(s) at a random ping phase. server holds extra
// [server] lines. The session timeout in the file is ignored by Recommend.
func recommendSpec(t *testing.T, durations, server string, seed uint64) *Spec {
	t.Helper()
	src := fmt.Sprintf(`
[experiment]
seed = %d
replications = 10
horizon = "3m"
clients = 1
dead_client_probe = true

[server]
bucket_rounding = false
connection_reaper = false
%s

[client]
session_timeout = ["10s", "30s"]
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
`, seed, server, durations)
	s, err := Parse("recommend.toml", []byte(src))
	require.NoError(t, err)
	return s
}

var recommendSeed = flag.Uint64("recommend-seed", 21, "seed of TestRecommendClosedForm")

// closedFormT returns the smallest timeout, in whole ms, at which the
// equally weighted mixture of the §1 fixed-length closed form over
// lengths (R = 1 s, p = PingPeriod(T)) is at most q.
func closedFormT(lengths []float64, q float64) time.Duration {
	p := func(ms int) float64 {
		T := float64(ms) / 1000
		var sum float64
		for _, d := range lengths {
			sum += ExpiryFixedD(T, 1, PingPeriod(T), d)
		}
		return sum / float64(len(lengths))
	}
	lo, hi := 1000, 1_000_000 // p(lo) > q >= p(hi): the mixture falls with T
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if p(mid) <= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Duration(hi) * time.Millisecond
}

// TestRecommendClosedForm checks the answer against the inverted closed
// form P(expire | D) = (D - (T - R - p))/p (closed-forms.md §1).
//
// Tolerance. The answer is the smallest explored timeout whose 95 % upper
// bound is at most q, and the bisection stops when it is within the
// resolution (100 ms, or 1 % of T above 10 s) of a timeout that did not meet the target. So:
//   - too small would need a false "meets" at a timeout whose true P is
//     above q + 2·se(first batch): the estimate would have to fall about
//     4 standard errors below the truth; we allow down to the T where
//     P = q + 2·se(batch);
//   - too large would need a timeout whose true P is below q - 5·se(budget)
//     to fail to show UCB <= q with the whole budget (a 3-standard-error
//     excursion), plus the resolution; we allow up to the T where
//     P = q - 5·se(budget), plus the resolution there.
//
// se(n) = sqrt(q(1-q)/n) with n the replications of all pooled points.
func TestRecommendClosedForm(t *testing.T) {
	batch, budget := 200, 1600
	if testing.Short() {
		batch, budget = 100, 800
	}
	tests := []struct {
		name      string
		durations string
		lengths   []float64
		server    string
		q         float64
		beyond    bool
	}{
		{"D=8s", `"8s"`, []float64{8}, "", 0.1, false},
		{"pooled D=6s,10s", `["6s", "10s"]`, []float64{6, 10}, "", 0.1, false},
		{"beyond maxSessionTimeout", `"20s"`, []float64{20}, `tick_time = "1s"`, 0.1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seed := *recommendSeed
			s := recommendSpec(t, tc.durations, tc.server, seed)
			rec, err := Recommend(context.Background(), s, RecommendOptions{
				Target: Target{Metric: MetricExpiryPerOutage, Value: tc.q}, Batch: batch, MaxReplications: budget, Workers: 2,
			})
			require.NoError(t, err, "seed=%d", seed)
			require.GreaterOrEqual(t, rec.Recommended, 0, "seed=%d: %s", seed, rec.Reason)
			got := rec.Candidates[rec.Recommended]

			n := float64(len(tc.lengths))
			se := func(reps int) float64 { return math.Sqrt(tc.q * (1 - tc.q) / (n * float64(reps))) }
			want := closedFormT(tc.lengths, tc.q)
			lo := closedFormT(tc.lengths, tc.q+2*se(batch))
			hi := closedFormT(tc.lengths, tc.q-5*se(budget))
			hi += resolution(hi)
			t.Logf("seed=%d: recommended %v (%d replications), closed form %v, allowed [%v, %v]", seed, got.Timeout(), rec.Replications, want, lo, hi)
			assert.True(t, got.Timeout() >= lo && got.Timeout() <= hi,
				"seed=%d: recommended %v, closed form %v, allowed [%v, %v]", seed, got.Timeout(), want, lo, hi)
			assert.Equal(t, tc.beyond, got.BeyondServerMax, "seed=%d", seed)
			assert.Equal(t, VerdictMeets, got.Verdict)
			m, ok := got.Metric(MetricExpiryPerOutage)
			require.True(t, ok)
			assert.LessOrEqual(t, m.Upper, tc.q, "seed=%d: the answer's upper bound meets the target", seed)

			txt := rec.Text()
			assert.Contains(t, txt, "Use a "+secs(got.TimeoutS)+" session timeout")
			assert.Contains(t, txt, "Cost: a crashed client's session lingers "+secs(got.TimeoutS))
			if tc.beyond {
				assert.Contains(t, txt, "set maxSessionTimeout >= "+secs(got.TimeoutS))
				assert.Contains(t, txt, "or tickTime >= ")
			}
			if len(tc.lengths) > 1 {
				assert.Contains(t, txt, "Pooled over fault[0].duration = [6s, 10s]")
			}
		})
	}
}

// Replications are folded in (point, replication) order: the answer does
// not depend on the worker count.
func TestRecommendDeterministic(t *testing.T) {
	const seed = 5
	var out []string
	for _, w := range []int{1, 3} {
		s := recommendSpec(t, `["6s", "9s"]`, "", seed)
		rec, err := Recommend(context.Background(), s, RecommendOptions{
			Target: Target{Metric: MetricExpiryPerOutage, Value: 0.05}, Batch: 40, MaxReplications: 160, Workers: w,
		})
		require.NoError(t, err, "seed=%d workers=%d", seed, w)
		js, err := rec.JSON()
		require.NoError(t, err)
		out = append(out, string(js))
	}
	assert.Equal(t, out[0], out[1], "seed=%d: workers 1 and 3 differ", seed)
}

// --at fixes an axis: the other value is not run.
func TestRecommendFix(t *testing.T) {
	const seed = 6
	s := recommendSpec(t, `["6s", "9s"]`, "", seed)
	rec, err := Recommend(context.Background(), s, RecommendOptions{
		Target: Target{Metric: MetricExpiryPerOutage, Value: 0.2}, Batch: 40, MaxReplications: 80, Workers: 2,
		Fix: map[string]string{"fault[0].duration": "9s"},
	})
	require.NoError(t, err, "seed=%d", seed)
	assert.Equal(t, 1, rec.PooledPoints)
	assert.Empty(t, rec.Pooled)
	assert.Equal(t, []Param{{Key: "fault[0].duration", Value: "9s", Numeric: 9}}, rec.Fixed)
	assert.Contains(t, rec.Text(), "Fixed fault[0].duration = 9s.")

	for _, fix := range []map[string]string{
		{"fault[0].duration": "7s"},
		{"server.tick_time": "2s"},
		{"client.session_timeout": "10s"},
	} {
		_, err := Recommend(context.Background(), s, RecommendOptions{
			Target: Target{Metric: MetricExpiryPerOutage, Value: 0.2}, Batch: 10, Fix: fix,
		})
		assert.ErrorIs(t, err, ErrRecommendInput, "%v", fix)
	}
}

// A target that no sample in the budget could show fails fast and says
// what would be needed.
func TestRecommendUnreachable(t *testing.T) {
	s := recommendSpec(t, `"8s"`, "", 7)
	_, err := Recommend(context.Background(), s, RecommendOptions{
		Target: Target{Metric: MetricExpiryRate, Value: 1e-4}, Batch: 10, MaxReplications: 20, Workers: 2,
	})
	require.ErrorIs(t, err, ErrTargetUnreachable)
	assert.Contains(t, err.Error(), "lengthen experiment.horizon")

	_, err = Recommend(context.Background(), s, RecommendOptions{
		Target: Target{Metric: MetricExpiryPerOutage, Value: 1e-5}, Batch: 10, MaxReplications: 20, Workers: 2,
	})
	require.ErrorIs(t, err, ErrTargetUnreachable)
	assert.Contains(t, err.Error(), "even with no expiry at all")
}

// With a ceiling below the answer there is no answer, and the text says so.
func TestRecommendNoAnswer(t *testing.T) {
	s := recommendSpec(t, `"30s"`, `max_session_timeout = "20s"`, 8)
	rec, err := Recommend(context.Background(), s, RecommendOptions{
		Target: Target{Metric: MetricExpiryPerOutage, Value: 0.1}, Batch: 40, MaxReplications: 80, Workers: 2,
		MaxTimeout: 30 * time.Second,
	})
	require.NoError(t, err)
	assert.Equal(t, -1, rec.Recommended)
	assert.Contains(t, rec.Text(), "No answer: no timeout up to the search ceiling 30s meets the target.")
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
		err  string
	}{
		{"1e-3/outage", Target{MetricExpiryPerOutage, 1e-3}, ""},
		{" 0.001 / outage ", Target{MetricExpiryPerOutage, 1e-3}, ""},
		{"1e-4/session-day", Target{MetricExpiryRate, 1e-4}, ""},
		{"2/session-day", Target{MetricExpiryRate, 2}, ""},
		{"1e-3", Target{}, "write RATE/UNIT"},
		{"x/outage", Target{}, "not a positive number"},
		{"0/outage", Target{}, "not a positive number"},
		{"1.5/outage", Target{}, "below 1"},
		{"1e-3/hour", Target{}, `unknown unit "hour"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTarget(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.True(t, strings.HasPrefix(err.Error(), "experiments: "), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "1e-3/outage", Target{MetricExpiryPerOutage, 1e-3}.String())
}

func TestSci(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 6.1e-4: "6.1e-4", 2e-5: "2e-5", 0.12: "0.12", 480: "480", 1.5: "1.5"} {
		assert.Equal(t, want, sci(in), "%v", in)
	}
}

// sessionDaySpec is the closed forms' world (§1: ideal transport, no
// bucket rounding, R = 1 s, zero latency) with per-client Poisson outages
// of exponential length: expiries per session-day = λ·day·P(expire |
// outage), P from ExpiryExponential.
func sessionDaySpec(t *testing.T, seed uint64) *Spec {
	t.Helper()
	src := fmt.Sprintf(`
[experiment]
seed = %d
replications = 4
horizon = "1d"
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
clients = "all"
shared = false
arrival = "poisson"
every = "6h"
duration = { law = "exponential", mean = "2s" }
`, seed)
	s, err := Parse("sessionday.toml", []byte(src))
	require.NoError(t, err)
	return s
}

// TestRecommendSessionDayClosedForm checks a per-session-day answer of the
// rare-event estimator against the closed form rate(T) = 4/day ×
// ExpiryExponential(T, R = 1 s, p, m = 2 s):
//   - the closed form at the answer lies within the answer's 95 % CI;
//   - the answer lies between where the closed form is 1.1 × the target
//     (a false "meets" there needs the upper bound 10 % below the truth:
//     more than 3 standard errors at the first batch of 2 000 episodes)
//     and where it is the target / 1.25 plus the search's resolution (the
//     whole budget of 8 000 episodes shows that unless the estimate is
//     about 3 standard errors high);
//   - the curve falls with T among the timeouts that ran the same
//     episodes, and the answer does not depend on the worker count.
func TestRecommendSessionDayClosedForm(t *testing.T) {
	const q, m = 1e-4, 2.0
	seed := *recommendSeed
	cf := func(T float64) float64 { return 4 * ExpiryExponential(T, 1, PingPeriod(T), m) }
	cfT := func(v float64) time.Duration { // the smallest T, whole ms, with cf(T) <= v
		lo, hi := 1000, 1_000_000
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if cf(float64(mid)/1000) <= v {
				hi = mid
			} else {
				lo = mid
			}
		}
		return time.Duration(hi) * time.Millisecond
	}
	var answers []float64
	for _, workers := range []int{2, 1} {
		rec, err := Recommend(context.Background(), sessionDaySpec(t, seed), RecommendOptions{
			Target: Target{Metric: MetricExpiryRate, Value: q}, Workers: workers,
		})
		require.NoError(t, err, "seed=%d", seed)
		require.Equal(t, RecommendRare, rec.Method, rec.MethodNote)
		require.GreaterOrEqual(t, rec.Recommended, 0, "seed=%d: %s", seed, rec.Reason)
		got := rec.Candidates[rec.Recommended]
		rate, ok := got.Metric(MetricExpiryRate)
		require.True(t, ok)
		answers = append(answers, got.TimeoutS)
		if workers == 1 {
			continue
		}
		want := cfT(q)
		lo, hi := cfT(q*1.1), cfT(q/1.25)
		hi += resolution(hi)
		t.Logf("seed=%d: recommended %v: %s [%s, %s] after %d episodes; closed form there %s, closed-form answer %v, allowed [%v, %v]",
			seed, got.Timeout(), sci(rate.Estimate), sci(rate.Lower), sci(rate.Upper), rec.Episodes, sci(cf(got.TimeoutS)), want, lo, hi)
		assert.True(t, cf(got.TimeoutS) >= rate.Lower && cf(got.TimeoutS) <= rate.Upper,
			"seed=%d: closed form %s outside the CI [%s, %s] at %v", seed, sci(cf(got.TimeoutS)), sci(rate.Lower), sci(rate.Upper), got.Timeout())
		assert.True(t, got.Timeout() >= lo && got.Timeout() <= hi, "seed=%d: recommended %v, allowed [%v, %v]", seed, got.Timeout(), lo, hi)
		assert.LessOrEqual(t, rate.Upper, q)
		assert.Empty(t, rec.Warnings, "seed=%d", seed)
		// The explored curve falls with T (candidates are sorted by T).
		for i := 1; i < len(rec.Candidates); i++ {
			a, _ := rec.Candidates[i-1].Metric(MetricExpiryRate)
			b, _ := rec.Candidates[i].Metric(MetricExpiryRate)
			assert.GreaterOrEqual(t, a.Estimate, b.Estimate, "seed=%d: T = %v then %v", seed, rec.Candidates[i-1].TimeoutS, rec.Candidates[i].TimeoutS)
			assert.GreaterOrEqual(t, a.Upper, b.Upper, "seed=%d", seed)
		}
		txt := rec.Text()
		assert.Contains(t, txt, "Method: rare-event estimate")
		assert.Contains(t, txt, "the same episodes at every timeout")
	}
	assert.Equal(t, answers[0], answers[1], "seed=%d: the answer depends on the worker count", seed)
}

// Where the rare-event estimator does not apply, a per-session-day target
// is simulated plainly, and the output says why.
func TestRecommendSessionDayFallsBack(t *testing.T) {
	s := sessionDaySpec(t, 3)
	s.Replications = 2
	rec, err := Recommend(context.Background(), s, RecommendOptions{
		Target: Target{Metric: MetricExpiryRate, Value: 50}, Workers: 2, Plain: true, Batch: 2, MaxReplications: 4,
	})
	require.NoError(t, err)
	assert.Equal(t, RecommendPlain, rec.Method)
	assert.Contains(t, rec.MethodNote, "--plain")
	assert.Contains(t, rec.Text(), "Method: plain simulation")
}

func TestIsotonicDecreasing(t *testing.T) {
	assert.Equal(t, []float64{5, 3, 2.5, 2.5, 1}, isotonicDecreasing([]float64{5, 3, 2, 3, 1}, []float64{1, 1, 1, 1, 1}))
	assert.Equal(t, []float64{4, 4, 1}, isotonicDecreasing([]float64{2, 5, 1}, []float64{1, 2, 1}), "weighted: (2 + 10)/3")
	y := []float64{0.3, 0.1, 0.01}
	assert.Equal(t, y, isotonicDecreasing(y, []float64{7, 3, 1}), "a monotone curve is left as it is, bit for bit")
}
