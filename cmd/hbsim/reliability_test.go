package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

// TestMain lets tests run the command as a separate process: the test
// binary re-executed with HBSIM_TEST_MAIN=1 is hbsim (see hbsimCommand).
func TestMain(m *testing.M) {
	if os.Getenv("HBSIM_TEST_MAIN") == "1" {
		beforeMain()
		main()
	}
	os.Exit(m.Run())
}

// beforeMain prepares the process that TestMain turns into hbsim (see
// limitFileSize on Linux).
var beforeMain = func() {}

// runCLIContext is runCLI with a context.
func runCLIContext(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(ctx, args, &o, &e)
	return o.String(), e.String(), code
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// sameResults asserts that directories want and got hold the same
// results.csv and results.json, byte for byte.
func sameResults(t *testing.T, want, got string) {
	t.Helper()
	for _, f := range []string{"results.csv", "results.json"} {
		assert.Equal(t, readFile(t, filepath.Join(want, f)), readFile(t, filepath.Join(got, f)), f)
	}
}

// listDir lists the names under dir, recursively, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err == nil && path != dir {
			names = append(names, strings.TrimPrefix(path, dir+string(filepath.Separator)))
		}
		return err
	}))
	slices.Sort(names)
	return names
}

// The first signal cancels the run's context; the second exits at once.
func TestOnSignals(t *testing.T) {
	sigs := make(chan os.Signal)
	exited := make(chan int, 1)
	var stderr syncBuffer
	ctx, cancel := onSignals(context.Background(), sigs, &stderr, func(code int) { exited <- code })
	defer cancel()
	sigs <- os.Interrupt // unbuffered: returns once the watcher has it
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.Empty(t, exited, "one signal does not exit")
	sigs <- syscall.SIGTERM
	assert.Equal(t, exitFailed, <-exited)
	assert.Contains(t, stderr.String(), "interrupt: finishing the replications in flight and writing a checkpoint (again to exit at once)")
	assert.Contains(t, stderr.String(), "terminated again: exiting now")

	// Released without a signal, the watcher neither cancels nor exits.
	ctx, cancel = onSignals(context.Background(), sigs, &stderr, func(code int) { exited <- code })
	cancel()
	cancel()
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "cancel cancels")
	assert.Empty(t, exited)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every golden experiment gives its golden results under the invariant
// checker (which must not change results).
func TestRunCheckGolden(t *testing.T) {
	for _, name := range []string{"small-sweep", "small-ensemble"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, errOut, code := runCLI(t, "run", "../../testdata/experiments/"+name+".toml", "--out", dir, "--quiet", "--check")
			require.Equal(t, 0, code, errOut)
			golden(t, filepath.Join("experiments", name+".results.csv.golden"), []byte(readFile(t, filepath.Join(dir, "results.csv"))))
		})
	}
}

// An interrupted run exits 1 with the command that resumes it; the
// checkpoint is not overwritten without --resume; --resume ends with the
// golden results and removes the checkpoint.
func TestRunInterruptedThenResumed(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stdout, errOut, code := runCLIContext(t, ctx, "run", small, "--out", dir, "--quiet", "--workers", "2")
	require.Equal(t, 1, code, errOut)
	assert.Empty(t, stdout)
	assert.Contains(t, errOut, "hbsim: experiments: run interrupted after 0 of 160 replications: context canceled\n")
	assert.Contains(t, errOut, "hbsim: the checkpoint keeps every finished replication; continue with: hbsim run "+small+" --out "+dir+" --quiet --workers 2 --resume\n")
	assert.Equal(t, []string{"checkpoint.hbsim"}, listDir(t, dir))

	_, errOut, code = runCLI(t, "run", small, "--out", dir, "--quiet")
	assert.Equal(t, 2, code)
	assert.Equal(t, "hbsim: experiments: "+filepath.Join(dir, "checkpoint.hbsim")+": an interrupted run left this checkpoint: continue it with --resume, or delete it to start over\n", errOut)

	_, errOut, code = runCLI(t, "run", small, "--out", dir, "--quiet", "--resume")
	require.Equal(t, 0, code, errOut)
	golden(t, filepath.Join("experiments", "small-sweep.results.csv.golden"), []byte(readFile(t, filepath.Join(dir, "results.csv"))))
	assert.NotContains(t, listDir(t, dir), "checkpoint.hbsim")

	// --resume without a checkpoint starts from the beginning.
	again := t.TempDir()
	_, errOut, code = runCLI(t, "run", small, "--out", again, "--resume")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "no checkpoint at "+filepath.Join(again, "checkpoint.hbsim")+": starting from the beginning")
	assert.Equal(t, readFile(t, filepath.Join(dir, "results.json")), readFile(t, filepath.Join(again, "results.json")))
}

