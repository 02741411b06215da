package experiments

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var massSeed = flag.Uint64("mass-seed", 31, "seed of TestMassExpiryBinomial")

// massSpec is the closed forms' simplified world (closed-forms.md §1, as in
// oracleSpec) with n clients hit by one shared outage of length d per
// replication. Every client starts at an independent random point of its
// ping period, so the clients' phases are independent.
func massSpec(t *testing.T, n, reps int, d string, seed uint64) *Spec {
	t.Helper()
	src := fmt.Sprintf(`
[experiment]
seed = %d
replications = %d
horizon = "2m"
clients = %d
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
shared = true
arrival = "scripted"
at = ["60s"]
duration = %q
`, seed, reps, n, d)
	s, err := Parse("mass.toml", []byte(src))
	require.NoError(t, err)
	return s
}

// interval99 is the exact (Clopper–Pearson) 99 % interval: conservative
// at every count, where Wilson's lower bound is too high for counts of 1 or
// 2 (the far tail of the binomial).
func interval99(k, n float64) (float64, float64) { return ClopperPearson(k, n, 0.99) }

// With independent phases, the number of sessions one shared outage expires
// is Binomial(N, P(expire | D)) (closed-forms.md §3), with P from §1: every
// row's exact 99 % interval contains 1 - BinomCDF(k-1; N, P). The tolerance
// is the interval itself (99 %, per row) plus 1e-12 for rounding; the rows
// are nested counts of the same episodes, so their misses are correlated:
// over seeds 1-20, two fail one or more of their 40 rows (the family-wise
// rate of 40 rows at 99 % each), so a failure with another -mass-seed is
// not by itself a bug; a wrong law fails many rows at every seed.
func TestMassExpiryBinomial(t *testing.T) {
	const n = 20
	seed := *massSeed
	reps := 600
	if testing.Short() {
		reps = 200
	}
	for _, tc := range []struct {
		d    string
		dSec float64
	}{{"7s", 7}, {"8s", 8}} {
		t.Run("D="+tc.d, func(t *testing.T) {
			pts := runPoint(t, massSpec(t, n, reps, tc.d, seed))
			require.Len(t, pts, 1)
			rows := pts[0].MassExpiry
			require.Len(t, rows, n, "seed=%d: one row per k = 1..N", seed)
			p := ExpiryFixedD(10, 1, PingPeriod(10), tc.dSec)
			for _, r := range rows {
				require.Equal(t, reps, r.Episodes, "seed=%d: one shared episode per replication", seed)
				assert.InDelta(t, float64(n), r.MeanHit, 1e-12, "seed=%d: every client is hit", seed)
				want := PAtLeastKOfN(r.K, n, p)
				lo, hi := interval99(float64(r.Count), float64(r.Episodes))
				assert.True(t, want >= lo-1e-12 && want <= hi+1e-12,
					"seed=%d D=%s k=%d: binomial %.4g outside the 99%% interval [%.4g, %.4g] of %d/%d",
					seed, tc.d, r.K, want, lo, hi, r.Count, r.Episodes)
			}
			gotN, ph := MassExpiryBinomial(rows)
			assert.Equal(t, n, gotN)
			lo, hi := interval99(ph*float64(n*reps), float64(n*reps))
			assert.True(t, p >= lo && p <= hi, "seed=%d D=%s: per-session p̂ %.4g: 99%% interval [%.4g, %.4g] misses %.4g", seed, tc.d, ph, lo, hi, p)

			tbl := (&Result{Points: pts}).MassExpiryTable()
			assert.Contains(t, tbl, fmt.Sprintf("binomial(%d, %s)", n, prob(ph)))
		})
	}
}

func TestMassExpiryTable(t *testing.T) {
	// 10 episodes of 5 sessions: every episode has >= 2 expiries, some 3 or
	// 4, none 5.
	counts := []int{10, 10, 6, 1, 0}
	var rows []MassExpiry
	for i, c := range counts {
		m := ProportionMetric("", "", float64(c), 10)
		rows = append(rows, MassExpiry{K: i + 1, Episodes: 10, Count: c, Estimate: m.Estimate, Lower: m.Lower, Upper: m.Upper, MeanHit: 5})
	}
	r := &Result{Points: []PointResult{
		{Index: 0, SessionTimeoutS: 10},
		{Index: 1, Params: []Param{{Key: "fault[0].duration", Value: "8s"}}, SessionTimeoutS: 10, MassExpiry: rows},
	}}
	n, p := MassExpiryBinomial(rows)
	assert.Equal(t, 5, n)
	assert.InDelta(t, 27.0/50, p, 1e-12, "Σ counts / (episodes · mean hit)")

	got := r.MassExpiryTable()
	lines := strings.Split(strings.TrimSpace(got), "\n")
	require.Len(t, lines, 9, got)
	assert.Contains(t, got, "point 1 (fault[0].duration=8s), T=10s: 10 episode(s), 5 session(s) hit per episode; per-session P(expiry) = 0.54")
	assert.Regexp(t, `^\s+k\s+P\(at least k of 5 expire\) \[95% CI\]\s+episodes\s+binomial\(5, 0.54\)$`, lines[4])
	assert.Regexp(t, `^\s+1–2\s+1 \[0.692, 1\]\s+10\s+>= 0.`, lines[5], "leading rows where every episode counts are folded")
	assert.Regexp(t, `^\s+3\s+0.6 \[`, lines[6])
	assert.Regexp(t, `^\s+4\s+0.1 \[`, lines[7])
	assert.Regexp(t, `^\s+5\s+0 \[0, 0.308\]\s+0\s+0.0459$`, lines[8])
	assert.NotContains(t, got, "point 0", "points without shared episodes are left out")

	rows = append(rows[:4], MassExpiry{K: 5, Episodes: 10, Count: 0, Upper: 0.3, MeanHit: 5}, MassExpiry{K: 6, Episodes: 10, Count: 0, Upper: 0.3, MeanHit: 5})
	got = (&Result{Points: []PointResult{{MassExpiry: rows}}}).MassExpiryTable()
	assert.Regexp(t, `\n\s+5–6\s+0 \[0, 0.3\]\s+0\s+<= `, got, "trailing rows without episodes are folded")

	assert.Empty(t, (&Result{Points: []PointResult{{Index: 0}}}).MassExpiryTable())
	n, p = MassExpiryBinomial(nil)
	assert.Zero(t, n)
	assert.True(t, math.IsNaN(p))
}

// The example file: two timeouts, 50 sessions behind one shared outage; a
// short run fills a mass-expiry table for each point.
func TestMassExpiryExample(t *testing.T) {
	s, err := Load("examples/mass-expiry.toml")
	require.NoError(t, err)
	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 2)
	for _, p := range pts {
		assert.Equal(t, 50, p.Config.Clients)
		require.Len(t, p.Config.Faults, 1)
		assert.True(t, p.Config.Faults[0].Target.Shared)
	}
	s.Replications = 8
	res, err := Run(context.Background(), s, RunOptions{Workers: 2})
	require.NoError(t, err)
	for _, p := range res.Points {
		require.Len(t, p.MassExpiry, 50, "point %d", p.Index)
		assert.Equal(t, 8, p.MassExpiry[0].Episodes)
	}
	tbl := res.MassExpiryTable()
	assert.Contains(t, tbl, "point 0 (client.session_timeout=10s), T=10s: 8 episode(s), 50 session(s) hit per episode")
	assert.Contains(t, tbl, "point 1 (client.session_timeout=12s), T=12s")
}
