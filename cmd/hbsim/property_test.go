package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var propertySeed = flag.Int64("seed", -1, "run TestValidatedFilesRun for this seed only")

// specGen writes random experiment files as a user writes them: every key
// of the format, each present or not. A clean generator picks values that
// are valid one by one (extremes included: 1 ms, 10000 days, heavy tails,
// huge fleets), so that many files validate; a dirty one adds typos, wrong
// types and values out of range. The horizon stays short, so that a file
// that validates runs quickly.
type specGen struct {
	r     *rand.Rand
	clean bool
}

func (g specGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g specGen) maybe(p float64) bool     { return g.r.Float64() < p }

// either picks from good, or, for a dirty generator, sometimes from bad.
func (g specGen) either(good, bad []string) string {
	if !g.clean && g.maybe(0.3) {
		return g.pick(bad...)
	}
	return g.pick(good...)
}

var (
	goodDurations = []string{`"1ms"`, `"50ms"`, `"1s"`, `"2s"`, `"5s"`, `"10s"`, `"30s"`, `"1m"`, `"10m"`, `"1h"`, `"24d"`, `"10000d"`, `["1s", "5s"]`}
	badDurations  = []string{`"0s"`, `"1ns"`, `"500us"`, `"100000d"`, `"-1s"`, `"10"`, `10`, `"1x"`, `[]`}
	goodInts      = []string{"1", "2", "3", "5"}
	badInts       = []string{"0", "50", "255", "256", "100000000", "2147483647", "-1", `"3"`, "1.5"}
	goodShapes    = []string{"0.07", "0.1", "0.5", "1", "2", "5", "[0.5, 1]"}
	goodSigmas    = []string{"0.1", "1", "5", "20", "50"}
	badFloats     = []string{"0", "0.01", "60", "1e300", "-1", `"1"`}
)

func (g specGen) dur() string   { return g.either(goodDurations, badDurations) }
func (g specGen) short() string { return g.pick(`"1s"`, `"10s"`, `"30s"`, `"1m"`, `"2m"`) }
func (g specGen) count() string { return g.either(goodInts, badInts) }

// small is a duration for a law's scale: mostly short, so that faults and
// requests do not swamp the run.
func (g specGen) small() string {
	return g.either([]string{`"1ms"`, `"100ms"`, `"500ms"`, `"1s"`, `"3s"`, `"8s"`, `"20s"`}, append(goodDurations, badDurations...))
}

func (g specGen) law() string {
	switch g.r.IntN(8) {
	case 0:
		return g.small()
	case 1:
		return fmt.Sprintf(`{ law = "uniform", min = %s, max = %s }`, g.pick(`"0s"`, `"1ms"`, `"1s"`), g.small())
	case 2:
		return fmt.Sprintf(`{ law = "exponential", mean = %s }`, g.small())
	case 3:
		return fmt.Sprintf(`{ law = "lognormal", median = %s, sigma = %s }`, g.small(), g.either(goodSigmas, badFloats))
	case 4:
		return fmt.Sprintf(`{ law = "weibull", scale = %s, shape = %s }`, g.small(), g.either(goodShapes, badFloats))
	case 5:
		return fmt.Sprintf(`{ law = "pareto", scale = %s, shape = %s }`, g.small(), g.either(goodShapes, badFloats))
	case 6:
		return fmt.Sprintf(`{ law = "empirical", csv = %q }`, g.either([]string{"pauses.csv"}, []string{"missing.csv", "/dev/null"}))
	}
	return fmt.Sprintf(`{ law = %q, value = %s }`, g.either([]string{"fixed"}, []string{"normal", "Fixed"}), g.small())
}