// Shards 0/3, 1/3 and 2/3 merge into the unsharded results byte for byte.
func TestShardsMergeIntoTheUnshardedResult(t *testing.T) {
	full := t.TempDir()
	_, errOut, code := runCLI(t, "run", small, "--out", full, "--quiet")
	require.Equal(t, 0, code, errOut)
	shards := t.TempDir()
	for i := range 3 {
		stdout, errOut, code := runCLI(t, "run", small, "--shard", fmt.Sprintf("%d/3", i), "--out", shards, "--quiet", "--workers", fmt.Sprint(i+1))
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, stdout, fmt.Sprintf("wrote %s (shard %d/3: ", filepath.Join(shards, fmt.Sprintf("shard-%d-of-3.hbsim", i)), i))
	}
	assert.Equal(t, []string{"shard-0-of-3.hbsim", "shard-1-of-3.hbsim", "shard-2-of-3.hbsim"}, listDir(t, shards))
	merged := t.TempDir()
	stdout, errOut, code := runCLI(t, "merge", small, shards, "--out", merged)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "P(expiry|outage)")
	assert.Equal(t, listDir(t, full), listDir(t, merged))
	sameResults(t, full, merged)

	// A shard of another seed is refused.
	other := t.TempDir()
	_, errOut, code = runCLI(t, "run", small, "--shard", "1/3", "--out", other, "--quiet", "--seed", "8")
	require.Equal(t, 0, code, errOut)
	_, errOut, code = runCLI(t, "merge", small, filepath.Join(shards, "shard-0-of-3.hbsim"), filepath.Join(other, "shard-1-of-3.hbsim"),
		filepath.Join(shards, "shard-2-of-3.hbsim"), "--out", t.TempDir())
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "shard-1-of-3.hbsim: written for another experiment")
	// ... unless merged with the seed it was run with (then the others are).
	_, errOut, code = runCLI(t, "merge", small, shards, "--seed", "8", "--out", t.TempDir())
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "written for another experiment (\"small-sweep\", seed 7,")
}

