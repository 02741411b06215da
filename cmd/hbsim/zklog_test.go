package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GC logs written by "trace --zk-log" fit back to a client-pause table.
func TestTraceZKLogThenFitGC(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	stdout, stderr, code := runCLI(t, "trace", "../../experiments/examples/fit-gc-pauses.toml", "--zk-log", logs)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "4 GC logs")
	for _, f := range []string{"client-0.log", "client-0.gc.log", "server-0.log"} {
		_, err := os.Stat(filepath.Join(logs, f))
		require.NoError(t, err, f)
	}
	stdout, stderr, code = runCLI(t, "fit", filepath.Join(logs, "client-*.gc.log"), "--out", filepath.Join(dir, "fit"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "from 4 JVM GC log file(s)")
	assert.Contains(t, stdout, `kind = "client-pause"`)
	assert.Contains(t, stdout, "Chosen: lognormal")
}