// file is one random experiment file.
func (g specGen) file() string {
	var b strings.Builder
	kv := func(p float64, key, val string) {
		if g.maybe(p) {
			fmt.Fprintf(&b, "%s = %s\n", key, val)
		}
	}
	need := func(p float64) float64 { // a key the format requires: a clean file has it
		if g.clean {
			return 1
		}
		return p
	}
	b.WriteString("[experiment]\n")
	kv(0.5, "seed", g.either([]string{"0", "7", "9223372036854775807"}, []string{"-3", "1.5"}))
	fmt.Fprintf(&b, "replications = %s\n", g.pick("1", "2", "3"))
	fmt.Fprintf(&b, "horizon = %s\n", g.short())
	kv(0.4, "clients", g.either([]string{"1", "2", "3", "50", "[1, 3]", "100000000"}, badInts))
	kv(0.3, "dead_client_probe", g.either([]string{"true", "false"}, []string{`"no"`}))
	servers := 1
	if g.maybe(0.6) {
		b.WriteString("[server]\n")
		if g.maybe(0.4) {
			c := g.count()
			fmt.Fprintf(&b, "count = %s\n", c)
			fmt.Sscan(c, &servers)
		}
		kv(0.3, "leader", g.either([]string{fmt.Sprint(g.r.IntN(max(servers, 1)))}, badInts))
		tick := g.either([]string{`"1ms"`, `"500ms"`, `"2s"`, `"3s"`}, append(goodDurations, badDurations...))
		kv(0.4, "tick_time", tick)
		kv(0.2, "min_session_timeout", g.either([]string{`"1ms"`, `"2s"`, `"4s"`}, badDurations))
		kv(0.2, "max_session_timeout", g.either([]string{`"40s"`, `"1m"`, `"24d"`}, append(goodDurations, badDurations...)))
		kv(0.2, "bucket_rounding", g.pick("true", "false"))
		kv(0.2, "quorum_latency", g.dur())
		kv(0.2, "connection_reaper", g.pick("true", "false"))
		kv(0.2, "sync_limit", g.either([]string{"1", "5", "1000"}, []string{"0", "2147483647", `"5"`}))
		kv(0.2, "init_limit", g.either([]string{"2", "10", "1000"}, []string{"0", "2147483647"}))
		kv(0.2, "sync_time", g.law())
		kv(0.1, "finalize_wait", g.either([]string{`"200ms"`, `"1s"`}, badDurations))
		kv(0.1, "max_notification_interval", g.either([]string{`"60s"`, `"10000d"`}, badDurations))
		kv(0.1, "resume_order", g.either([]string{`"expirer-first"`, `"requests-first"`}, []string{`"random"`}))
		if !g.clean {
			kv(0.1, "tick", g.dur()) // a typo
		}
	}
	if g.maybe(0.6) {
		b.WriteString("[client]\n")
		kv(0.6, "session_timeout", g.either([]string{`"1ms"`, `"4s"`, `"10s"`, `"30s"`, `["4s", "10s", "24d"]`}, append(goodDurations, badDurations...)))
		kv(0.3, "version", g.either([]string{`"3.3"`, `"3.8"`, `"3.9"`}, []string{`"4.0"`, "3.8"}))
		kv(0.2, "hosts", g.either([]string{"[0]", fmt.Sprintf("[%d, 0]", max(servers-1, 0)), "[0, 0, 0]"}, []string{"[]", "[7]", "[-1]"}))
		kv(0.2, "host_order", g.either([]string{`"given"`, `"shuffled"`}, []string{`"random"`}))
		kv(0.1, "absent_hosts", g.either([]string{"0", "1", "2"}, []string{"256", "-1", "2147483647"}))
		kv(0.3, "request_interval", g.law())
		kv(0.2, "fixed_reconnect", g.dur())
		if !g.clean {
			kv(0.1, "sesion_timeout", g.dur()) // a typo
		}
	}
	if g.maybe(0.5) {
		b.WriteString("[network]\n")
		kv(0.5, "latency", g.law())
		kv(0.3, "transport", g.either([]string{`"tcp"`, `"ideal"`}, []string{`"udp"`}))
		syn := g.pick(`"classic"`, `"linear"`)
		kv(0.2, "syn_schedule", syn)
		kv(0.2, "orphan_retransmit", g.pick("true", "false"))
		kv(0.2, "rto_min", g.either([]string{`"1ms"`, `"200ms"`}, badDurations))
		kv(0.2, "rto_max", g.either([]string{`"120s"`, `"10000d"`}, badDurations))
		kv(0.2, "orphan_retries", g.either([]string{"0", "1", "8", "2147483647"}, badInts))
		kv(0.2, "data_retries", g.either([]string{"1", "15", "2147483647"}, badInts))
		kv(0.2, "connect_latency", g.dur())
		kv(0.2, "syn_retries", g.either([]string{"1", "6", "127"}, []string{"0", "128", "2147483647"}))
		if syn == `"linear"` || !g.clean {
			kv(0.2, "syn_linear_timeouts", g.either([]string{"0", "4"}, []string{"128", "-1"}))
		}
		kv(0.2, "tail_loss_probe", g.pick("true", "false"))
	}
	for range g.r.IntN(4) {
		b.WriteString("[[fault]]\n")
		if g.maybe(0.15) {
			kv(1, "preset", g.either([]string{`"dc-blip"`, `"ec2-flap"`, `"cloud-vm"`, `"jvm-gc"`, `"link-repair"`, `"incident"`}, []string{`"nope"`}))
			continue
		}
		kinds := []string{`"outage"`, `"server-crash"`, `"client-pause"`, `"server-pause"`, `"rolling-restart"`}
		targets := []string{fmt.Sprint(g.r.IntN(max(servers, 1))), `"leader"`}
		if servers > 1 || !g.clean {
			kinds = append(kinds, `"partition"`)
			targets = append(targets, `"follower"`)
		}
		kind := g.either(kinds, []string{`"split-brain"`})
		kv(need(0.95), "kind", kind)
		clients := `"all"`
		switch kind {
		case `"outage"`, `"client-pause"`:
			clients = g.either([]string{`"all"`, "0"}, []string{"1", "5", "-1"})
			kv(0.3, "clients", clients)
			kv(0.2, "shared", g.pick("true", "false"))
		}
		switch kind {
		case `"server-crash"`, `"server-pause"`:
			kv(need(0.3), "server", g.either(targets, []string{`"all"`, "9"}))
		case `"outage"`:
			kv(0.3, "server", g.either(targets, []string{`"all"`, "9"}))
		case `"partition"`:
			kv(0.8, "servers", g.either([]string{"[0]", fmt.Sprintf("[%d]", max(servers-1, 0))}, []string{"[]", "[0, 1, 2, 3, 4, 5]"}))
			kv(0.3, "client_paths", g.either([]string{`"up"`, `"cut"`}, []string{`"down"`}))
		case `"rolling-restart"`:
			kv(0.3, "order", g.either([]string{`"followers-first"`, `"leader-first"`}, []string{`"random"`}))
			kv(0.3, "gap", g.dur())
		}
		if kind == `"outage"` {
			kv(0.2, "direction", g.either([]string{`"both"`, `"client-to-server"`, `"server-to-client"`}, []string{`"up"`}))
		}
		arrival := g.either([]string{`"scripted"`, `"poisson"`, `"periodic"`}, []string{`"bursty"`})
		if g.maybe(0.8) {
			fmt.Fprintf(&b, "arrival = %s\n", arrival)
		} else {
			arrival = `"scripted"` // the default
		}
		if arrival == `"scripted"` || (!g.clean && g.maybe(0.1)) {
			kv(need(0.9), "at", g.either([]string{`["10s"]`, `["0s", "40s"]`, `["10000d"]`}, []string{`["1m", "1m1s"]`, `[]`, `"30s"`, `["-1s"]`}))
			if clients == "0" || !g.clean {
				kv(0.3, "phase", g.either([]string{`"random"`, `"1s"`, `"0s"`, `"10000d"`, `["0s", "2s"]`}, badDurations))
			}
		} else {
			kv(need(0.9), "every", g.either([]string{`"1m"`, `"5m"`, `"1h"`, `"10000d"`}, append(goodDurations, badDurations...)))
			kv(0.3, "offset", g.dur())
		}
		kv(need(0.9), "duration", g.law())
	}
	if g.maybe(0.2) {
		b.WriteString("[output]\n")
		kv(0.5, "charts", g.either([]string{`[]`, `["tradeoff"]`}, []string{`["pie"]`, `"tradeoff"`}))
	}
	return b.String()
}

