package experiments

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/model"
)

// smallSweep is the golden regression experiment: 4 points x 40 replications.
const smallSweep = "../testdata/experiments/small-sweep.toml"

func loadSpec(t *testing.T, path string) *Spec {
	t.Helper()
	s, err := Load(path)
	require.NoError(t, err)
	return s
}

// outputs are the bytes a run writes.
type outputs struct{ csv, json string }

func render(t *testing.T, res *Result) outputs {
	t.Helper()
	js, err := res.JSON()
	require.NoError(t, err)
	return outputs{string(res.CSV()), string(js)}
}

// reference runs s uninterrupted, on one worker, with the invariant checker.
func reference(t *testing.T, s *Spec) outputs {
	t.Helper()
	res, err := Run(context.Background(), s, RunOptions{Workers: 1, Check: true})
	require.NoError(t, err)
	require.False(t, res.Partial)
	return render(t, res)
}

// The same experiment gives byte-identical outputs whatever GOMAXPROCS and
// the worker count.
func TestRunDeterministicAcrossProcsAndWorkers(t *testing.T) {
	s := loadSpec(t, smallSweep)
	want := reference(t, s)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		for _, workers := range []int{0, 1, 4} {
			res, err := Run(context.Background(), s, RunOptions{Workers: workers, Check: true})
			require.NoError(t, err, "GOMAXPROCS=%d workers=%d", procs, workers)
			got := render(t, res)
			assert.Equal(t, want.csv, got.csv, "results.csv, GOMAXPROCS=%d workers=%d", procs, workers)
			assert.Equal(t, want.json, got.json, "results.json, GOMAXPROCS=%d workers=%d", procs, workers)
		}
	}
}

// interruptAfter returns options that cancel the run once n replications
// are aggregated, and the context to run with.
func interruptAfter(n int, opts RunOptions) (context.Context, RunOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(done, _ int) {
		if done >= n {
			cancel()
		}
	}
	return ctx, opts
}

// An interrupted run keeps a checkpoint; resuming it ends with outputs
// byte-identical to an uninterrupted run's, however often it is
// interrupted and whatever the worker counts.
func TestRunResumeIsByteIdentical(t *testing.T) {
	s := loadSpec(t, smallSweep)
	want := reference(t, s)
	total := 4 * s.Replications
	tests := []struct {
		name    string
		stops   []int // interrupt once this many replications are done
		workers []int // per attempt; the last one finishes
	}{
		{"a quarter", []int{total / 4}, []int{4, 1}},
		{"mid-point", []int{s.Replications/2 + 3}, []int{1, 4}},
		{"almost all", []int{total - 32}, []int{1, 2}},         // 1 worker: the last chunks are small (an eighth of what is left)
		{"three times", []int{10, 70, 130}, []int{4, 1, 3, 2}}, // at most 4 chunks per worker run ahead of the fold
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ckpt := filepath.Join(t.TempDir(), "checkpoint.hbsim")
			for i, stop := range tc.stops {
				ctx, opts := interruptAfter(stop, RunOptions{Workers: tc.workers[i], Check: true, Checkpoint: ckpt, Resume: i > 0})
				res, err := Run(ctx, s, opts)
				var ie *InterruptedError
				require.ErrorAs(t, err, &ie, "attempt %d", i)
				require.ErrorIs(t, err, context.Canceled)
				assert.GreaterOrEqual(t, ie.Done, stop)
				assert.Less(t, ie.Done, total, "the run must stop early")
				assert.Equal(t, total, ie.Total)
				require.NotNil(t, res, "a partial result")
				assert.True(t, res.Partial)
				assert.Contains(t, res.Warnings[len(res.Warnings)-1], fmt.Sprintf("partial result: %d of %d replications", ie.Done, total))
			}
			res, err := Run(context.Background(), s, RunOptions{Workers: tc.workers[len(tc.stops)], Check: true, Checkpoint: ckpt, Resume: true})
			require.NoError(t, err)
			got := render(t, res)
			assert.Equal(t, want.csv, got.csv)
			assert.Equal(t, want.json, got.json)
		})
	}
}

