package experiments

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/model"
)

// problemLines returns the lines of a *SpecError, failing the test for any
// other error.
func problemLines(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	var se *SpecError
	require.ErrorAs(t, err, &se)
	require.NotEmpty(t, se.Problems)
	return strings.Split(err.Error(), "\n")
}

func mustLoad(t *testing.T, path string) *Spec {
	t.Helper()
	s, err := Load(path)
	require.NoError(t, err, path)
	return s
}

func TestExampleFiles(t *testing.T) {
	wantPoints := map[string]int{
		"timeout-10s-vs-30s.toml":  6 * 13,
		"preset-dc-blip.toml":      3,
		"preset-ec2-flap.toml":     3,
		"preset-cloud-vm.toml":     3,
		"preset-jvm-gc.toml":       3,
		"preset-link-repair.toml":  3,
		"preset-incident.toml":     3,
		"rare-30s.toml":            2,
		"hb-canonical.toml":        1,
		"fit-fleet-lognormal.toml": 1,
		"fit-fleet-weibull.toml":   1,
		"fit-gc-pauses.toml":       1,
		"mass-expiry.toml":         -1, // owned by the mass-expiry example's own test
		"leader-failover.toml":     4,
		"rolling-restart.toml":     4,
	}
	files, err := filepath.Glob("examples/*.toml")
	require.NoError(t, err)
	require.Len(t, files, len(wantPoints), "every example has an expected point count")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, ok := wantPoints[filepath.Base(path)]
			require.True(t, ok, "unexpected example %s", path)
			s := mustLoad(t, path)
			require.NoError(t, s.Validate())
			pts, err := s.Points()
			require.NoError(t, err)
			if want >= 0 {
				assert.Len(t, pts, want)
			}
			assert.Empty(t, s.Warnings(), "examples should not need the server's clamp")
			assert.Equal(t, strings.TrimSuffix(filepath.Base(path), ".toml"), s.Name)
			assert.Equal(t, uint64(1), s.Seed)
			for i, p := range pts {
				assert.Equal(t, i, p.Index)
				assert.Equal(t, s.Replications, p.Replications)
				assert.Len(t, p.Params, len(s.Axes()))
				assert.NoError(t, p.Config.Validate(), "point %d", i)
				assert.NotEmpty(t, p.Config.Faults, "point %d", i)
			}
			axes := s.Axes()
			if base := filepath.Base(path); base == "hb-canonical.toml" || strings.HasPrefix(base, "fit-") {
				assert.Empty(t, axes, "the benchmark workload and the fit round trips' fleets are single points")
				return
			}
			require.NotEmpty(t, axes)
			assert.Equal(t, "client.session_timeout", axes[0].Key)
			assert.Equal(t, "s", axes[0].Unit)
		})
	}
}

func TestExampleTimeoutSweep(t *testing.T) {
	s := mustLoad(t, "examples/timeout-10s-vs-30s.toml")
	assert.Equal(t, 400, s.Replications)
	assert.Equal(t, 3*time.Minute, s.Horizon)
	assert.Equal(t, "out/timeout-10s-vs-30s", s.Output.Dir)
	assert.Equal(t, []string{"expiry-vs-timeout", "expiry-vs-outage", "tradeoff"}, s.Output.Charts)

	axes := s.Axes()
	require.Len(t, axes, 2)
	assert.Equal(t, "client.session_timeout", axes[0].Key)
	assert.Equal(t, []string{"6s", "10s", "15s", "20s", "30s", "40s"}, axes[0].Values)
	assert.Equal(t, "fault[0].duration", axes[1].Key)
	assert.Len(t, axes[1].Values, 13)
	assert.InDeltaSlice(t, []float64{1, 2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40}, axes[1].Numeric, 1e-12)

	pts, err := s.Points()
	require.NoError(t, err)
	p := pts[13] // second timeout, first outage length
	assert.Equal(t, []Param{
		{Key: "client.session_timeout", Value: "10s", Numeric: 10},
		{Key: "fault[0].duration", Value: "1s", Numeric: 1},
	}, p.Params)
	c := p.Config
	assert.Equal(t, 10*time.Second, c.Client.SessionTimeout)
	assert.Equal(t, 1, c.Clients)
	assert.True(t, c.DeadClientProbe)
	require.Len(t, c.Faults, 1)
	f := c.Faults[0]
	assert.Equal(t, model.Outage, f.Kind)
	assert.Equal(t, model.Target{Client: 0, Server: model.AllServers, Direction: model.Both}, f.Target)
	assert.Equal(t, []time.Duration{time.Minute}, f.At)
	assert.False(t, f.PhaseSet, "phase = \"random\" does not anchor")
	assert.Equal(t, model.LawFixed, f.Duration.Kind)
	assert.InDelta(t, 1.0, f.Duration.Value, 1e-12)
}

