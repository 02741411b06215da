package experiments

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/model"
)

// parseSpec parses src as x.toml, failing the test on an error.
func parseSpec(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := Parse("x.toml", []byte(src))
	require.NoError(t, err, src)
	return s
}

// faultsOf is the faults of the spec's first point.
func faultsOf(t *testing.T, s *Spec) []model.Fault {
	t.Helper()
	pts, err := s.Points()
	require.NoError(t, err)
	require.NotEmpty(t, pts)
	return pts[0].Config.Faults
}

const presetHeader = "[experiment]\nhorizon = \"1h\"\nreplications = 2\n[server]\ncount = 3\n"

// handWritten is each preset written out key by key: what the example files
// said before they named the presets. A preset must expand to exactly this.
var handWritten = map[string]string{
	"cloud-vm": `
[[fault]]
kind = "client-pause"
clients = "all"
shared = false
arrival = "poisson"
every = "14d"
duration = { law = "uniform", min = "100ms", max = "1s" }
[[fault]]
kind = "client-pause"
clients = "all"
shared = false
arrival = "poisson"
every = "30d"
duration = { law = "pareto", scale = "1s", shape = 1.2 }`,
	"dc-blip": `
[[fault]]
kind = "outage"
clients = "all"
shared = true
server = "all"
direction = "both"
arrival = "poisson"
every = "10d"
duration = { law = "lognormal", median = "2s", sigma = 1.22 }`,
	"ec2-flap": `
[[fault]]
kind = "outage"
clients = "all"
shared = false
server = "all"
direction = "both"
arrival = "poisson"
every = "8h"
duration = { law = "lognormal", median = "3s", sigma = 0.6 }`,
	"incident": `
[[fault]]
kind = "outage"
clients = "all"
shared = true
server = "all"
direction = "both"
arrival = "poisson"
every = "120d"
duration = { law = "lognormal", median = "32m", sigma = 0.9 }`,
	"jvm-gc": `
[[fault]]
kind = "client-pause"
clients = "all"
shared = false
arrival = "periodic"
every = "20s"
offset = "7s"
duration = { law = "uniform", min = "40ms", max = "60ms" }
[[fault]]
kind = "client-pause"
clients = "all"
shared = false
arrival = "poisson"
every = "6h"
duration = { law = "lognormal", median = "5.5s", sigma = 0.87 }`,
	"link-repair": `
[[fault]]
kind = "outage"
clients = "all"
shared = false
server = 0
direction = "both"
arrival = "poisson"
every = "30d"
duration = { law = "lognormal", median = "5m", sigma = 2.0 }`,
}

func TestPresetsLoad(t *testing.T) {
	t.Parallel()
	ps := Presets()
	require.GreaterOrEqual(t, len(ps), 6)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	assert.IsNonDecreasing(t, names, "sorted by name")
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			assert.NotEmpty(t, p.Summary)
			assert.NotEmpty(t, p.Source)
			assert.NotEmpty(t, p.Assumption)
			require.NotEmpty(t, p.Components)
			want, ok := handWritten[p.Name]
			require.True(t, ok, "every preset has a hand-written twin")

			got := faultsOf(t, parseSpec(t, presetHeader+"[[fault]]\npreset = \""+p.Name+"\"\n"))
			assert.Equal(t, faultsOf(t, parseSpec(t, presetHeader+want)), got)
			assert.Len(t, got, len(p.Components))

			// Each component alone, by its name, and its TOML as written
			// in a file, give that component's fault.
			for i, c := range p.Components {
				if len(p.Components) > 1 {
					assert.True(t, strings.HasPrefix(c.Name, p.Name+"/"), c.Name)
				} else {
					assert.Equal(t, p.Name, c.Name)
				}
				one, ok := PresetByName(c.Name)
				require.True(t, ok, c.Name)
				require.Len(t, one.Components, 1)
				alone := faultsOf(t, parseSpec(t, presetHeader+"[[fault]]\npreset = \""+c.Name+"\"\n"))
				assert.Equal(t, got[i:i+1], alone, c.Name)
				copied := faultsOf(t, parseSpec(t, presetHeader+"[[fault]]\n"+c.TOML+"\n"))
				assert.Equal(t, got[i:i+1], copied, c.Name)
			}
		})
	}
	assert.Len(t, handWritten, len(ps))
}

