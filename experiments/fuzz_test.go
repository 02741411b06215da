package experiments

import (
	"bytes"
	"context"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addFiles seeds f with every file under roots whose name ends in ext.
func addFiles(f *testing.F, ext string, roots ...string) {
	f.Helper()
	n := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ext) {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f.Add(data)
			n++
			return nil
		})
		require.NoError(f, err)
	}
	require.Positive(f, n, "no %s seeds under %v", ext, roots)
}

// fuzzCSV stands in for the CSV files a fuzzed spec names: "bad*" paths
// hold text, "missing*" paths do not exist, every other path holds samples.
func fuzzCSV(name string) ([]byte, error) {
	base := filepath.Base(name)
	switch {
	case strings.HasPrefix(base, "bad"):
		return []byte("seconds\n1.5\nlong\n"), nil
	case strings.HasPrefix(base, "missing"):
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte("0.25\n1.5s\n3\n"), nil
}

// FuzzSpec feeds the spec parser and validator arbitrary files, seeded with
// every .toml under experiments/ and the repository's testdata/. A bad file
// is a *SpecError whose problems name the file, never a panic; a good one
// expands into valid points with a stable fingerprint.
func FuzzSpec(f *testing.F) {
	addFiles(f, ".toml", ".", "../testdata")
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.toml", data, WithReadFile(fuzzCSV))
		if err != nil {
			var se *SpecError
			require.ErrorAs(t, err, &se)
			require.NotEmpty(t, se.Problems)
			for _, p := range se.Problems {
				require.True(t, strings.HasPrefix(p.Error(), "fuzz.toml"), "%q", p.Error())
				require.NotEmpty(t, p.Msg)
				require.GreaterOrEqual(t, p.Line, 0)
			}
			return
		}
		require.NoError(t, s.Validate())
		n := 1.0
		for _, a := range s.Axes() {
			require.NotEmpty(t, a.Values, a.Key)
			require.Len(t, a.Numeric, len(a.Values), a.Key)
			n *= float64(len(a.Values))
		}
		require.LessOrEqual(t, n, float64(MaxSweepPoints))
		s.Warnings()
		if n > 2000 {
			return // valid, but too slow to expand on every fuzz input
		}
		pts, err := s.Points()
		require.NoError(t, err)
		require.Len(t, pts, int(n))
		for i, p := range pts {
			require.Equal(t, i, p.Index)
			require.NoError(t, p.Config.Validate(), "point %d", i)
		}
		if n*float64(s.Replications) > MaxRuns {
			return
		}
		fp, err := Fingerprint(s)
		require.NoError(t, err)
		again, err := Parse("fuzz.toml", data, WithReadFile(fuzzCSV))
		require.NoError(t, err)
		fp2, err := Fingerprint(again)
		require.NoError(t, err)
		require.Equal(t, fp, fp2, "parsing is deterministic")
	})
}

// FuzzReadDurationsCSV: an empirical-duration CSV either gives at least one
// finite non-negative number of seconds, or a one-line error naming the
// file (and the line, when there is one).
func FuzzReadDurationsCSV(f *testing.F) {
	addFiles(f, ".csv", "testdata")
	for _, s := range []string{"1\n2.5\n", "pause_s,host\n0.05,a\n", "\ufeffseconds\r\n1\r\n", "1m30s\n2d\n", "-1\n", "NaN\n",
		"1e308\n1e309\n", "\"\n", "#\n", ",\n", "0x10\n", "1_000\n", "9223372036s\n", "1.5d\n", "1d1d\n", "-0\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		xs, err := ReadDurationsCSV("p.csv", data)
		if err != nil {
			require.Nil(t, xs)
			msg := err.Error()
			require.True(t, strings.HasPrefix(msg, "p.csv:") || strings.HasPrefix(msg, "p.csv "), "%q", msg)
			require.NotContains(t, msg, "\n")
			return
		}
		require.NotEmpty(t, xs)
		for _, x := range xs {
			require.False(t, math.IsNaN(x) || math.IsInf(x, 0), "%v", x)
			require.GreaterOrEqual(t, x, 0.0)
		}
	})
}

// FuzzRecords feeds the checkpoint and shard reader (what --resume and
// merge read) arbitrary bytes, seeded with a real checkpoint: a file that is
// not ours is a *CheckpointError, and reading stops at the first bad record
// without a panic. (TestRunResumeTornCheckpoint checks that resuming from a
// torn checkpoint gives the uninterrupted result.)
func FuzzRecords(f *testing.F) {
	s, err := Load(smallSweep)
	require.NoError(f, err)
	s.Replications = 3
	ckpt := filepath.Join(f.TempDir(), "checkpoint.hbsim")
	ctx, cancel := context.WithCancel(context.Background())
	opts := RunOptions{Workers: 1, Checkpoint: ckpt, Progress: func(done, _ int) {
		if done == 6 {
			cancel()
		}
	}}
	_, err = Run(ctx, s, opts)
	require.ErrorIs(f, err, context.Canceled)
	seed, err := os.ReadFile(ckpt)
	require.NoError(f, err)
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Add([]byte(recordsMagic + "{}\n\x00"))
	f.Add([]byte(recordsMagic + "{\"shards\": 3}\n\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rr, err := readRecords("fuzz.hbsim", bytes.NewReader(data))
		if err != nil {
			var ce *CheckpointError
			require.ErrorAs(t, err, &ce)
			return
		}
		valid := rr.valid
		for {
			job, r, ok, err := rr.next()
			require.NoError(t, err)
			if !ok {
				break
			}
			require.Greater(t, rr.valid, valid)
			valid = rr.valid
			require.GreaterOrEqual(t, job, 0)
			require.LessOrEqual(t, len(r.atLeast), maxRecordPayload)
		}
		require.LessOrEqual(t, valid, int64(len(data)))
		assert.True(t, bytes.HasPrefix(data, []byte(recordsMagic)))
	})
}