func TestLoadMinimalDefaults(t *testing.T) {
	s := mustLoad(t, "testdata/valid-minimal.toml")
	assert.Equal(t, "valid-minimal", s.Name)
	assert.Equal(t, uint64(DefaultSeed), s.Seed)
	assert.Equal(t, DefaultReplications, s.Replications)
	assert.Equal(t, filepath.Join("out", "valid-minimal"), s.Output.Dir)
	assert.Nil(t, s.Output.Charts, "nil charts: every chart that applies")
	assert.Empty(t, s.Axes())
	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 1)
	want := model.Config{Seed: DefaultSeed, Horizon: 10 * time.Minute, DeadClientProbe: true}.Defaults()
	assert.Equal(t, want, pts[0].Config)
	assert.Empty(t, pts[0].Params)
}

func TestLoadEveryKey(t *testing.T) {
	s := mustLoad(t, "testdata/valid-all-keys.toml")
	assert.Equal(t, "all-keys", s.Name)
	assert.Equal(t, uint64(42), s.Seed)
	assert.Equal(t, 3, s.Replications)
	assert.Equal(t, 2*time.Hour, s.Horizon)
	assert.Equal(t, Output{Dir: "out/elsewhere", Charts: []string{"tradeoff"}}, s.Output)

	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 1)
	ms := func(n int) float64 { return (time.Duration(n) * time.Millisecond).Seconds() }
	want := model.Config{
		Seed:    42,
		Horizon: 2 * time.Hour,
		Clients: 2,
		Servers: 3,
		Leader:  1,
		Server: model.ServerConfig{
			TickTime:                3 * time.Second,
			MinSessionTimeout:       6 * time.Second,
			MaxSessionTimeout:       time.Minute,
			NoBucketRounding:        true,
			QuorumLatency:           time.Millisecond,
			NoConnReaper:            true,
			SyncLimit:               4,
			InitLimit:               12,
			SyncTime:                &model.Law{Kind: model.LawLogNormal, Median: ms(300), Sigma: 0.5},
			FinalizeWait:            250 * time.Millisecond,
			MaxNotificationInterval: 30 * time.Second,
			ResumeOrder:             model.RequestsFirst,
		},
		Client: model.ClientConfig{
			SessionTimeout:  20 * time.Second,
			Version:         model.V39,
			Hosts:           []int{2, 1},
			KeepHostOrder:   true,
			AbsentHosts:     1,
			RequestInterval: &model.Law{Kind: model.LawExponential, Mean: 2},
			FixedReconnect:  time.Second,
		},
		Network: model.NetworkConfig{
			Latency:            &model.Law{Kind: model.LawUniform, Min: ms(1), Max: ms(3)},
			Transport:          model.Ideal,
			SYN:                model.SYNLinear,
			SYNRetries:         3,
			SYNLinearTimeouts:  2,
			NoTailLossProbe:    true,
			NoOrphanRetransmit: true,
			RTOMin:             100 * time.Millisecond,
			RTOMax:             time.Minute,
			OrphanRetries:      3,
			DataRetries:        10,
		},
		Faults: []model.Fault{
			{
				Kind:     model.Outage,
				Target:   model.Target{Client: model.AllClients, Shared: true, Server: 2, Direction: model.ClientToServer},
				Arrival:  model.Scripted,
				At:       []time.Duration{10 * time.Minute, time.Hour},
				Phase:    time.Second,
				PhaseSet: true,
				Duration: model.Law{Kind: model.LawWeibull, Scale: 3, Shape: 0.7},
			},
			{
				Kind:     model.ServerCrash,
				Target:   model.Target{Client: model.AllClients, Server: 0},
				Arrival:  model.Periodic,
				Every:    30 * time.Minute,
				Offset:   5 * time.Minute,
				Duration: model.Law{Kind: model.LawPareto, Scale: 1, Shape: 1.5},
			},
			{
				Kind:     model.ClientPause,
				Target:   model.Target{Client: 1, Server: model.AllServers},
				Arrival:  model.Poisson,
				Every:    240 * time.Hour,
				Duration: model.Law{Kind: model.LawFixed, Value: ms(250)},
			},
			{
				Kind:     model.Partition,
				Target:   model.Target{Client: model.AllClients, Server: model.AllServers, Servers: []int{1, 2}, ClientPaths: true},
				Arrival:  model.Scripted,
				At:       []time.Duration{20 * time.Minute},
				Duration: model.Law{Kind: model.LawFixed, Value: 60},
			},
			{
				Kind:     model.ServerPause,
				Target:   model.Target{Client: model.AllClients, Server: model.TheLeader},
				Arrival:  model.Poisson,
				Every:    24 * time.Hour,
				Duration: model.Law{Kind: model.LawLogNormal, Median: 2, Sigma: 1},
			},
			{
				Kind:        model.RollingRestart,
				Target:      model.Target{Client: model.AllClients, Server: model.AllServers},
				Arrival:     model.Scripted,
				At:          []time.Duration{90 * time.Minute},
				Duration:    model.Law{Kind: model.LawFixed, Value: 20},
				Gap:         30 * time.Second,
				LeaderFirst: true,
			},
		},
		DeadClientProbe: false,
	}
	assert.Equal(t, want, pts[0].Config)
}

