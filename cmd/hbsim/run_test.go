package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const small = "../../testdata/experiments/small-sweep.toml"

func TestRunWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "run", small, "--out", dir, "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "P(expiry|outage)")
	for _, f := range []string{"results.csv", "results.json", "expiry-vs-timeout.png", "expiry-vs-outage.png", "tradeoff.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
}

// The same file and seed give byte-identical outputs whatever the worker count.
func TestRunWorkersDeterminism(t *testing.T) {
	var csv, js [][]byte
	for _, w := range []string{"1", "4"} {
		dir := t.TempDir()
		_, errOut, code := runCLI(t, "run", small, "--out", dir, "--quiet", "--workers", w)
		require.Equal(t, 0, code, errOut)
		c, err := os.ReadFile(filepath.Join(dir, "results.csv"))
		require.NoError(t, err)
		j, err := os.ReadFile(filepath.Join(dir, "results.json"))
		require.NoError(t, err)
		csv, js = append(csv, c), append(js, j)
	}
	assert.Equal(t, string(csv[0]), string(csv[1]))
	assert.Equal(t, string(js[0]), string(js[1]))
}

// Golden regression: two small experiments' results.csv.
func TestResultsGolden(t *testing.T) {
	for _, name := range []string{"small-sweep", "small-ensemble"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, errOut, code := runCLI(t, "run", "../../testdata/experiments/"+name+".toml", "--out", dir, "--quiet")
			require.Equal(t, 0, code, errOut)
			got, err := os.ReadFile(filepath.Join(dir, "results.csv"))
			require.NoError(t, err)
			golden(t, filepath.Join("experiments", name+".results.csv.golden"), got)
		})
	}
}

// Bad input exits 2 with a message naming the file, line and key, and
// leaves no output behind.
func TestRunBadInput(t *testing.T) {
	tests := []struct {
		name, toml, want string
	}{
		{"typo", "[experiment]\nreplications = 2\nhorizon = \"1m\"\n[client]\nsesion_timeout = \"10s\"\n", ":5: client.sesion_timeout"},
		{"negative", "[experiment]\nreplications = 2\nhorizon = \"1m\"\n[server]\ntick_time = \"-2s\"\n", ":5: server.tick_time"},
		{"unitless", "[experiment]\nreplications = 2\nhorizon = \"1m\"\n[client]\nsession_timeout = \"10\"\n", ":5: client.session_timeout"},
		{"empty sweep", "[experiment]\nreplications = 2\nhorizon = \"1m\"\n[client]\nsession_timeout = []\n", ":5: client.session_timeout"},
		{"missing csv", "[experiment]\nreplications = 2\nhorizon = \"1m\"\n[[fault]]\nkind = \"outage\"\nclients = 0\narrival = \"poisson\"\nevery = \"1h\"\nduration = { law = \"empirical\", csv = \"nope.csv\" }\n", ":9: fault[0].duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			file := filepath.Join(tmp, "bad.toml")
			require.NoError(t, os.WriteFile(file, []byte(tc.toml), 0o644))
			out := filepath.Join(tmp, "out")
			stdout, errOut, code := runCLI(t, "run", file, "--out", out, "--quiet")
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Contains(t, errOut, file+tc.want)
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "no output directory for bad input")
		})
	}
}

func TestRunMissingFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	_, errOut, code := runCLI(t, "run", "does-not-exist.toml", "--out", out)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "does-not-exist.toml")
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err))
}

// A requested timeout outside [min, max] is clamped with a warning, and the
// outputs report the clamped value.
func TestRunClampWarns(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "clamp.toml")
	require.NoError(t, os.WriteFile(file, []byte("[experiment]\nreplications = 2\nhorizon = \"2m\"\n[client]\nsession_timeout = \"60s\"\n"), 0o644))
	stdout, errOut, code := runCLI(t, "run", file, "--out", filepath.Join(tmp, "o"), "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "clamps it to 40s")
	assert.Contains(t, stdout, "40s")
	csv, err := os.ReadFile(filepath.Join(tmp, "o", "results.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(csv), ",40,60,")
}

func TestTraceReplication(t *testing.T) {
	out, errOut, code := runCLI(t, "trace", small, "--point", "1", "--replication", "2", "--brief")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "point 1")
	assert.Contains(t, out, "replication 2")
	_, _, code = runCLI(t, "trace", small, "--point", "99")
	assert.Equal(t, 2, code)
}