// A process killed while appending leaves a torn last record: resuming drops
// it, runs that replication again and still ends byte-identical.
func TestRunResumeTornCheckpoint(t *testing.T) {
	s := loadSpec(t, smallSweep)
	s.Replications = 10 // 40 in all: each resume runs about 20
	want := reference(t, s)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "checkpoint.hbsim")
	ctx, opts := interruptAfter(20, RunOptions{Workers: 1, Check: true, Checkpoint: ckpt})
	_, err := Run(ctx, s, opts)
	require.ErrorIs(t, err, context.Canceled)
	full, err := os.ReadFile(ckpt)
	require.NoError(t, err)

	// Every cut inside the last two records, and garbage after a cut.
	rng := rand.New(rand.NewPCG(1, 2))
	for cut := len(full) - 100; cut <= len(full); cut++ {
		for _, junk := range [][]byte{nil, {0x05, 0xff, 0x00}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}} {
			data := append(append([]byte{}, full[:cut]...), junk...)
			if junk != nil && rng.IntN(4) != 0 {
				continue // a sample of the garbage cases keeps the test fast
			}
			p := filepath.Join(dir, fmt.Sprintf("torn-%d-%d.hbsim", cut, len(junk)))
			require.NoError(t, os.WriteFile(p, data, 0o644))
			res, err := Run(context.Background(), s, RunOptions{Workers: 2, Check: true, Checkpoint: p, Resume: true})
			require.NoError(t, err, "cut=%d junk=%x", cut, junk)
			require.Equal(t, want.csv, string(res.CSV()), "cut=%d junk=%x", cut, junk)
		}
	}
}

func TestRunCheckpointGuards(t *testing.T) {
	s := loadSpec(t, smallSweep)
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "checkpoint.hbsim")
	ctx, opts := interruptAfter(5, RunOptions{Workers: 1, Check: true, Checkpoint: ckpt})
	_, err := Run(ctx, s, opts)
	require.ErrorIs(t, err, context.Canceled)

	var ce *CheckpointError
	_, err = Run(context.Background(), s, RunOptions{Checkpoint: ckpt})
	require.ErrorAs(t, err, &ce, "an existing checkpoint is not overwritten without Resume")
	assert.Contains(t, err.Error(), "--resume")

	other := loadSpec(t, smallSweep)
	other.Seed++
	_, err = Run(context.Background(), other, RunOptions{Checkpoint: ckpt, Resume: true})
	require.ErrorAs(t, err, &ce, "a checkpoint of another seed")
	assert.Contains(t, err.Error(), "written for another experiment")

	junk := filepath.Join(dir, "junk.hbsim")
	require.NoError(t, os.WriteFile(junk, []byte("x = 1\n"), 0o644))
	_, err = Run(context.Background(), s, RunOptions{Checkpoint: junk, Resume: true})
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "not an hbsim checkpoint")

	// Resume without a checkpoint starts from the beginning.
	fresh := filepath.Join(dir, "fresh.hbsim")
	res, err := Run(context.Background(), s, RunOptions{Checkpoint: fresh, Resume: true, Check: true})
	require.NoError(t, err)
	assert.False(t, res.Partial)
}

// failingModel runs the real model but fails replication rep of point
// point: it panics, or reports an invariant violation.
func failingModel(s *Spec, point, rep int, panics bool) func(model.Config, model.Options) (model.Stats, error) {
	bad := ReplicationSeed(s.Seed, point, rep)
	return func(cfg model.Config, opts model.Options) (model.Stats, error) {
		if cfg.Seed == bad {
			if panics {
				counts := make([]int, cfg.Clients)
				counts[cfg.Clients]++ // a runtime error: index out of range
			}
			return model.Stats{}, fmt.Errorf("%w: at 1m0s (event 1234): injected", model.ErrInvariant)
		}
		return model.Run(cfg, opts)
	}
}