// syn_linear_timeouts is the linear schedule's parameter: 0 is the classic
// schedule, and the linear schedule without it takes Linux's 4.
func TestLoadSYNSettings(t *testing.T) {
	t.Parallel()
	s, err := Parse("x.toml", []byte("[network]\nsyn_schedule = \"linear\"\nsyn_linear_timeouts = [0, 2]\nsyn_retries = 3\ntail_loss_probe = false\n"))
	require.NoError(t, err)
	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 2)
	for i, want := range []struct {
		syn    model.SYNSchedule
		linear int
	}{{model.SYNClassic, 0}, {model.SYNLinear, 2}} {
		n := pts[i].Config.Network
		assert.Equal(t, want.syn, n.SYN, "point %d", i)
		assert.Equal(t, want.linear, n.SYNLinearTimeouts, "point %d", i)
		assert.Equal(t, 3, n.SYNRetries, "point %d", i)
		assert.True(t, n.NoTailLossProbe, "point %d", i)
	}

	for _, tc := range []struct {
		src    string
		syn    model.SYNSchedule
		linear int
	}{
		{"", model.SYNClassic, 0},
		{"[network]\nsyn_schedule = \"classic\"\nsyn_linear_timeouts = 0\n", model.SYNClassic, 0},
		{"[network]\nsyn_schedule = \"linear\"\n", model.SYNLinear, model.DefaultSYNLinearTimeouts},
	} {
		s, err := Parse("x.toml", []byte(tc.src))
		require.NoError(t, err, tc.src)
		pts, err := s.Points()
		require.NoError(t, err, tc.src)
		n := pts[0].Config.Network
		assert.Equal(t, tc.syn, n.SYN, tc.src)
		assert.Equal(t, tc.linear, n.SYNLinearTimeouts, tc.src)
		assert.Equal(t, model.DefaultSYNRetries, n.SYNRetries, tc.src)
		assert.False(t, n.NoTailLossProbe, "the tail loss probe is on by default: %s", tc.src)
	}
}

func TestLoadEmpiricalCSV(t *testing.T) {
	s := mustLoad(t, "testdata/valid-csv.toml")
	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 1)
	require.Len(t, pts[0].Config.Faults, 1)
	law := pts[0].Config.Faults[0].Duration
	assert.Equal(t, model.LawEmpirical, law.Kind)
	assert.InDeltaSlice(t, []float64{0.05, 0.2, 1.5, 2, 0.15}, law.Samples, 1e-12)
}

func TestParseWithReadFile(t *testing.T) {
	data, err := os.ReadFile("testdata/valid-csv.toml")
	require.NoError(t, err)

	t.Run("without a reader", func(t *testing.T) {
		_, err := Parse("testdata/valid-csv.toml", data)
		assert.Equal(t, []string{
			"testdata/valid-csv.toml:9: fault[0].duration.csv: cannot read testdata/pauses.csv: this parse reads no files (use Load, or Parse with WithReadFile)",
		}, problemLines(t, err))
	})
	t.Run("paths relative to the spec", func(t *testing.T) {
		var asked []string
		s, err := Parse("dir/sub/exp.toml", data, WithReadFile(func(name string) ([]byte, error) {
			asked = append(asked, name)
			return []byte("1\n2\n"), nil
		}))
		require.NoError(t, err)
		assert.Equal(t, []string{filepath.Join("dir", "sub", "pauses.csv")}, asked)
		pts, err := s.Points()
		require.NoError(t, err)
		assert.InDeltaSlice(t, []float64{1, 2}, pts[0].Config.Faults[0].Duration.Samples, 1e-12)
	})
}

// TestSweepExpansionOrder checks that axes come in file order and the last
// axis varies fastest.
func TestSweepExpansionOrder(t *testing.T) {
	s := mustLoad(t, "testdata/valid-sweep.toml")
	axes := s.Axes()
	keys := make([]string, len(axes))
	for i, a := range axes {
		keys[i] = a.Key
	}
	require.Equal(t, []string{
		"server.count",
		"server.tick_time",
		"client.session_timeout",
		"fault[0].duration.value",
		"fault[1].duration.sigma",
	}, keys)
	assert.Equal(t, "", axes[0].Unit, "counts have no unit")
	assert.Equal(t, "s", axes[1].Unit)
	assert.Equal(t, "", axes[4].Unit, "sigma is a plain number")

	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 2*2*2*3*2)

	// Nested loops in file order, last axis innermost.
	i := 0
	for _, count := range axes[0].Values {
		for _, tick := range axes[1].Values {
			for _, timeout := range axes[2].Values {
				for _, dur := range axes[3].Values {
					for _, sigma := range axes[4].Values {
						p := pts[i]
						require.Equal(t, i, p.Index)
						got := []string{p.Params[0].Value, p.Params[1].Value, p.Params[2].Value, p.Params[3].Value, p.Params[4].Value}
						require.Equal(t, []string{count, tick, timeout, dur, sigma}, got, "point %d", i)
						for a, par := range p.Params {
							assert.Equal(t, axes[a].Key, par.Key)
						}
						i++
					}
				}
			}
		}
	}

	// The params really reach the configuration.
	p := pts[len(pts)-1]
	assert.Equal(t, 3, p.Config.Servers)
	assert.Equal(t, []int{0, 1, 2}, p.Config.Client.Hosts, "default hosts follow the swept count")
	assert.Equal(t, 3*time.Second, p.Config.Server.TickTime)
	assert.Equal(t, 6*time.Second, p.Config.Server.MinSessionTimeout, "default min follows the swept tick")
	assert.Equal(t, 30*time.Second, p.Config.Client.SessionTimeout)
	assert.InDelta(t, 10.0, p.Config.Faults[0].Duration.Value, 1e-12)
	assert.InDelta(t, 1.2, p.Config.Faults[1].Duration.Sigma, 1e-12)
	assert.InDelta(t, 2.0, p.Config.Faults[1].Duration.Median, 1e-12)
	assert.Equal(t, 500*time.Millisecond, p.Config.Faults[0].Phase)
	assert.True(t, p.Config.Faults[0].PhaseSet)
	assert.Equal(t, uint64(7), p.Config.Seed)
	assert.Equal(t, 5, p.Replications)
	assert.Equal(t, []int{0}, pts[0].Config.Client.Hosts)
}

func TestSweepShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		keys   []string
		points int
	}{
		{
			name:   "one-element array is still an axis",
			src:    "[client]\nsession_timeout = [\"10s\"]\n",
			keys:   []string{"client.session_timeout"},
			points: 1,
		},
		{
			name:   "file order, not schema order",
			src:    "[client]\nsession_timeout = [\"10s\", \"20s\"]\n[server]\ntick_time = [\"1s\", \"2s\", \"3s\"]\n",
			keys:   []string{"client.session_timeout", "server.tick_time"},
			points: 6,
		},
		{
			name: "law table params and shorthand",
			src: "[network]\nlatency = { law = \"uniform\", min = [\"0s\", \"1ms\"], max = \"5ms\" }\n" +
				"[[fault]]\nkind = \"outage\"\nat = [\"1m\"]\nduration = [\"1s\", \"2s\"]\n" +
				"[[fault]]\nkind = \"outage\"\nat = [\"2m\"]\nduration = { law = \"exponential\", mean = [\"1s\", \"3s\"] }\n",
			keys:   []string{"network.latency.min", "fault[0].duration", "fault[1].duration.mean"},
			points: 8,
		},
		{
			name: "sub-table law and swept every",
			src: "[[fault]]\nkind = \"client-pause\"\narrival = \"poisson\"\nevery = [\"1h\", \"2h\"]\n" +
				"[fault.duration]\nlaw = \"weibull\"\nscale = \"2s\"\nshape = [0.5, 1]\n",
			keys:   []string{"fault[0].every", "fault[0].duration.shape"},
			points: 4,
		},
		{
			name:   "arrays that are not sweeps",
			src:    "[server]\ncount = 3\n[client]\nhosts = [0, 2]\n[[fault]]\nkind = \"outage\"\nat = [\"1m\", \"2m\"]\nduration = \"1s\"\n[output]\ncharts = [\"tradeoff\"]\n",
			keys:   []string{},
			points: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("x.toml", []byte(tc.src))
			require.NoError(t, err)
			keys := []string{}
			for _, a := range s.Axes() {
				keys = append(keys, a.Key)
			}
			assert.Equal(t, tc.keys, keys)
			pts, err := s.Points()
			require.NoError(t, err)
			assert.Len(t, pts, tc.points)
		})
	}
}

