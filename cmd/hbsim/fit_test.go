package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
)

// A CSV of durations with start times: the AIC/KS table, the chosen law,
// the rate, fit.png, and a [[fault]] table that "hbsim run" accepts as is.
func TestFitCSV(t *testing.T) {
	dir := t.TempDir()
	d := distuv.Weibull{Lambda: 4, K: 1.5, Src: rand.NewPCG(7, 1)}
	gap := distuv.Exponential{Rate: 1.0 / 3600, Src: rand.NewPCG(7, 2)}
	var b strings.Builder
	b.WriteString("seconds,start\n")
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for range 300 {
		at = at.Add(time.Duration(gap.Rand() * 1e9))
		fmt.Fprintf(&b, "%.3f,%s\n", d.Rand(), at.Format(time.RFC3339))
	}
	csv := filepath.Join(dir, "outages.csv")
	require.NoError(t, os.WriteFile(csv, []byte(b.String()), 0o644))
	out := filepath.Join(dir, "fit")
	stdout, stderr, code := runCLI(t, "fit", csv, "--out", out)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{"300 durations from 1 CSV of durations file(s)", "law ", "log-lik", "AIC", "KS",
		"exponential  mean = ", "Chosen: weibull", "Episodes: one every ", "[[fault]]", `duration = { law = "weibull", scale = `} {
		assert.Contains(t, stdout, want)
	}
	for _, f := range []string{"fit.png", "fit.json", "fault.toml"} {
		st, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	block, err := os.ReadFile(filepath.Join(out, "fault.toml"))
	require.NoError(t, err)
	spec := filepath.Join(dir, "fitted.toml")
	require.NoError(t, os.WriteFile(spec, append([]byte(`[experiment]
name = "fitted"
replications = 2
horizon = "2h"
clients = 2

`), block...), 0o644))
	stdout, stderr, code = runCLI(t, "run", spec, "--out", filepath.Join(dir, "run"), "--quiet")
	require.Equal(t, 0, code, "hbsim run refused the fitted table:\n%s\n%s", block, stderr)
	assert.Contains(t, stdout, "P(expiry|outage)")
}

// Malformed logs: a clear message naming the file and the line, exit 2,
// and no output files.
func TestFitBadInput(t *testing.T) {
	good := strings.Join([]string{
		"2024-03-01 10:00:00,010 [myid:] - INFO  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1171] - Opening socket connection to server zk1/10.0.0.1:2181.",
		"2024-03-01 10:00:00,014 [myid:] - INFO  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1453] - Session establishment complete on server zk1/10.0.0.1:2181, session id = 0x100a, negotiated timeout = 10000",
	}, "\n") + "\n"
	tests := []struct {
		name, data string
		args       []string
		want       string
	}{
		{"truncated line", good + "2024-03-01 10:10:00,000 [myid:] - WARN  [x] - Client session timed out, have not heard from server in 66",
			nil, "bad.log:3: truncated or malformed line"},
		{"truncated timestamp", good + "2024-03-01 10:1", nil, "bad.log:3: truncated timestamp"},
		{"another log format", "Mar 14 10:00:00 host sshd[12]: Accepted publickey for root\n", nil,
			"bad.log:1: not a ZooKeeper client log, a JVM GC log or a CSV of durations"},
		{"no matching lines", "2024-03-01 10:00:00,000 [main] INFO app - started\n", []string{"--format", "zk"},
			"bad.log: no line in ZooKeeper client wording"},
		{"mixed sessions", good + strings.ReplaceAll(strings.Split(good, "\n")[1], "0x100a", "0x200b") + "\n", nil,
			"bad.log:3: lines of two sessions mixed: session 0x200b here while session 0x100a (line 2) is open"},
		{"no disconnections", good, nil, "0 disconnections noticed by a read timeout, need at least 10"},
		{"a server log", "2024-03-01 10:00:00,000 [myid:1] - INFO  [SessionTracker:ZooKeeperServer@630] - Expiring session 0x1, timeout of 10000ms exceeded\n",
			nil, "bad.log:1: a ZooKeeper server log"},
		{"truncated GC line", "[1.254s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.4", nil,
			"bad.log:1: truncated or malformed GC line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "bad.log")
			require.NoError(t, os.WriteFile(file, []byte(tc.data), 0o644))
			out := filepath.Join(dir, "out")
			args := append([]string{"fit", file, "--out", out}, tc.args...)
			stdout, stderr, code := runCLI(t, args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout)
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "no output directory for bad input")
		})
	}
	for _, args := range [][]string{
		{"fit"},
		{"fit", "nope.log"},
		{"fit", "x.csv", "--transport", "udp"},
		{"fit", "x.csv", "--format", "xml"},
		{"fit", t.TempDir()},
	} {
		_, stderr, code := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
	}
}