// A replication that panics or breaks an invariant stops the run with its
// point, replication and seed; the replications before it come back as a
// partial result and stay in the checkpoint, so that a fixed build can
// resume.
func TestRunReplicationFailure(t *testing.T) {
	s := loadSpec(t, smallSweep)
	want := reference(t, s)
	for _, panics := range []bool{true, false} {
		t.Run(fmt.Sprintf("panic=%v", panics), func(t *testing.T) {
			ckpt := filepath.Join(t.TempDir(), "checkpoint.hbsim")
			opts := RunOptions{Workers: 3, Check: true, Checkpoint: ckpt, model: failingModel(s, 1, 5, panics)}
			res, err := Run(context.Background(), s, opts)
			var re *ReplicationError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 1, re.Point)
			assert.Equal(t, 5, re.Replication)
			assert.Equal(t, ReplicationSeed(s.Seed, 1, 5), re.Seed)
			assert.Contains(t, err.Error(), fmt.Sprintf("point 1 replication 5 (seed %d)", re.Seed))
			if panics {
				assert.Contains(t, err.Error(), "panic: runtime error: index out of range [2] with length 2")
				assert.Contains(t, string(re.Stack), "failingModel")
			} else {
				require.ErrorIs(t, err, model.ErrInvariant)
				assert.Contains(t, err.Error(), "(event 1234)")
				assert.Nil(t, re.Stack)
			}
			require.NotNil(t, res)
			assert.True(t, res.Partial)
			require.Len(t, res.Points, 2, "point 0 complete, point 1 partial")
			m, _ := res.Points[1].Metric(MetricExpiryInHorizon)
			assert.InDelta(t, 5*2, m.Trials, 0, "5 replications x 2 clients")
			assert.Contains(t, res.Warnings[len(res.Warnings)-1], "partial result: 45 of 160 replications; 2 of 4 point(s) listed (point 1 has 5 of 40 replications)")

			res, err = Run(context.Background(), s, RunOptions{Workers: 2, Check: true, Checkpoint: ckpt, Resume: true})
			require.NoError(t, err, "the fixed build resumes")
			assert.Equal(t, want.csv, string(res.CSV()))
		})
	}
}

