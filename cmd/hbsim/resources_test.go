package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

// fakeMachine makes the commands see machine m until the test ends.
func fakeMachine(t *testing.T, m experiments.Machine) {
	prev, limit := readMachine, debug.SetMemoryLimit(-1)
	readMachine = func() experiments.Machine { return m }
	t.Cleanup(func() {
		readMachine = prev
		debug.SetMemoryLimit(limit)
	})
}

// A run that fits the machine only once other processes free memory needs
// --yes; the refusal and the warning carry the estimate.
func TestRunMemoryAvailableNeedsYes(t *testing.T) {
	fakeMachine(t, experiments.Machine{Total: 1 << 40, Available: 1 << 20, GoLimit: math.MaxInt64})
	dir := t.TempDir()
	stdout, errOut, code := runCLI(t, "run", small, "--out", filepath.Join(dir, "out"), "--quiet")
	assert.Equal(t, 2, code)
	assert.Empty(t, stdout)
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	assert.True(t, strings.HasPrefix(errOut, "hbsim: run: "+small+": needs ~"), errOut)
	assert.Contains(t, errOut, "more than is available now (1 MB available of 1.0 TB; other processes hold the rest); hbsim holds ~")
	assert.Contains(t, errOut, "or pass --yes if they will free it\n")
	assert.Empty(t, listDir(t, dir), "nothing written")

	_, errOut, code = runCLI(t, "run", small, "--out", filepath.Join(dir, "out"), "--quiet", "--yes")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "hbsim: warning: needs ~")
	assert.Contains(t, errOut, "; running it anyway (--yes)\n")
	assert.Equal(t, int64(1<<40), debug.SetMemoryLimit(-1), "a forced run's soft memory limit is the machine's memory")
}

// A fleet far larger than the machine is refused from the spec alone, by
// every command that runs the model, with the estimate and what to change;
// --yes does not force it (it would end in a crash).
func TestOversizedFleetIsRefusedByEveryCommand(t *testing.T) {
	fakeMachine(t, experiments.Machine{Total: 16 << 30, Available: 8 << 30, GoLimit: math.MaxInt64})
	tmp := t.TempDir()
	file := filepath.Join(tmp, "fleet.toml")
	require.NoError(t, os.WriteFile(file, []byte("[experiment]\nreplications = 2\nhorizon = \"1h\"\nclients = 100000000\n"+
		"[[fault]]\nkind = \"outage\"\narrival = \"poisson\"\nevery = \"1h\"\nduration = \"5s\"\n"), 0o644))
	out := filepath.Join(tmp, "out")
	for _, args := range [][]string{
		{"run", file, "--out", out, "--yes", "--workers", "2"},
		{"trace", file, "--brief"},
		{"timeline", file, "-o", filepath.Join(out, "x.png")},
		{"recommend", file, "--target", "1e-3/outage", "--out", out, "--workers", "2"},
		{"rare", file, "--out", out, "--workers", "2"},
	} {
		stdout, errOut, code := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
		assert.Empty(t, stdout, "%v", args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %s", args, errOut)
		assert.Contains(t, errOut, file+": needs ~", "%v", args)
		assert.Contains(t, errOut, " for 100000001 sessions, ", "%v", args)
		assert.Contains(t, errOut, "more than this machine has (8.0 GB available of 16.0 GB); cut experiment.clients (about ", "%v", args)
		assert.NoFileExists(t, out, "%v", args)
	}
}