// Bad input, as a new user writes it, exits 2 with one line naming the file,
// line and key (or the path), and leaves nothing behind.
func TestRunBadInputOneLine(t *testing.T) {
	const head = "[experiment]\nreplications = 2\nhorizon = \"1m\"\n"
	pause := func(csv string) string {
		return head + "[[fault]]\nkind = \"client-pause\"\narrival = \"poisson\"\nevery = \"1m\"\nduration = { law = \"empirical\", csv = \"" + csv + "\" }\n"
	}
	tests := []struct {
		name, toml string
		args       []string // after FILE; {out} is the output directory
		want       string   // after "hbsim: "; {file} is the spec's path
	}{
		{"typo", head + "[client]\nsesion_timeout = \"10s\"\n", nil, "{file}:5: client.sesion_timeout: unknown key"},
		{"unit missing", head + "[client]\nsession_timeout = \"10\"\n", nil, `{file}:5: client.session_timeout: missing unit, e.g. "10s"`},
		{"bare number", head + "[client]\nsession_timeout = 10\n", nil, `{file}:5: client.session_timeout: missing unit, e.g. "10s"`},
		{"zero tick", head + "[server]\ntick_time = \"0s\"\n", nil, "{file}:5: server.tick_time: must be positive, got 0s"},
		{"negative tick", head + "[server]\ntick_time = \"-2s\"\n", nil, "{file}:5: server.tick_time: must be positive, got -2s"},
		{"min over max", head + "[server]\nmin_session_timeout = \"30s\"\nmax_session_timeout = \"10s\"\n", nil,
			"{file}:5: server.min_session_timeout: 30s is greater than server.max_session_timeout 10s"},
		{"outage rate 0", head + "[[fault]]\nkind = \"outage\"\narrival = \"poisson\"\nevery = \"0s\"\nduration = \"5s\"\n", nil,
			"{file}:7: fault[0].every: must be positive, got 0s"},
		{"empty host list", head + "[server]\ncount = 3\n[client]\nhosts = []\n", nil,
			"{file}:7: client.hosts: empty hosts list; leave the key out to use every server"},
		{"csv with text", pause("pauses.csv"), nil,
			`{file}:8: fault[0].duration.csv: {dir}/pauses.csv:3: "long pause" is not a number of seconds or a duration such as "1.5s"`},
		{"csv missing", pause("nope.csv"), nil, "{file}:8: fault[0].duration.csv: cannot read {dir}/nope.csv: no such file or directory"},
		{"empty sweep", head + "[client]\nsession_timeout = []\n", nil, "{file}:5: client.session_timeout: empty sweep: give at least one value"},
		{"no such file", "", []string{"--out", "{out}"}, "{dir}/nope.toml: cannot read: no such file or directory"},
		{"output under a file", head, []string{"--out", "{dir}/pauses.csv/out"}, "output directory {dir}/pauses.csv/out: mkdir {dir}/pauses.csv: not a directory"},
		{"budget without unit", head, []string{"--out", "{out}", "--budget", "10"}, `run: invalid value "10" for flag -budget: want a duration with a unit, such as "90m" or "2h"`},
		{"over budget", head, []string{"--out", "{out}", "--budget", "1ns"}, "run: {file}: over the budget of 1ns: 2 replications, ~"},
		{"bad shard", head, []string{"--out", "{out}", "--shard", "3/3"}, `run: --shard: shard "3/3": want 0 <= I < N`},
		{"oversized fleet", head + "clients = 100000000\n", nil, "run: {file}: needs ~"},
		{"flooding arrival rate", head + "[[fault]]\nkind = \"outage\"\narrival = \"poisson\"\nevery = \"1ns\"\nduration = \"10s\"\n", nil,
			"{file}:7: fault[0].every: a mean gap of 1ns is shorter than 1ms, the resolution of ZooKeeper's clocks: episodes this frequent are one continuous fault (for that, give one long duration)"},
		{"never-ending episodes", head + "[[fault]]\nkind = \"outage\"\narrival = \"poisson\"\nevery = \"1ms\"\nduration = \"10s\"\n", nil,
			"{file}:7: fault[0].every: a new episode every 1ms while each lasts 10s on average keeps 1e+04 of them in force at once"},
		{"overflowing law", head + "[[fault]]\nkind = \"outage\"\nat = [\"10s\"]\nduration = { law = \"lognormal\", median = \"1s\", sigma = 1000 }\n", nil,
			"{file}:7: fault[0].duration.sigma: lognormal law: sigma 1000 lets draws overflow to +Inf; with median 1s it must be below 59.08"},
		{"sub-ms tick", head + "[server]\ntick_time = \"1ns\"\n", nil, "{file}:5: server.tick_time: must be at least 1ms, got 1ns: ZooKeeper counts it in whole milliseconds"},
		{"nesting", head + "x = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", nil,
			"{file}:4: syntax error: arrays or inline tables nested more than 32 deep"},
		{"absurd size", "[experiment]\nreplications = 600000000\nhorizon = \"1m\"\n[client]\nsession_timeout = [\"10s\", \"20s\"]\n", nil,
			"{file}:2: experiment.replications: 2 point(s) x 600000000 replication(s) = 1200000000 runs, more than 1000000000; shrink the sweep or the replications"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			file := filepath.Join(tmp, "exp.toml")
			if tc.toml != "" {
				require.NoError(t, os.WriteFile(file, []byte(tc.toml), 0o644))
			} else {
				file = filepath.Join(tmp, "nope.toml")
			}
			require.NoError(t, os.WriteFile(filepath.Join(tmp, "pauses.csv"), []byte("seconds\n0.5\nlong pause\n"), 0o644))
			before := listDir(t, tmp)
			expand := func(s string) string {
				return strings.NewReplacer("{file}", file, "{dir}", tmp, "{out}", filepath.Join(tmp, "out")).Replace(s)
			}
			args := []string{"run", file, "--quiet"}
			if tc.args == nil {
				args = append(args, "--out", filepath.Join(tmp, "out"))
			}
			for _, a := range tc.args {
				args = append(args, expand(a))
			}
			stdout, errOut, code := runCLI(t, args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			assert.True(t, strings.HasPrefix(errOut, "hbsim: "+expand(tc.want)), "got %q\nwant %q", errOut, "hbsim: "+expand(tc.want))
			assert.Equal(t, before, listDir(t, tmp), "nothing written")
		})
	}
}

// A directory without write permission is refused before anything runs.
func TestRunUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere; TestRunBadInputOneLine covers an output path under a file")
	}
	tmp := t.TempDir()
	ro := filepath.Join(tmp, "ro")
	require.NoError(t, os.Mkdir(ro, 0o555))
	defer os.Chmod(ro, 0o755) //nolint:errcheck // best effort, for TempDir's cleanup
	_, errOut, code := runCLI(t, "run", small, "--out", ro, "--quiet")
	assert.Equal(t, 2, code)
	assert.True(t, strings.HasPrefix(errOut, "hbsim: output directory "+ro+" is not writable: "), errOut)
	assert.Empty(t, listDir(t, ro))
}