func TestSweepTooLarge(t *testing.T) {
	t.Parallel()
	values := func(n int, unit string) string {
		v := make([]string, n)
		for i := range v {
			v[i] = `"` + strconv.Itoa(i+1) + unit + `"`
		}
		return "[" + strings.Join(v, ", ") + "]"
	}
	src := "[server]\ntick_time = " + values(100, "ms") + "\n" +
		"[client]\nsession_timeout = " + values(100, "s") + "\n" +
		"fixed_reconnect = " + values(101, "ms") + "\n"
	_, err := Parse("big.toml", []byte(src))
	assert.Equal(t, []string{
		"big.toml:5: client.fixed_reconnect: sweep too large: 100 × 100 × 101 = 1010000 points, more than 1000000",
	}, problemLines(t, err))
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"bad-typo.toml", []string{
			"testdata/bad-typo.toml:5: client.sesion_timeout: unknown key",
			"testdata/bad-typo.toml:11: fault[0].duration.valeu: unknown key",
			"testdata/bad-typo.toml:11: fault[0].duration.value: required by a fixed law (it takes value)",
		}},
		{"bad-negative.toml", []string{
			"testdata/bad-negative.toml:6: server.tick_time: must be positive, got -2s",
		}},
		{"bad-unitless.toml", []string{
			`testdata/bad-unitless.toml:5: client.session_timeout: missing unit, e.g. "10s"`,
			`testdata/bad-unitless.toml:6: client.fixed_reconnect: missing unit, e.g. "2s"`,
		}},
		{"bad-empty-sweep.toml", []string{
			"testdata/bad-empty-sweep.toml:5: client.session_timeout: empty sweep: give at least one value",
		}},
		{"bad-missing-csv.toml", []string{
			"testdata/bad-missing-csv.toml:8: fault[0].duration.csv: cannot read testdata/no-such.csv: no such file or directory",
		}},
		{"bad-csv-content.toml", []string{
			`testdata/bad-csv-content.toml:8: fault[0].duration.csv: testdata/pauses-bad.csv:4: "a long one" is not a number of seconds or a duration such as "1.5s"`,
		}},
		{"bad-minmax.toml", []string{
			"testdata/bad-minmax.toml:6: server.min_session_timeout: 50s is greater than server.max_session_timeout 40s",
		}},
		{"bad-zero-tick.toml", []string{
			"testdata/bad-zero-tick.toml:5: server.tick_time: must be positive, got 0s",
		}},
		{"bad-fault.toml", []string{
			"testdata/bad-fault.toml:3: experiment.replications: must be at least 1, got 0",
			"testdata/bad-fault.toml:8: server.leader: 3 is not a server index: server.count is 3",
			"testdata/bad-fault.toml:11: client.hosts: host 5 is not a server index: server.count is 3",
			`testdata/bad-fault.toml:13: fault[0].at: a scripted fault needs start times, e.g. at = ["30s"]`,
			"testdata/bad-fault.toml:15: fault[0].clients: client 2 does not exist: experiment.clients is 2",
			"testdata/bad-fault.toml:21: fault[1].every: must be positive, got 0s",
			"testdata/bad-fault.toml:22: fault[1].phase: only scripted faults take a phase",
			`testdata/bad-fault.toml:23: fault[1].duration.law: unknown value "gamma"; want one of "fixed", "uniform", "exponential", "lognormal", "weibull", "pareto", "empirical"`,
			"testdata/bad-fault.toml:29: fault[2].duration.sigma: required by a lognormal law (it takes median and sigma)",
			`testdata/bad-fault.toml:31: fault[3].server: a server crash needs one server: an index, "leader" or "follower" ("all" only works with server.count = 1); server.count is 3`,
			"testdata/bad-fault.toml:34: fault[3].duration.min: 5s is not less than max 1s",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s, err := Load(filepath.Join("testdata", tc.file))
			assert.Nil(t, s)
			assert.Equal(t, tc.want, problemLines(t, err))
		})
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Load("testdata/bad-syntax.toml")
	lines := problemLines(t, err)
	assert.Equal(t, "testdata/bad-syntax.toml:5: syntax error: strings cannot contain newlines", lines[0])
	assert.Contains(t, err.Error(), `5 | session_timeout = "10s`, "the excerpt of ErrorWithPosition follows")
	var pe toml.ParseError
	assert.ErrorAs(t, err, &pe, "the toml.ParseError is still reachable")
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-spec.toml")
	assert.Equal(t, []string{"testdata/no-such-spec.toml: cannot read: no such file or directory"}, problemLines(t, err))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestSpecErrorUnwrap(t *testing.T) {
	_, err := Load("testdata/bad-missing-csv.toml")
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the CSV read error is wrapped")
	var p Problem
	require.ErrorAs(t, err, &p)
	assert.Equal(t, Problem{
		File: "testdata/bad-missing-csv.toml",
		Line: 8,
		Key:  "fault[0].duration.csv",
		Msg:  "cannot read testdata/no-such.csv: no such file or directory",
		err:  p.err,
	}, p)
}

