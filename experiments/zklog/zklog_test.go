package zklog

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/clock"
	"hbsim/experiments"
	"hbsim/experiments/fit"
	"hbsim/model"
)

// simulate runs replication 0 of point 0 of an example experiment with the
// log writer and returns the logs and the configuration (whose faults hold
// the true laws).
func simulate(t *testing.T, example string, w Wording) ([]File, model.Config) {
	t.Helper()
	s, err := experiments.Load(filepath.Join("..", "examples", example))
	require.NoError(t, err)
	pts, err := s.Points()
	require.NoError(t, err)
	cfg := experiments.ReplicationConfig(s.Seed, pts[0], 0)
	d := cfg.Defaults()
	lw := New(w, d.Client.SessionTimeout)
	_, err = model.Run(cfg, model.Options{Tracer: lw})
	require.NoError(t, err)
	lw.Close(clock.Zero.Add(d.Horizon))
	return lw.Files(), d
}

// read reads the logs whose names end in suffix with fit's readers.
func read(t *testing.T, files []File, suffix string, f fit.Format) *fit.Data {
	t.Helper()
	var ds []*fit.Data
	for _, file := range files {
		if !strings.HasSuffix(file.Name, suffix) || (suffix == ".log" && strings.HasSuffix(file.Name, ".gc.log")) ||
			strings.HasPrefix(file.Name, "server-") {
			continue
		}
		d, err := fit.Read(file.Name, file.Data, f, fit.Options{Transport: fit.TransportIdeal})
		require.NoError(t, err, file.Name)
		ds = append(ds, d)
	}
	d, err := fit.Merge(ds)
	require.NoError(t, err)
	return d
}

// truth returns the law of the first fault as fit names its parameters.
func truth(t *testing.T, cfg model.Config) (fit.Kind, []float64, time.Duration) {
	t.Helper()
	f := cfg.Faults[0]
	l := f.Duration
	switch l.Kind {
	case model.LawLogNormal:
		return fit.LogNormal, []float64{l.Median, l.Sigma}, f.Every
	case model.LawWeibull:
		return fit.Weibull, []float64{l.Scale, l.Shape}, f.Every
	}
	t.Fatalf("no fit law for %s", l.Kind)
	return 0, nil, 0
}

// The acceptance round trip: a fleet whose outage law is known, written
// as ZooKeeper client logs, fitted back. The true parameters and rate lie
// inside the 95 % intervals of the fit of the law's own family, and the
// naive fit of the raw disconnection times misses at least one of them.
// One seeded fleet per law (the seeds are in the example files); the
// property over many seeds is TestEpisodeFitCoverage in package fit.
func TestRoundTripOutages(t *testing.T) {
	for _, example := range []string{"fit-fleet-lognormal.toml", "fit-fleet-weibull.toml"} {
		t.Run(example, func(t *testing.T) {
			t.Parallel()
			files, cfg := simulate(t, example, V38)
			d := read(t, files, ".log", fit.FormatAuto)
			res, err := fit.Fit(d)
			require.NoError(t, err)
			kind, want, every := truth(t, cfg)
			require.GreaterOrEqual(t, res.N, 500, "%s: a fleet's worth of disconnections", example)
			e := res.Candidates[int(kind)]
			require.Empty(t, e.Err)
			for i, v := range want {
				assert.True(t, e.Params[i].Contains(v), "%s: %s = %g outside %s (estimate %g)", example, e.Params[i].Name, v, e.Params[i].Interval(), e.Params[i].Value)
			}
			ev := res.EveryFor(int(kind))
			require.NotNil(t, ev)
			assert.True(t, ev.Contains(every.Seconds()), "%s: every = %v outside %s", example, every, ev.Interval())

			naive, err := fit.Fit(fit.RawDisconnections(d))
			require.NoError(t, err)
			ne := naive.Candidates[int(kind)]
			inside := 0
			for i, v := range want {
				if ne.Params[i].Contains(v) {
					inside++
				}
			}
			assert.Less(t, inside, len(want), "%s: the raw disconnection times fit %v", example, ne.Params)
			t.Logf("%s: %d episodes; fit %s %v every %v %s; raw %v", example, res.N, kind, e.Params, ev.Value, ev.Interval(), ne.Params)
		})
	}
}

// The same for GC logs written from a known pause law.
func TestRoundTripPauses(t *testing.T) {
	t.Parallel()
	files, cfg := simulate(t, "fit-gc-pauses.toml", V38)
	d := read(t, files, ".gc.log", fit.FormatAuto)
	require.Equal(t, fit.SourceGC, d.Source)
	res, err := fit.Fit(d)
	require.NoError(t, err)
	kind, want, every := truth(t, cfg)
	e := res.Candidates[int(kind)]
	for i, v := range want {
		assert.True(t, e.Params[i].Contains(v), "%s = %g outside %s", e.Params[i].Name, v, e.Params[i].Interval())
	}
	require.NotNil(t, res.Every)
	assert.True(t, res.Every.Contains(every.Seconds()), "every = %v outside %s", every, res.Every.Interval())
	assert.Equal(t, kind, res.Best().Law)
	block, err := experiments.FitFault(res, experiments.FitFaultOptions{Law: -1})
	require.NoError(t, err)
	assert.Contains(t, block, `kind = "client-pause"`)
}

// Every wording reads back the same disconnections, and the same run
// gives the same bytes.
func TestWordings(t *testing.T) {
	t.Parallel()
	sc, ok := model.ScenarioByName("seed-cable-unplug")
	require.True(t, ok)
	for _, w := range []Wording{V34, V38, V39} {
		lw := New(w, 10*time.Second)
		_, err := model.Run(sc.Config, model.Options{Tracer: lw})
		require.NoError(t, err)
		lw.Close(clock.Zero.Add(sc.Config.Defaults().Horizon))
		files := lw.Files()
		require.Len(t, files, 2, "client-0.log and server-0.log")
		d, err := fit.ReadZK(files[0].Name, files[0].Data, fit.Options{})
		require.NoError(t, err, "wording %d:\n%s", w, files[0].Data)
		require.Len(t, d.Episodes, 1, "wording %d", w)
		assert.True(t, d.Episodes[0].Expired, "wording %d", w)
		assert.InDelta(t, 6.666, d.Episodes[0].RT, 1e-9)
		assert.Contains(t, string(files[1].Data), "Expiring session 0x1, timeout of 10000ms exceeded")

		again := New(w, 10*time.Second)
		_, err = model.Run(sc.Config, model.Options{Tracer: again})
		require.NoError(t, err)
		again.Close(clock.Zero.Add(sc.Config.Defaults().Horizon))
		for i, f := range again.Files() {
			assert.True(t, bytes.Equal(files[i].Data, f.Data), "wording %d: %s differs between runs", w, f.Name)
		}
	}
}