// The shards of a run merge into exactly the unsharded result.
func TestShardMergeIsByteIdentical(t *testing.T) {
	s := loadSpec(t, smallSweep)
	want := reference(t, s)
	for _, n := range []int{1, 3, 7} {
		t.Run(fmt.Sprintf("shards=%d", n), func(t *testing.T) {
			dir := t.TempDir()
			for i := range n {
				path, err := RunShard(context.Background(), s, Shard{i, n}, dir, RunOptions{Workers: 1 + i%3, Check: true})
				require.NoError(t, err)
				assert.Equal(t, filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.hbsim", i, n)), path)
			}
			res, err := Merge(s, []string{dir})
			require.NoError(t, err)
			got := render(t, res)
			assert.Equal(t, want.csv, got.csv)
			assert.Equal(t, want.json, got.json)
		})
	}
}

// An interrupted shard resumes; a complete one is not run again.
func TestShardResume(t *testing.T) {
	s := loadSpec(t, smallSweep)
	want := reference(t, s)
	dir := t.TempDir()
	sh := Shard{1, 2}
	ctx, opts := interruptAfter(7, RunOptions{Workers: 2, Check: true})
	_, err := RunShard(ctx, s, sh, dir, opts)
	require.ErrorIs(t, err, context.Canceled)
	assert.NoFileExists(t, filepath.Join(dir, sh.FileName()), "an incomplete shard has no final file")
	assert.FileExists(t, filepath.Join(dir, sh.CheckpointName()))

	_, err = RunShard(context.Background(), s, sh, dir, RunOptions{Check: true})
	var ce *CheckpointError
	require.ErrorAs(t, err, &ce, "the checkpoint needs --resume")

	for range 2 { // the second time, the shard is complete already
		_, err = RunShard(context.Background(), s, sh, dir, RunOptions{Check: true, Resume: true})
		require.NoError(t, err)
	}
	_, err = RunShard(context.Background(), s, sh, dir, RunOptions{Check: true})
	require.ErrorAs(t, err, &ce, "a complete shard is not overwritten")
	_, err = RunShard(context.Background(), s, Shard{0, 2}, dir, RunOptions{Check: true})
	require.NoError(t, err)
	res, err := Merge(s, []string{filepath.Join(dir, "shard-0-of-2.hbsim"), filepath.Join(dir, "shard-1-of-2.hbsim")})
	require.NoError(t, err)
	assert.Equal(t, want.csv, string(res.CSV()))
}

func TestMergeRejectsBadShards(t *testing.T) {
	s := loadSpec(t, smallSweep)
	dir := t.TempDir()
	for i := range 3 {
		_, err := RunShard(context.Background(), s, Shard{i, 3}, dir, RunOptions{})
		require.NoError(t, err)
	}
	other := loadSpec(t, smallSweep)
	other.Seed = 99
	otherDir := t.TempDir()
	_, err := RunShard(context.Background(), other, Shard{0, 3}, otherDir, RunOptions{})
	require.NoError(t, err)
	shard := func(i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%d-of-3.hbsim", i)) }
	data, err := os.ReadFile(shard(2))
	require.NoError(t, err)
	torn := filepath.Join(t.TempDir(), "shard-2-of-3.hbsim")
	require.NoError(t, os.WriteFile(torn, data[:len(data)-10], 0o644))

	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"missing", []string{shard(0), shard(2)}, "shard 1/3 is missing"},
		{"twice", []string{shard(0), shard(1), shard(1), shard(2)}, "shard 1/3 is given twice"},
		{"other seed", []string{filepath.Join(otherDir, "shard-0-of-3.hbsim"), shard(1), shard(2)}, "written for another experiment"},
		{"incomplete", []string{shard(0), shard(1), torn}, "shard 2/3 is incomplete or damaged: replication 38 of point 3 (job 158) is missing"},
		{"not a shard", []string{shard(0), shard(1), smallSweep}, "not an hbsim checkpoint or shard file"},
		{"no such file", []string{filepath.Join(dir, "nope")}, "nope: cannot read: no such file or directory"},
		{"empty directory", []string{t.TempDir()}, "no shard files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(s, tc.paths)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseShard(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0/1", "2/3", " 1 / 4 "} {
		_, err := ParseShard(in)
		require.NoError(t, err, in)
	}
	for _, in := range []string{"", "1", "3/3", "-1/2", "0/0", "a/b", "1/2/3"} {
		_, err := ParseShard(in)
		require.Error(t, err, in)
	}
	assert.Equal(t, 54, Shard{0, 3}.jobs(160))
	assert.Equal(t, 53, Shard{2, 3}.jobs(160))
	assert.Equal(t, 0, Shard{5, 7}.jobs(4))
	assert.Equal(t, 160, Shard{}.jobs(160))
}

// Records round-trip exactly, and folding a record gives the same bits as
// folding the Stats it came from.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 500 {
		dur := func(max int64) time.Duration { return time.Duration(rng.Int64N(max)) }
		st := model.Stats{
			Clients: 1 + rng.IntN(50), Horizon: dur(1 << 50), Events: rng.Uint64(),
			Exposures: rng.IntN(1 << 20), ExpiredExposures: rng.IntN(100), Expiries: rng.IntN(100), ClientsExpired: rng.IntN(50),
			Disconnects: rng.IntN(1000), ObservedTime: dur(1 << 50), DisconnectedTime: dur(1 << 40),
			DetectionMeasured: rng.IntN(2) == 0, DetectionTime: dur(1 << 40),
		}
		for range rng.IntN(5) {
			hit := rng.IntN(20)
			st.SharedEpisodes = append(st.SharedEpisodes, model.SharedEpisode{Hit: hit, Expired: rng.IntN(hit + 1)})
		}
		want := summarize(st)
		rec := appendRecord(nil, i*97, &want)
		l, k := readUvarint(rec)
		require.Equal(t, len(rec)-k-4, int(l), "i=%d", i)
		job, got, err := decodeRecord(rec[k : k+int(l)])
		require.NoError(t, err, "i=%d", i)
		assert.Equal(t, i*97, job)
		assert.Equal(t, want, got, "i=%d", i)

		var a, b pointAcc
		a.add(st)
		b.fold(&got)
		assert.Equal(t, a, b, "i=%d", i)
	}
}

func readUvarint(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

func TestRunRejectsAbsurdSweeps(t *testing.T) {
	t.Parallel()
	src := "[experiment]\nreplications = 2000000\nhorizon = \"1m\"\n[client]\nsession_timeout = [" +
		strings.Repeat("\"10s\", ", 999) + "\"10s\"]\n"
	s, err := Parse("huge.toml", []byte(src))
	require.NoError(t, err)
	_, err = Run(context.Background(), s, RunOptions{})
	var se *SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "huge.toml:2: experiment.replications: 1000 point(s) x 2000000 replication(s) = 2000000000 runs, more than 1000000000; shrink the sweep or the replications", err.Error())
	_, err = EstimateCost(s, 1, 1)
	require.ErrorAs(t, err, &se)
}