// TestParseProblems covers the checks that the testdata files do not.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown keys everywhere, sorted by line, children not repeated",
			src: "[experiment]\nhorizon = \"1h\"\nnmae = \"x\"\n[serve]\ncount = 1\n[[fault]]\nkind = \"outage\"\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"outage\"\nat = [\"1m\"]\nkidn = 2\nduration = { law = \"fixed\", value = \"1s\", unit = \"s\" }\ntop = 1\n",
			want: []string{
				"x.toml:3: experiment.nmae: unknown key",
				"x.toml:4: serve: unknown key",
				"x.toml:13: fault[1].kidn: unknown key",
				"x.toml:14: fault[1].duration.unit: unknown key",
				"x.toml:15: fault[1].top: unknown key",
			},
		},
		{
			name: "keys are case-sensitive",
			src:  "[server]\nTick_Time = \"2s\"\n",
			want: []string{`x.toml:2: server.Tick_Time: keys are case-sensitive: write "tick_time"`},
		},
		{
			name: "wrong types",
			src: "[experiment]\nseed = -1\nreplications = \"10\"\nclients = 1.5\ndead_client_probe = \"yes\"\n" +
				"[server]\ncount = [1, \"3\"]\ntick_time = true\n[client]\nversion = 3.8\nhost_order = \"random\"\nhosts = 1\n",
			want: []string{
				"x.toml:2: experiment.seed: must be a non-negative integer, got -1",
				`x.toml:3: experiment.replications: must be an integer, got "10"`,
				"x.toml:4: experiment.clients: must be an integer, got 1.5",
				`x.toml:5: experiment.dead_client_probe: must be true or false, got "yes"`,
				`x.toml:7: server.count: must be an integer, got "3"`,
				`x.toml:8: server.tick_time: must be a duration such as "10s", got true`,
				`x.toml:10: client.version: must be one of "3.3", "3.8", "3.9" (a string), got 3.8`,
				`x.toml:11: client.host_order: unknown value "random"; want one of "shuffled", "given"`,
				"x.toml:12: client.hosts: must be an array of server indices, e.g. [0, 1, 2], got 1",
			},
		},
		{
			name: "tables of the wrong shape",
			src:  "server = 3\n[fault]\nkind = \"outage\"\n",
			want: []string{
				"x.toml:1: server: must be a table ([server]), got an integer",
				"x.toml:2: fault: must be an array of tables: write each fault as a [[fault]] section",
			},
		},
		{
			name: "settings that cannot be swept",
			src:  "[experiment]\nreplications = [1, 2]\nhorizon = [\"1h\"]\n",
			want: []string{
				"x.toml:2: experiment.replications: cannot be swept: give one value",
				"x.toml:3: experiment.horizon: cannot be swept: give one value",
			},
		},
		{
			name: "bad durations",
			src:  "[server]\ntick_time = \"2 seconds\"\nquorum_latency = \"0s\"\n[client]\nsession_timeout = [\"10s\", \"-1s\", 30]\n",
			want: []string{
				`x.toml:2: server.tick_time: "2 seconds" is not a duration (write e.g. "10s", "500ms", "1m30s" or "2d")`,
				"x.toml:3: server.quorum_latency: must be positive, got 0s",
				`x.toml:5: client.session_timeout: missing unit, e.g. "30s"`,
			},
		},
		{
			name: "negative swept value",
			src:  "[client]\nsession_timeout = [\"10s\", \"-1s\"]\n",
			want: []string{"x.toml:2: client.session_timeout: must be positive, got -1s"},
		},
		{
			name: "counts and indices",
			src: "[experiment]\nclients = 0\n[server]\ncount = 0\nleader = -1\n[client]\nhosts = []\n[network]\norphan_retries = -1\ndata_retries = 0\n" +
				"rto_min = \"2s\"\nrto_max = \"1s\"\n",
			want: []string{
				"x.toml:2: experiment.clients: must be at least 1, got 0",
				"x.toml:4: server.count: must be at least 1, got 0",
				"x.toml:5: server.leader: must not be negative, got -1",
				"x.toml:7: client.hosts: empty hosts list; leave the key out to use every server",
				"x.toml:9: network.orphan_retries: must not be negative, got -1",
				"x.toml:10: network.data_retries: must be at least 1, got 0",
				"x.toml:11: network.rto_min: 2s is greater than network.rto_max 1s",
			},
		},
		{
			name: "syn settings",
			src:  "[network]\nsyn_retries = [0, 128]\nsyn_linear_timeouts = -1\ntail_loss_probe = \"on\"\nsyn_schedule = \"fast\"\n",
			want: []string{
				"x.toml:2: network.syn_retries: must be at least 1, got 0",
				"x.toml:2: network.syn_retries: must be at most 127 (Linux's limit), got 128",
				"x.toml:3: network.syn_linear_timeouts: must not be negative, got -1",
				`x.toml:4: network.tail_loss_probe: must be true or false, got "on"`,
				`x.toml:5: network.syn_schedule: unknown value "fast"; want one of "classic", "linear"`,
			},
		},
		{
			name: "linear timeouts need the linear schedule",
			src:  "[network]\nsyn_linear_timeouts = [0, 4]\n",
			want: []string{`x.toml:2: network.syn_linear_timeouts: 4 needs syn_schedule = "linear"; the classic schedule (the default) has no linear timeouts`},
		},
		{
			name: "default max below a written min",
			src:  "[server]\ntick_time = \"1s\"\nmin_session_timeout = \"30s\"\n",
			want: []string{"x.toml:3: server.min_session_timeout: 30s is greater than server.max_session_timeout 20s (default 20 × tick_time)"},
		},
		{
			name: "fault structure",
			src: "[[fault]]\nclients = \"some\"\nshared = true\nat = \"1m\"\n" +
				"[[fault]]\nkind = \"client-pause\"\nclients = 0\nshared = true\nserver = 1\ndirection = \"both\"\nat = [\"1m\"]\nevery = \"1h\"\noffset = \"1s\"\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"server-crash\"\nclients = 0\narrival = \"periodic\"\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"outage\"\narrival = \"sometimes\"\nduration = { law = \"lognormal\", median = 2, sigma = \"1\" }\n" +
				"[[fault]]\nkind = \"outage\"\nat = [\"-1s\", 5]\nphase = \"1s\"\nduration = { mean = \"1s\" }\n",
			want: []string{
				"x.toml:1: fault[0].duration: required: a duration such as \"10s\" or a law table such as { law = \"exponential\", mean = \"5s\" }",
				`x.toml:1: fault[0].kind: required: one of "outage", "server-crash", "client-pause", "partition", "server-pause", "rolling-restart"`,
				`x.toml:2: fault[0].clients: must be "all" or a client index (0, 1, ...), got "some"`,
				`x.toml:8: fault[1].shared: only applies with clients = "all"`,
				"x.toml:9: fault[1].server: a client pause hits clients, not servers",
				"x.toml:10: fault[1].direction: only an outage has a direction, not a client-pause",
				"x.toml:12: fault[1].every: only poisson and periodic faults take every",
				"x.toml:13: fault[1].offset: only poisson and periodic faults take an offset",
				"x.toml:15: fault[2].every: a periodic fault needs every (its period)",
				"x.toml:17: fault[2].clients: a server crash hits servers, not clients",
				"x.toml:19: fault[2].at: only scripted faults take start times",
				`x.toml:23: fault[3].arrival: unknown value "sometimes"; want one of "scripted", "poisson", "periodic"`,
				`x.toml:24: fault[3].duration.median: missing unit, e.g. "2s"`,
				`x.toml:24: fault[3].duration.sigma: must be a number, got "1"`,
				`x.toml:27: fault[4].at: missing unit, e.g. "5s"`,
				"x.toml:27: fault[4].at: start time -1s is negative",
				"x.toml:28: fault[4].phase: a phase anchors episodes to one session: set clients to a client index, or shared = true to anchor to client 0",
				`x.toml:29: fault[4].duration.law: required: one of "fixed", "uniform", "exponential", "lognormal", "weibull", "pareto", "empirical"`,
			},
		},
		{
			name: "law parameters",
			src: "[client]\nrequest_interval = \"0s\"\n[network]\nlatency = { law = \"exponential\", mean = \"1ms\", sigma = 1 }\n" +
				"[[fault]]\nkind = \"outage\"\nat = [\"1m\"]\nduration = { law = \"weibull\", scale = \"0s\", shape = -1 }\n",
			want: []string{
				"x.toml:2: client.request_interval: must be positive, got 0s",
				"x.toml:4: network.latency.sigma: an exponential law does not take sigma (it takes mean)",
				"x.toml:8: fault[0].duration.scale: must be positive, got 0s",
				"x.toml:8: fault[0].duration.shape: must be positive, got -1",
			},
		},
		{
			name: "ensemble faults",
			src: "[server]\ncount = 3\nsync_limit = 0\nresume_order = \"random\"\nfinalize_wait = \"2m\"\n" +
				"[[fault]]\nkind = \"partition\"\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"partition\"\nservers = [0, 1, 2]\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"server-pause\"\nclients = 1\ngap = \"1s\"\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"rolling-restart\"\nserver = \"leader\"\nclient_paths = \"cut\"\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"server-crash\"\nserver = \"chief\"\nat = [\"1m\"]\nduration = \"1s\"\n" +
				"[[fault]]\nkind = \"partition\"\nservers = [1, 1, 5]\nat = [\"1m\"]\nduration = \"1s\"\n",
			want: []string{
				"x.toml:3: server.sync_limit: must be at least 1, got 0",
				`x.toml:4: server.resume_order: unknown value "random"; want one of "expirer-first", "requests-first"`,
				"x.toml:5: server.finalize_wait: 2m is longer than server.max_notification_interval 1m",
				`x.toml:6: fault[0].server: a partition needs the servers it cuts off: server = "leader", "follower" or an index, or servers = [0, 1]`,
				"x.toml:12: fault[1].servers: cuts off every server: a partition needs servers on both sides",
				`x.toml:15: fault[2].server: a server pause needs one server: an index, "leader" or "follower" ("all" only works with server.count = 1); server.count is 3`,
				"x.toml:17: fault[2].clients: a server pause hits servers, not clients",
				"x.toml:18: fault[2].gap: only a rolling restart takes a gap, not a server pause",
				"x.toml:23: fault[3].server: a rolling restart restarts every server; it takes no server",
				"x.toml:24: fault[3].client_paths: only a partition takes client_paths, not a rolling restart",
				`x.toml:29: fault[4].server: must be "all", "leader", "follower" or a server index (0, 1, ...), got "chief"`,
				"x.toml:34: fault[5].servers: server 1 is listed twice",
			},
		},
		{
			name: "output",
			src:  "[experiment]\nname = \"a/b\"\n[output]\ndir = \"\"\ncharts = [\"pie\", 3]\n",
			want: []string{
				`x.toml:2: experiment.name: "a/b" cannot be a directory name`,
				"x.toml:4: output.dir: must not be empty",
				"x.toml:5: output.charts: chart names are strings, got an integer",
				`x.toml:5: output.charts: unknown chart "pie"; want one of "expiry-vs-timeout", "expiry-vs-outage", "tradeoff", "mass-expiry", "failover"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("x.toml", []byte(tc.src))
			assert.Nil(t, s)
			assert.Equal(t, tc.want, problemLines(t, err))
		})
	}
}

func TestSpecWarnings(t *testing.T) {
	s := mustLoad(t, "testdata/clamped.toml")
	assert.Equal(t, []string{
		"client.session_timeout: requested 2s is outside the server's [4s, 40s]; ZooKeeper clamps it to 4s",
		"client.session_timeout: requested 60s is outside the server's [4s, 40s]; ZooKeeper clamps it to 40s",
		"client.session_timeout: requested 2s is outside the server's [6s, 1m]; ZooKeeper clamps it to 6s",
		"fault[0].at: start time 10m (#2) is not before the horizon 5m; that episode never happens",
	}, s.Warnings())
	pts, err := s.Points()
	require.NoError(t, err)
	require.Len(t, pts, 6)
	// The request stays as written; the model negotiates.
	assert.Equal(t, 60*time.Second, pts[2].Config.Client.SessionTimeout)
	assert.Equal(t, 40*time.Second, pts[2].Config.Server.Negotiate(pts[2].Config.Client.SessionTimeout))
}

func TestSpecValidate(t *testing.T) {
	s := mustLoad(t, "testdata/valid-sweep.toml")
	before, err := s.Points()
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	require.NoError(t, s.Validate())
	after, err := s.Points()
	require.NoError(t, err)
	assert.Equal(t, before, after, "Validate does not mutate")

	s.Replications = 0
	s.Horizon = -time.Second
	err = s.Validate()
	assert.Equal(t, []string{
		"testdata/valid-sweep.toml:4: experiment.replications: must be at least 1, got 0",
		"testdata/valid-sweep.toml:5: experiment.horizon: must be positive, got -1s",
	}, problemLines(t, err))
	assert.Equal(t, 0, s.Replications, "Validate does not repair")
}

func TestParseDurationText(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"10s":    10 * time.Second,
		"500us":  500 * time.Microsecond,
		"1m30s":  90 * time.Second,
		"10d":    240 * time.Hour,
		"1.5d":   36 * time.Hour,
		"1d12h":  36 * time.Hour,
		"-2s":    -2 * time.Second,
		" 3ms ":  3 * time.Millisecond,
		"2h0.5d": 14 * time.Hour,
	}
	for in, want := range good {
		got, err := parseDurationText(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"10", "0", "1.5", "-3"} {
		_, err := parseDurationText(in)
		assert.ErrorIs(t, err, errMissingUnit, in)
	}
	for _, in := range []string{"", "abc", "10 s", "d", "1dd", "5x"} {
		_, err := parseDurationText(in)
		assert.Error(t, err, in)
	}
}

func TestSpecKeyLines(t *testing.T) {
	t.Parallel()
	src := `# comment [not] = a header
title = "x = [y]"
[server]
tick_time = "2s"
sub.deep = 1
"quoted key" = 2
[client]
session_timeout = [
  "10s", # comment ]
  "30s",
]
request_interval = { law = "exponential", mean = "2s" }
text = """
[fake]
x = 1
"""
after = 1
[[fault]]
kind = "outage"
[fault.duration]
law = "fixed"
[[fault]]
duration = { law = "lognormal", median = "2s", sigma = 1.2 }
`
	_, err := toml.Decode(src, new(map[string]any))
	require.NoError(t, err, "the fixture is valid TOML")
	k := indexKeyLines(src)
	want := map[string]int{
		"title":                        2,
		"server":                       3,
		"server.tick_time":             4,
		"server.sub.deep":              5,
		"server.quoted key":            6,
		"client.session_timeout":       8,
		"client.request_interval":      12,
		"client.request_interval.mean": 12,
		"client.text":                  13,
		"client.after":                 17,
		"fault[0]":                     18,
		"fault[0].kind":                19,
		"fault[0].duration":            20,
		"fault[0].duration.law":        21,
		"fault[1]":                     22,
		"fault[1].duration.sigma":      23,
		"fault[1].nonexistent":         22, // falls back to its table
		"fault[1].duration.x.y":        23,
		"client.fake.x":                7,
		"fake.x":                       0, // inside a string: not a table
		"SERVER.TICK_TIME":             4, // case-insensitive fallback
		"nothing":                      0,
	}
	for key, line := range want {
		assert.Equal(t, line, k.find(key), key)
	}
}

func TestSpecKeyLinesNeverPanics(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "[", "[[", "a", "a =", "a = {", "a = [", `a = "`, `a = """`, "[a.\"b", "= 1", "a = { b", "a = { b = [ {"} {
		assert.NotPanics(t, func() { indexKeyLines(src) }, "%q", src)
	}
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.toml", "examples/*.toml"} {
		files, err := filepath.Glob(glob)
		require.NoError(f, err)
		for _, path := range files {
			data, err := os.ReadFile(path)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.toml", data, WithReadFile(func(string) ([]byte, error) { return []byte("1\n2\n"), nil }))
		if err != nil {
			var se *SpecError
			require.ErrorAs(t, err, &se)
			require.NotEmpty(t, se.Problems)
			return
		}
		pts, err := s.Points()
		require.NoError(t, err)
		require.NotEmpty(t, pts)
		s.Warnings()
		require.NoError(t, s.Validate())
	})
}
