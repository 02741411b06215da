package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hbsim/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name> at the repository root; with
// -update it rewrites the file instead.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./cmd/hbsim -update")
	if bytes.Equal(want, got) {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			art := filepath.Join(t.ArtifactDir(), filepath.Base(name))
			_ = os.WriteFile(art, got, 0o644)
			t.Fatalf("%s differs from the golden file at line %d:\nwant: %s\n got: %s\nfull output: %s\n(only run -update if you understand why)", name, i+1, w, g, art)
		}
	}
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

func TestTraceGolden(t *testing.T) {
	for _, s := range model.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "trace", s.Name)
			require.Equal(t, 0, code, errOut)
			golden(t, filepath.Join("traces", s.Name+".trace.golden"), []byte(out))
			// Running twice gives the same bytes.
			again, _, _ := runCLI(t, "trace", s.Name)
			require.Equal(t, out, again)
		})
	}
}

func TestTraceOutcomeLine(t *testing.T) {
	out, _, code := runCLI(t, "trace", "seed-cable-unplug", "--brief")
	require.Equal(t, 0, code)
	require.Contains(t, out, "#   client-0: SyncConnected, Disconnected, Expired, SyncConnected\n")
	require.NotContains(t, out, "ping-sent")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"trace"}, {"trace", "no-such-scenario"}, {"trace", "--nope", "x"}, {"scenarios", "x"}} {
		_, errOut, code := runCLI(t, args...)
		require.Equal(t, 2, code, "args %q", args)
		require.NotEmpty(t, errOut, "args %q", args)
	}
	out, _, code := runCLI(t, "scenarios")
	require.Equal(t, 0, code)
	for _, s := range model.Scenarios() {
		require.Contains(t, out, s.Name)
	}
}
