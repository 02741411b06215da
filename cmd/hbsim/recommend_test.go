package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

const timeoutExample = "../../experiments/examples/timeout-10s-vs-30s.toml"

// The acceptance command, with a smaller budget (and a looser target under
// -short): a timeout, its interval
// and its cost in sentences, the trade-off chart and the JSON.
func TestRecommendExample(t *testing.T) {
	target, batch, budget := "1e-3", "100", "400"
	if testing.Short() {
		target, batch, budget = "0.01", "40", "160"
	}
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "recommend", timeoutExample, "--target", target+"/outage",
		"--batch", batch, "--max-replications", budget, "--out", dir, "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, regexp.MustCompile(`Use a [0-9.]+ s session timeout: P\(expiry \| outage\) = \S+ \(95 % CI \S+–\S+\), target `+target+`\.`), out)
	assert.Contains(t, out, "Cost: a crashed client's session lingers ")
	assert.Contains(t, out, "instead of 10–12 s at 10 s")
	assert.Contains(t, out, "Pooled over fault[0].duration")
	// Every 40 s outage expires a session at T = 40 s: the answer needs a
	// larger maxSessionTimeout, and says so.
	assert.Contains(t, out, "set maxSessionTimeout >= ")
	for _, f := range []string{"tradeoff.png", "recommend.json"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	b, err := os.ReadFile(filepath.Join(dir, "recommend.json"))
	require.NoError(t, err)
	var rec experiments.Recommendation
	require.NoError(t, json.Unmarshal(b, &rec))
	require.GreaterOrEqual(t, rec.Recommended, 0)
	assert.Equal(t, experiments.VerdictMeets, rec.Candidates[rec.Recommended].Verdict)
}

func TestRecommendBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{timeoutExample}, "--target is required"},
		{"bad target", []string{timeoutExample, "--target", "1e-3/hour"}, `unknown unit "hour"`},
		{"unknown axis", []string{timeoutExample, "--target", "0.1/outage", "--at", "server.count=3"}, "does not sweep server.count"},
		{"bad value", []string{timeoutExample, "--target", "0.1/outage", "--at", "fault[0].duration=3s"}, "is not one of the swept values"},
		{"bad --at", []string{timeoutExample, "--target", "0.1/outage", "--at", "nokey"}, "want KEY=VALUE"},
		{"unreachable", []string{timeoutExample, "--target", "1e-4/session-day", "--batch", "10"}, "cannot be shown with this budget"},
		{"missing file", []string{"nope.toml", "--target", "0.1/outage"}, "nope.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"recommend"}, tc.args...)
			args = append(args, "--out", filepath.Join(t.TempDir(), "o"), "--quiet")
			_, errOut, code := runCLI(t, args...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

// "hbsim run" prints the mass-expiry table and draws its chart when an
// outage hits every client at once.
func TestRunPrintsMassExpiry(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "herd.toml")
	require.NoError(t, os.WriteFile(file, []byte(`[experiment]
replications = 4
horizon = "2m"
clients = 10
dead_client_probe = false
[[fault]]
kind = "outage"
clients = "all"
shared = true
at = ["60s"]
duration = "8s"
`), 0o644))
	dir := filepath.Join(tmp, "o")
	out, errOut, code := runCLI(t, "run", file, "--out", dir, "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Mass expiry: sessions expiring together in one shared fault episode")
	assert.Contains(t, out, "4 episode(s), 10 session(s) hit per episode")
	assert.Contains(t, out, "wrote "+filepath.Join(dir, "mass-expiry.png"))
}

// The question: which timeout keeps ec2-flap's expiries under
// 1e-4 per session-day? The rare-event estimator answers it (with the
// defaults, in seconds), says that it did, and labels timeouts by value.
func TestRecommendSessionDayRare(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	out, errOut, code := runCLI(t, "recommend", "../../experiments/examples/preset-ec2-flap.toml",
		"--target", "1e-4/session-day", "--out", dir, "--quiet")
	require.Equal(t, 0, code, errOut)
	t.Logf("hbsim recommend preset-ec2-flap.toml --target 1e-4/session-day: %v\n%s", time.Since(start), out)
	assert.Regexp(t, regexp.MustCompile(`Use a [0-9.]+ s session timeout: expiries per session-day = \S+ \(95 % CI \S+–\S+\), target 1e-4\.`), out)
	assert.Contains(t, out, "Method: rare-event estimate")
	assert.Contains(t, out, "the same episodes at every timeout")
	assert.Contains(t, out, "episodes/point")
	assert.NotContains(t, out, "cannot be shown")
	b, err := os.ReadFile(filepath.Join(dir, "recommend.json"))
	require.NoError(t, err)
	var rec experiments.Recommendation
	require.NoError(t, json.Unmarshal(b, &rec))
	assert.Equal(t, experiments.RecommendRare, rec.Method)
	require.GreaterOrEqual(t, rec.Recommended, 0)
	got := rec.Candidates[rec.Recommended]
	m, ok := got.Metric(experiments.MetricExpiryRate)
	require.True(t, ok)
	assert.LessOrEqual(t, m.Upper, 1e-4)
}

// hbsim rare names each point by its swept values.
func TestRareLabelsPoints(t *testing.T) {
	out, errOut, code := runCLI(t, "rare", "../../experiments/examples/rare-30s.toml", "--target", "0.3", "--out", t.TempDir())
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "  T = 20 s: P(expire | outage) = ")
	assert.Contains(t, out, "  T = 30 s: P(expire | outage) = ")
	assert.NotContains(t, out, "point ")
}