func TestEstimateCost(t *testing.T) {
	s := loadSpec(t, smallSweep)
	c, err := EstimateCost(s, 160, 2)
	require.NoError(t, err)
	assert.Equal(t, 160, c.Runs)
	assert.Positive(t, c.Events)
	assert.Positive(t, c.Memory)
	assert.Positive(t, c.Time)
	assert.LessOrEqual(t, c.Workers, 2)
	assert.Contains(t, c.String(), "160 replications, ~")
	more, err := EstimateCost(s, 1600, 2)
	require.NoError(t, err)
	assert.InEpsilon(t, 10*c.Events, more.Events, 1e-9, "events scale with the runs")
}

// Every example and golden experiment runs clean under the invariant
// checker (a few replications of each, to stay fast).
func TestExamplesUnderInvariantChecker(t *testing.T) {
	var files []string
	for _, glob := range []string{"examples/*.toml", "../testdata/experiments/*.toml"} {
		m, err := filepath.Glob(glob)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := loadSpec(t, f)
			s.Replications = min(s.Replications, 2)
			_, err := Run(context.Background(), s, RunOptions{Check: true})
			require.NoError(t, err)
		})
	}
}

// A law that draws a value that is not a finite duration (a *model.LawError)
// is bad input: Run returns a *SpecError naming the law's line and key, and
// no partial result.
func TestRunLawErrorIsInputError(t *testing.T) {
	t.Parallel()
	s, err := Parse("law.toml", []byte("[experiment]\nreplications = 4\nhorizon = \"1m\"\n[network]\nlatency = \"1ms\"\n"+
		"[[fault]]\nkind = \"outage\"\nat = [\"10s\"]\nduration = { law = \"pareto\", scale = \"1s\", shape = 1 }\n"))
	require.NoError(t, err)
	for _, le := range []*model.LawError{
		{Where: "duration", Fault: 0, Law: model.Law{Kind: model.LawPareto, Scale: 1, Shape: 1}, Value: math.Inf(1)},
		{Where: "network latency", Fault: -1, Law: model.Fixed(time.Millisecond), Value: math.NaN()},
	} {
		calls := 0
		opts := RunOptions{Workers: 1, model: func(cfg model.Config, o model.Options) (model.Stats, error) {
			if calls++; calls == 3 {
				return model.Stats{}, le
			}
			return model.Run(cfg, o)
		}}
		res, err := Run(context.Background(), s, opts)
		assert.Nil(t, res)
		var se *SpecError
		require.ErrorAs(t, err, &se)
		key := "law.toml:9: fault[0].duration"
		if le.Fault < 0 {
			key = "law.toml:5: network.latency"
		}
		assert.Equal(t, fmt.Sprintf("%s: the %s law drew %v at point 0 replication 2 (seed %d), not a finite duration: its parameters put draws beyond any number",
			key, le.Law.Kind, le.Value, ReplicationSeed(s.Seed, 0, 2)), err.Error())
	}
}

// Every server-side fault kind at once, with outages and busy clients, on a
// 5-server ensemble: every replication passes the invariant checker, and
// the result is the same with one worker or four.
func TestEnsembleStressUnderCheck(t *testing.T) {
	s := loadSpec(t, "testdata/ensemble-stress.toml")
	one, err := Run(context.Background(), s, RunOptions{Workers: 1, Check: true})
	require.NoError(t, err)
	four, err := Run(context.Background(), s, RunOptions{Workers: 4, Check: true})
	require.NoError(t, err)
	assert.Equal(t, render(t, one).csv, render(t, four).csv)
	for _, p := range one.Points {
		m, ok := p.Metric(MetricNoLeader)
		require.True(t, ok)
		assert.Positive(t, m.Estimate, "point %d: leader changes take time", p.Index)
		d, _ := p.Metric(MetricDropped)
		assert.Positive(t, d.Estimate, "point %d: server faults drop connections", p.Index)
	}
}
