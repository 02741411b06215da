package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hbsim/clock"
	"hbsim/model"
)

// fuzzRunEvents bounds the simulated work of one FuzzRun input: the
// horizon is cut so that the run fires about this many events.
const fuzzRunEvents = 200_000

// runSeeds are whole experiments at the edges: heavy tails everywhere a law
// enters, faults that last past the run, tiny and large timeouts, ensembles,
// every fault kind and arrival, shared episodes, presets.
var runSeeds = []string{
	`[experiment]
horizon = "5m"
clients = 3
[client]
request_interval = { law = "pareto", scale = "10ms", shape = 0.2 }
[network]
latency = { law = "lognormal", median = "1ms", sigma = 30 }
[[fault]]
kind = "outage"
arrival = "poisson"
every = "1h"
duration = { law = "pareto", scale = "1s", shape = 0.07 }
[[fault]]
kind = "client-pause"
clients = 1
at = ["20s", "4m"]
duration = { law = "weibull", scale = "2s", shape = 0.006 }
`,
	`[experiment]
horizon = "2m"
clients = 4
[server]
count = 5
leader = 4
tick_time = "1ms"
min_session_timeout = "1ms"
max_session_timeout = "3s"
[client]
session_timeout = ["1ms", "2ms", "3s"]
version = "3.9"
hosts = [4, 0, 4]
host_order = "given"
[[fault]]
kind = "server-crash"
server = 4
arrival = "periodic"
every = "30s"
duration = "29s"
[[fault]]
kind = "outage"
shared = true
direction = "server-to-client"
arrival = "poisson"
every = "1m"
duration = { law = "uniform", min = "0s", max = "1m" }
`,
	`[experiment]
horizon = "10000d"
replications = 1
[server]
tick_time = "596h"
min_session_timeout = "596h"
max_session_timeout = "596h"
[client]
session_timeout = "596h"
fixed_reconnect = "9999d"
[network]
transport = "ideal"
rto_min = "1ns"
rto_max = "10000d"
connect_latency = "10000d"
data_retries = 2147483647
orphan_retries = 2147483647
[[fault]]
kind = "outage"
clients = 0
at = ["0s", "10000d"]
phase = "10000d"
duration = "10000d"
`,
	`[experiment]
horizon = "3m"
clients = 2
[network]
syn_schedule = "linear"
orphan_retransmit = false
[server]
connection_reaper = false
bucket_rounding = false
[[fault]]
preset = "incident"
[[fault]]
preset = "jvm-gc"
clients = 1
`,
}

// FuzzRun runs whole experiment files, not only parses them: every file
// Parse accepts (seeded with every .toml of experiments/ and testdata/ and
// with runSeeds; an input starting with genMagic is the choices of
// specFromBytes instead, which keeps mutations valid far more often than
// mutating TOML text) is sized like "hbsim run" sizes it, then run for a short
// horizon — at most 2 replications, the horizon cut to about 200 000
// events — with the invariant checker on. A run may end only in a result or
// in bad input (a *SpecError, e.g. a law's non-finite draw); a panic, an
// invariant violation, a replication that fires over 100 times the events
// it was sized for (errRunaway: a storm that would hang the fuzzer) or any
// other failure is a crasher. Files too large for
// a fuzz iteration (over 64 sweep points, or over 64 MB per replication by
// the static estimate, which an election among some 60 servers reaches)
// are skipped.
func FuzzRun(f *testing.F) {
	addFiles(f, ".toml", ".", "../testdata")
	for _, s := range runSeeds {
		f.Add([]byte(s))
	}
	for i := range 16 {
		choices := []byte{genMagic}
		r := rand.New(rand.NewPCG(uint64(i), 17))
		for range 120 {
			choices = append(choices, byte(r.Uint32()))
		}
		f.Add(choices)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && data[0] == genMagic {
			data = []byte(specFromBytes(data[1:]))
		}
		s, err := Parse("fuzz.toml", data, WithReadFile(fuzzCSV))
		if err != nil {
			return // FuzzSpec checks the errors
		}
		n, err := s.numPoints()
		require.NoError(t, err)
		if n > 64 {
			return
		}
		pts, err := s.Points()
		require.NoError(t, err)
		s.Replications = min(s.Replications, 2)
		rate := 0.0 // events per simulated second of the whole run, roughly
		for _, p := range pts {
			f := runFootprint(p.Config)
			if f.bytes > 64<<20 { // an election among more than ~60 servers takes seconds
				return
			}
			rate += float64(f.sessions*s.Replications) * eventRate(p.Config)
		}
		h := min(s.Horizon, 5*time.Minute, time.Duration(fuzzRunEvents/rate*1e9))
		if h < 100*time.Millisecond {
			return
		}
		s.Horizon = h
		res, err := Run(context.Background(), s, RunOptions{Workers: 1, Check: true, model: runaway})
		require.NotErrorIs(t, err, errRunaway, "the short run was sized for ~%d events", fuzzRunEvents)
		if err != nil {
			var se *SpecError
			require.ErrorAs(t, err, &se, "a run may fail only on its input: %v", err)
			return
		}
		require.Len(t, res.Points, len(pts))
		for _, p := range res.Points {
			for _, m := range p.Metrics {
				require.False(t, math.IsInf(m.Estimate, 0), "%s: %v", m.Name, m.Estimate)
				if m.Unit == "probability" && !math.IsNaN(m.Estimate) {
					require.True(t, m.Estimate >= 0 && m.Estimate <= 1, "%s: %v", m.Name, m.Estimate)
				}
			}
		}
	})
}

// errRunaway is a fuzzed run that fired far more events than it was sized
// for: an unbounded storm (an election that never ends, a loop without time
// passing) that would otherwise hang the fuzzer.
var errRunaway = errors.New("more than 100 times the events the run was sized for")

// runaway runs a replication like model.Run, stopping it with errRunaway past
// 100 × fuzzRunEvents events.
func runaway(cfg model.Config, o model.Options) (model.Stats, error) {
	w, err := model.NewWorld(cfg, o)
	if err != nil {
		return model.Stats{}, err
	}
	for step := range 100 {
		end := clock.Zero.Add(cfg.Horizon * time.Duration(step+1) / 100)
		if err := w.RunFor(end.Sub(w.Engine().Now())); err != nil {
			return model.Stats{}, err
		}
		if w.Engine().Fired() > 100*fuzzRunEvents {
			return model.Stats{}, fmt.Errorf("%w: %d events by %v", errRunaway, w.Engine().Fired(), end)
		}
	}
	return w.Run()
}

// eventRate is a rough upper bound of the events per simulated second per
// session of cfg: pings and ticks, requests, fault episodes (each with a
// reconnect's worth of events).
func eventRate(cfg model.Config) float64 {
	t := cfg.Server.Negotiate(cfg.Client.SessionTimeout).Seconds()
	r := 4/max(t/3, 1e-3) + 2/max(cfg.Server.TickTime.Seconds(), 1e-3)
	if l := cfg.Client.RequestInterval; l != nil {
		r += 4 / max(meanUpTo(*l, cfg.Horizon.Seconds()), 1e-3)
	}
	for _, f := range cfg.Faults {
		if f.Arrival != model.Scripted {
			r += 40 / max(f.Every.Seconds(), 1e-3)
		}
	}
	return r * float64(cfg.Servers)
}