// A failed replication is reported with the trace command that replays it,
// the panic's stack goes to a file, and what completed is written as
// partial results.
func TestRunFailedReport(t *testing.T) {
	s, err := experiments.Load(small)
	require.NoError(t, err)
	res, err := experiments.Run(context.Background(), s, experiments.RunOptions{Check: true})
	require.NoError(t, err)
	res.Partial = true
	dir := t.TempDir()
	re := &experiments.ReplicationError{Point: 2, Replication: 17, Seed: 99, Err: errors.New("panic: boom"), Stack: []byte("goroutine 7 [running]:\n")}
	err = runFailed(re, res, dir, filepath.Join(dir, "checkpoint.hbsim"), "my exp.toml", 7, []string{"my exp.toml", "--check"})
	assert.Equal(t, "experiments: point 2 replication 17 (seed 99): panic: boom\n"+
		"hbsim: replay it with: hbsim trace 'my exp.toml' --point 2 --replication 17\n"+
		"hbsim: the panic's stack is in "+filepath.Join(dir, "panic-point-2-replication-17.txt")+" (attach it to a bug report)\n"+
		"hbsim: wrote the partial results to "+filepath.Join(dir, "results.partial.csv")+" and "+filepath.Join(dir, "results.partial.json"), err.Error())
	require.ErrorIs(t, err, re)
	assert.Equal(t, []string{"panic-point-2-replication-17.txt", "results.partial.csv", "results.partial.json"}, listDir(t, dir))
	assert.Equal(t, "goroutine 7 [running]:\n", readFile(t, filepath.Join(dir, "panic-point-2-replication-17.txt")))
	assert.Contains(t, readFile(t, filepath.Join(dir, "results.partial.json")), `"partial": true`)

	// Without a directory to write it to, the stack is printed.
	err = runFailed(re, nil, "", "", "exp.toml", 42, []string{"exp.toml", "--seed", "42"})
	assert.Contains(t, err.Error(), "replay it with: hbsim trace exp.toml --point 2 --replication 17, after setting experiment.seed = 42 in the file")
	assert.True(t, strings.HasSuffix(err.Error(), "\ngoroutine 7 [running]:"), err.Error())

	assert.False(t, isInputError(err), "a failed run exits 1, not 2")
}

// A sweep with many clamped timeouts prints ten warnings and a count.
func TestRunWarningsAreCapped(t *testing.T) {
	var vals []string
	for i := range 30 {
		vals = append(vals, fmt.Sprintf(`"%ds"`, 41+i))
	}
	tmp := t.TempDir()
	file := filepath.Join(tmp, "clamped.toml")
	require.NoError(t, os.WriteFile(file, []byte("[experiment]\nreplications = 1\nhorizon = \"1m\"\n[client]\nsession_timeout = ["+strings.Join(vals, ", ")+"]\n"+
		"[[fault]]\nkind = \"outage\"\nat = [\"10s\"]\nduration = \"1s\"\n"), 0o644))
	stdout, errOut, code := runCLI(t, "run", file, "--out", filepath.Join(tmp, "out"), "--quiet")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 11, strings.Count(errOut, "hbsim: warning: "), errOut)
	assert.Contains(t, errOut, "hbsim: warning: ... and 20 more (results.json lists them all)\n")
	assert.Equal(t, 11, strings.Count(stdout, "\nwarning: "), stdout)
	assert.Equal(t, 30, strings.Count(readFile(t, filepath.Join(tmp, "out", "results.json")), "ZooKeeper clamps it to 40s"))
}

func TestShortDur(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		30 * time.Second: "30s", time.Nanosecond: "1ns", 2*time.Hour + time.Second: "2h0m1s", 0: "0s"} {
		assert.Equal(t, want, shortDur(d), "%v", d)
	}
}

// An output path given on the command line that cannot be written is bad
// usage (exit 2), unlike a write that fails once a run is under way.
func TestTimelineUnwritableOutputIsUsage(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, errOut, code := runCLI(t, "timeline", "seed-cable-unplug", "-o", filepath.Join(file, "x.png"))
	assert.Equal(t, 2, code, errOut)
	assert.Equal(t, "hbsim: experiments: writing "+file+": not a directory\n", errOut)
}
