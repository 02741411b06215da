package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

const timeoutExample = "../../experiments/examples/timeout-10s-vs-30s.toml"

// The acceptance command, with a smaller budget: a timeout, its interval
// and its cost in sentences, the trade-off chart and the JSON.
func TestRecommendExample(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "recommend", timeoutExample, "--target", "1e-3/outage",
		"--batch", "100", "--max-replications", "400", "--out", dir, "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, regexp.MustCompile(`Use a [0-9.]+ s session timeout: P\(expiry \| outage\) = \S+ \(95 % CI \S+–\S+\), target 1e-3\.`), out)
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