func TestPresetNames(t *testing.T) {
	t.Parallel()
	names := PresetNames()
	for _, n := range []string{"dc-blip", "ec2-flap", "cloud-vm", "jvm-gc", "link-repair", "incident", "jvm-gc/young", "jvm-gc/full"} {
		assert.Contains(t, names, n)
	}
	_, ok := PresetByName("jvm-gc/nope")
	assert.False(t, ok)
	_, ok = PresetByName("dc-blip/dc-blip")
	assert.False(t, ok, "a single-component preset has no part names")
}

func TestPresetOverrides(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name  string
		fault string
		check func(t *testing.T, fs []model.Fault, s *Spec)
	}{
		{
			name:  "a written key overrides the preset's",
			fault: "preset = \"ec2-flap\"\nevery = \"1h\"\nclients = 0\n",
			check: func(t *testing.T, fs []model.Fault, _ *Spec) {
				require.Len(t, fs, 1)
				assert.Equal(t, time.Hour, fs[0].Every)
				assert.Equal(t, 0, fs[0].Target.Client)
				assert.False(t, fs[0].Target.Shared)
				assert.Equal(t, model.Poisson, fs[0].Arrival, "kept")
				assert.Equal(t, model.Law{Kind: model.LawLogNormal, Median: 3, Sigma: 0.6}, fs[0].Duration, "kept")
			},
		},
		{
			name:  "a law table without law overrides single parameters, and sweeps",
			fault: "preset = \"dc-blip\"\nduration = { median = [\"1s\", \"5s\"] }\n",
			check: func(t *testing.T, fs []model.Fault, s *Spec) {
				axes := s.Axes()
				require.Len(t, axes, 1)
				assert.Equal(t, "fault[0].duration.median", axes[0].Key)
				pts, err := s.Points()
				require.NoError(t, err)
				require.Len(t, pts, 2)
				assert.Equal(t, model.Law{Kind: model.LawLogNormal, Median: 1, Sigma: 1.22}, pts[0].Config.Faults[0].Duration)
				assert.Equal(t, model.Law{Kind: model.LawLogNormal, Median: 5, Sigma: 1.22}, pts[1].Config.Faults[0].Duration)
			},
		},
		{
			name:  "a law with its kind, or a plain duration, replaces the law",
			fault: "preset = \"dc-blip\"\nduration = { law = \"exponential\", mean = \"4s\" }\n[[fault]]\npreset = \"dc-blip\"\nduration = \"9s\"\n",
			check: func(t *testing.T, fs []model.Fault, _ *Spec) {
				require.Len(t, fs, 2)
				assert.Equal(t, model.Law{Kind: model.LawExponential, Mean: 4}, fs[0].Duration)
				assert.Equal(t, model.Law{Kind: model.LawFixed, Value: 9}, fs[1].Duration)
			},
		},
		{
			name:  "scripted arrival drops the preset's every",
			fault: "preset = \"incident\"\narrival = \"scripted\"\nat = [\"10m\"]\n",
			check: func(t *testing.T, fs []model.Fault, _ *Spec) {
				require.Len(t, fs, 1)
				assert.Equal(t, model.Scripted, fs[0].Arrival)
				assert.Equal(t, []time.Duration{10 * time.Minute}, fs[0].At)
				assert.Zero(t, fs[0].Every)
				assert.True(t, fs[0].Target.Shared, "kept")
			},
		},
		{
			name:  "another kind drops the keys that do not apply to it",
			fault: "preset = \"ec2-flap\"\nkind = \"client-pause\"\n[[fault]]\npreset = \"link-repair\"\nkind = \"server-crash\"\n",
			check: func(t *testing.T, fs []model.Fault, _ *Spec) {
				require.Len(t, fs, 2)
				assert.Equal(t, model.ClientPause, fs[0].Kind)
				assert.Equal(t, model.AllServers, fs[0].Target.Server)
				assert.Equal(t, model.ServerCrash, fs[1].Kind)
				assert.Equal(t, model.Target{Client: model.AllClients, Server: 0}, fs[1].Target)
				assert.Equal(t, 30*day, fs[1].Every)
			},
		},
		{
			name:  "a mixture takes target overrides for every part",
			fault: "preset = \"jvm-gc\"\nclients = 0\n",
			check: func(t *testing.T, fs []model.Fault, _ *Spec) {
				require.Len(t, fs, 2)
				for _, f := range fs {
					assert.Equal(t, model.Target{Client: 0, Server: model.AllServers}, f.Target)
				}
				assert.Equal(t, model.Periodic, fs[0].Arrival)
				assert.Equal(t, 6*time.Hour, fs[1].Every)
			},
		},
		{
			name:  "a part of a mixture takes any override",
			fault: "preset = \"jvm-gc/full\"\nevery = \"1h\"\nduration = { sigma = 0.5 }\n",
			check: func(t *testing.T, fs []model.Fault, _ *Spec) {
				require.Len(t, fs, 1)
				assert.Equal(t, time.Hour, fs[0].Every)
				assert.Equal(t, model.Law{Kind: model.LawLogNormal, Median: 5.5, Sigma: 0.5}, fs[0].Duration)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := parseSpec(t, presetHeader+"[[fault]]\n"+tc.fault)
			tc.check(t, faultsOf(t, s), s)
		})
	}
}

func TestPresetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault string
		want  []string
	}{
		{
			name:  "unknown preset lists the known ones",
			fault: "preset = \"ec2-flop\"\n",
			want: []string{`x.toml:7: fault[0].preset: unknown preset "ec2-flop"; want one of "cloud-vm", "cloud-vm/migration", ` +
				`"cloud-vm/maintenance", "dc-blip", "ec2-flap", "incident", "jvm-gc", "jvm-gc/young", "jvm-gc/full", "link-repair" (see "hbsim presets")`},
		},
		{
			name:  "not a string",
			fault: "preset = 3\n",
			want:  []string{"x.toml:7: fault[0].preset: must be a string, got 3"},
		},
		{
			name:  "an override is still checked, at its line",
			fault: "preset = \"ec2-flap\"\nevery = \"8\"\ndirection = \"sideways\"\n",
			want: []string{
				`x.toml:8: fault[0].every: missing unit, e.g. "8s"`,
				`x.toml:9: fault[0].direction: unknown value "sideways"; want one of "both", "client-to-server", "server-to-client"`,
			},
		},
		{
			name:  "a mixture refuses timing overrides",
			fault: "preset = \"jvm-gc\"\nevery = \"1h\"\n",
			want: []string{`x.toml:8: fault[0].every: preset "jvm-gc" mixes 2 faults; a table naming it may set only ` +
				`clients, shared, server, direction (for every part): to change every, write one [[fault]] per part, ` +
				`with preset = "jvm-gc/young" or "jvm-gc/full"`},
		},
		{
			name:  "a parameter the preset's law does not take",
			fault: "preset = \"jvm-gc/full\"\nduration = { min = \"1s\" }\n",
			want:  []string{"x.toml:8: fault[0].duration.min: a lognormal law does not take min (it takes median and sigma)"},
		},
		{
			name:  "unknown keys are still unknown",
			fault: "preset = \"dc-blip\"\nevry = \"1d\"\n",
			want:  []string{"x.toml:8: fault[0].evry: unknown key"},
		},
		{
			name:  "scripted without start times",
			fault: "preset = \"dc-blip\"\narrival = \"scripted\"\n",
			want:  []string{`x.toml:6: fault[0].at: a scripted fault needs start times, e.g. at = ["30s"]`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("x.toml", []byte(presetHeader+"[[fault]]\n"+tc.fault))
			assert.Equal(t, tc.want, problemLines(t, err))
		})
	}
}

// TestPresetExamplesRun runs every example that names a preset, with few
// replications.
func TestPresetExamplesRun(t *testing.T) {
	files, err := filepath.Glob("examples/preset-*.toml")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, n := range PresetNames() {
				if strings.Contains(string(data), "preset = \""+n+"\"") {
					p, _ := PresetByName(n)
					seen[strings.Split(p.Name, "/")[0]] = true
				}
			}
			s := mustLoad(t, path)
			s.Replications = 2
			res, err := Run(context.Background(), s, RunOptions{Check: true})
			require.NoError(t, err, path)
			require.Len(t, res.Points, 3)
			for _, p := range res.Points {
				m, ok := p.Metric(MetricExpiryRate)
				require.True(t, ok)
				assert.Positive(t, m.Trials, "session-days observed")
			}
		})
	}
	for _, p := range Presets() {
		assert.True(t, seen[p.Name], "preset %s has an example that names it", p.Name)
	}
}