// For any file "hbsim validate" accepts, "hbsim run" with a short horizon
// exits 0 or 2 (the estimate may refuse it), never panics, and prints one
// readable first line; any file at all makes validate exit 0 or 2 the same
// way. The files come from specGen; -seed N replays one.
func TestValidatedFilesRun(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 15
	}
	first := int64(0)
	if *propertySeed >= 0 {
		first, n = *propertySeed, 1
	}
	tmp := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "pauses.csv"), []byte("seconds\n0.5\n2\n"), 0o644))
	accepted, ran := 0, 0
	for seed := first; seed < first+int64(n); seed++ {
		g := specGen{r: rand.New(rand.NewPCG(uint64(seed), 13)), clean: seed%2 == 0}
		file := filepath.Join(tmp, fmt.Sprintf("gen-%d.toml", seed))
		src := g.file()
		require.NoError(t, os.WriteFile(file, []byte(src), 0o644))

		stdout, errOut, code := runCLIQuiet(t, "validate", file)
		require.Contains(t, []int{0, 2}, code, "seed=%d validate:\n%s\n%s", seed, src, errOut)
		if code == 2 {
			assert.True(t, strings.HasPrefix(errOut, "hbsim: "+file), "seed=%d: %q", seed, errOut)
			assert.Empty(t, stdout, "seed=%d", seed)
			continue
		}
		accepted++
		out := filepath.Join(tmp, fmt.Sprintf("out-%d", seed))
		stdout, errOut, code = runCLIQuiet(t, "run", file, "--out", out, "--quiet", "--budget", "3s", "--workers", "2")
		require.Contains(t, []int{0, 2}, code, "seed=%d run:\n%s\n%s", seed, src, errOut)
		assert.NotContains(t, errOut, "internal error", "seed=%d", seed)
		assert.NotContains(t, errOut, "goroutine ", "seed=%d", seed)
		if code == 2 {
			assert.True(t, strings.HasPrefix(errOut, "hbsim: run: "+file+": "), "seed=%d: %q", seed, errOut)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "seed=%d: %q", seed, errOut)
			assert.NoDirExists(t, out, "seed=%d: nothing written", seed)
			continue
		}
		ran++
		assert.Contains(t, stdout, "wrote "+filepath.Join(out, "results.csv"), "seed=%d", seed)
	}
	t.Logf("%d files: %d validated, %d of them ran (the others were refused by the estimate)", n, accepted, ran)
	if *propertySeed < 0 {
		assert.Greater(t, accepted, n/4, "the generator should write valid files too")
		assert.Positive(t, ran)
	}
}

// runCLIQuiet is runCLI without the background context of a test: the
// run's own context.
func runCLIQuiet(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

// A panic outside the replications is a bug: exit 1, one readable line,
// the stack in a file.
func TestInternalErrorExits1(t *testing.T) {
	var e bytes.Buffer
	code := run(context.Background(), []string{"scenarios"}, panicWriter{}, &e)
	assert.Equal(t, exitFailed, code)
	lines := strings.Split(strings.TrimSuffix(e.String(), "\n"), "\n")
	require.Len(t, lines, 2, e.String())
	assert.Equal(t, "hbsim: internal error: boom", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "hbsim: this is a bug in hbsim, not in the input: please report it with the command line and the file; the stack is in "), lines[1])
	path := strings.TrimPrefix(lines[1], "hbsim: this is a bug in hbsim, not in the input: please report it with the command line and the file; the stack is in ")
	assert.Contains(t, readFile(t, path), "panicWriter")
	require.NoError(t, os.Remove(path))
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }
