package experiments

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// PresetCaveat is what every preset is: its numbers are read off published
// data from other people's systems.
const PresetCaveat = "an assumption, not a measurement of your network"

// Preset is a named fault profile built on published outage and pause data
// (see ../shared/reference/outage-data.md). A [[fault]] table that says
// preset = "NAME" takes the preset's keys as defaults; every key written in
// the table overrides the preset's.
//
// A preset with one component expands to one fault. A preset with several
// components (a mixture, such as jvm-gc's young and full collections)
// expands to one fault per component, in order; such a table may override
// only the target keys (clients, shared, server, direction), which then apply
// to every component. To change a component's timing or duration, name the
// component instead (preset = "jvm-gc/full"): each component is a preset of
// its own, and one [[fault]] per component rebuilds the mixture.
//
// When an override makes a preset key inapplicable, that preset key is
// dropped rather than reported: arrival = "scripted" drops the preset's every
// and offset; kind = "client-pause" drops its server and direction;
// kind = "server-crash" drops its clients, shared and direction; a client
// index in clients drops its shared. A duration table without a law key
// overrides single parameters of the preset's law (duration = { median =
// ["2s", "5s"] } sweeps a lognormal preset's median and keeps its sigma); a
// duration with a law key, or a plain duration, replaces the law.
type Preset struct {
	Name       string
	Summary    string // one line
	Source     string // the published data the preset approximates
	Assumption string // how the numbers were read off the source
	Components []PresetComponent
}

// PresetComponent is one fault process of a preset.
type PresetComponent struct {
	// Name is "preset/part" when the preset has several components, else
	// the preset's name.
	Name string
	What string // what the component models, e.g. "full collections"
	// TOML is the [[fault]] keys the component sets, one "key = value" per
	// line, exactly as they could be written in an experiment file.
	TOML string

	ft  faultTOML // TOML decoded
	md  toml.MetaData
	raw map[string]any
}

// presetTable is the built-in presets, sorted by name. Their numbers are
// those of experiments/examples/preset-*.toml, which explain them at length.
var presetTable = []Preset{
	{
		Name:    "cloud-vm",
		Summary: "the client's VM is paused by the cloud provider's host maintenance (a paused client sends no pings)",
		Source: "GCE live migration documentation (blackout typically well under 1 s); Azure maintenance documentation " +
			"(live-migration pause typically 5 s or less, some memory-preserving maintenance pauses about 30 s); " +
			"Clark et al., NSDI 2005 (Xen live migration downtime 60-210 ms)",
		Assumption: "two independent kinds of pause per client VM: a live migration every 14 days on average (Poisson) " +
			"pausing 100 ms to 1 s (uniform), as on GCE; and a maintenance pause every 30 days on average, Pareto with " +
			"scale 1 s and shape 1.2, so P(> 5 s) = 15 % and P(> 30 s) = 1.7 % (\"5 s or less, rarely 30 s\", as on Azure)",
		Components: []PresetComponent{
			{Name: "cloud-vm/migration", What: "live migrations, as on GCE", TOML: `
kind = "client-pause"
clients = "all"
shared = false
arrival = "poisson"
every = "14d"
duration = { law = "uniform", min = "100ms", max = "1s" }`},
			{Name: "cloud-vm/maintenance", What: "maintenance pauses, as on Azure", TOML: `
kind = "client-pause"
clients = "all"
shared = false
arrival = "poisson"
every = "30d"
duration = { law = "pareto", scale = "1s", shape = 1.2 }`},
		},
	},
	{
		Name:    "dc-blip",
		Summary: "rare, short data-centre network blips that cut every client off at once",
		Source: "Burrows, \"The Chubby lock service for loosely-coupled distributed systems\", OSDI 2006, section 4.1: " +
			"61 outages in 700 cell-days, most lasting 15 s or less, 52 of the 61 under 30 s",
		Assumption: "a Poisson process of about one blip per 10 days (Chubby: one per 11.5 cell-days), each hitting every " +
			"client's paths to every server at once, lasting a lognormal time with median 2 s and sigma 1.22 (p95 = 15 s); " +
			"99 % are under 30 s where Chubby saw 85 %, so the preset is on the optimistic side",
		Components: []PresetComponent{{Name: "dc-blip", What: "shared blips", TOML: `
kind = "outage"
clients = "all"
shared = true
server = "all"
direction = "both"
arrival = "poisson"
every = "10d"
duration = { law = "lognormal", median = "2s", sigma = 1.22 }`}},
	},
	{
		Name:    "ec2-flap",
		Summary: "frequent partitions of a few seconds between each cloud VM and the ensemble",
		Source: "Bailis and Kingsbury, \"The Network is Reliable\", ACM Queue 12(7), 2014: EC2 partitions of a few " +
			"seconds, reported several times a month and later 2-4 times a day",
		Assumption: "each client's paths flap on their own (independent Poisson processes), 3 times a day on average, " +
			"for a lognormal time with median 3 s and sigma 0.6 (p95 about 8 s)",
		Components: []PresetComponent{{Name: "ec2-flap", What: "per-client flaps", TOML: `
kind = "outage"
clients = "all"
shared = false
server = "all"
direction = "both"
arrival = "poisson"
every = "8h"
duration = { law = "lognormal", median = "3s", sigma = 0.6 }`}},
	},
	{
		Name:    "incident",
		Summary: "a major network incident that cuts the whole deployment off for tens of minutes",
		Source: "Govindan et al., \"Evolve or Die: High-Availability Design Principles Drawn from Google's Network " +
			"Infrastructure\", SIGCOMM 2016: 103 network incident post-mortems over 2 years, about 80 % lasting 10 to 100 minutes",
		Assumption: "a Poisson process of 3 incidents a year (every 120 days on average), each hitting every client and " +
			"server path at once, lasting a lognormal time with median 32 min and sigma 0.9 (10 min and 100 min at about " +
			"the 10th and 90th percentiles); every such incident outlasts any session timeout, so the expiry rate is the incident rate",
		Components: []PresetComponent{{Name: "incident", What: "shared incidents", TOML: `
kind = "outage"
clients = "all"
shared = true
server = "all"
direction = "both"
arrival = "poisson"
every = "120d"
duration = { law = "lognormal", median = "32m", sigma = 0.9 }`}},
	},
	{
		Name:    "jvm-gc",
		Summary: "garbage-collection pauses of a JVM client: frequent short young pauses plus rare long full collections",
		Source: "tuned young-generation pauses of 40-60 ms (LinkedIn engineering, 2014); full collections of tens of " +
			"seconds in HBase region servers; ZooKeeper's JvmPauseMonitor logs pauses of 1 s (info) and 10 s (warn)",
		Assumption: "a young pause of 40-60 ms (uniform) every 20 s like clockwork, first at 7 s, plus a full collection " +
			"about every 6 hours (Poisson) lasting a lognormal time with median 5.5 s and sigma 0.87, so that 95 % fall " +
			"between 1 s and 30 s; each client JVM collects on its own",
		Components: []PresetComponent{
			{Name: "jvm-gc/young", What: "young collections", TOML: `
kind = "client-pause"
clients = "all"
shared = false
arrival = "periodic"
every = "20s"
offset = "7s"
duration = { law = "uniform", min = "40ms", max = "60ms" }`},
			{Name: "jvm-gc/full", What: "full collections", TOML: `
kind = "client-pause"
clients = "all"
shared = false
arrival = "poisson"
every = "6h"
duration = { law = "lognormal", median = "5.5s", sigma = 0.87 }`},
		},
	},
	{
		Name:    "link-repair",
		Summary: "a failed link on the path between each client and server 0, down until it is repaired (minutes)",
		Source: "Gill, Jain and Nagappan, \"Understanding Network Failures in Data Centers: Measurement, Analysis, and " +
			"Implications\", SIGCOMM 2011 (Microsoft, one year, tens of data centres): 40.8 link failures per day " +
			"fleet-wide; median time to repair about 5 min, tail up to a week; redundancy only about 40 % effective at the median",
		Assumption: "Gill's fleet-wide rate scaled to one client-server path as one failure per 30 days per path, on the " +
			"path to server 0 only (the client can fail over to the others); repair time lognormal with median 5 min and " +
			"sigma 2 (p95 about 2 h); it measures whether the client fails over in time",
		Components: []PresetComponent{{Name: "link-repair", What: "per-client link failures", TOML: `
kind = "outage"
clients = "all"
shared = false
server = 0
direction = "both"
arrival = "poisson"
every = "30d"
duration = { law = "lognormal", median = "5m", sigma = 2.0 }`}},
	},
}

func init() {
	for i := range presetTable {
		for j := range presetTable[i].Components {
			c := &presetTable[i].Components[j]
			c.TOML = strings.TrimSpace(c.TOML)
			md, err := toml.Decode(c.TOML, &c.ft)
			if err == nil {
				_, err = toml.Decode(c.TOML, &c.raw)
			}
			if _, table := c.raw["duration"].(map[string]any); err == nil && table {
				var lt lawTOML
				err = md.PrimitiveDecode(c.ft.Duration, &lt)
			}
			if err == nil && len(md.Undecoded()) > 0 {
				err = fmt.Errorf("unknown keys %v", md.Undecoded())
			}
			if err != nil {
				panic(fmt.Sprintf("experiments: preset %s: %v", c.Name, err)) // a broken table, caught by every test
			}
			c.md = md
		}
	}
}

// Presets returns the built-in presets, sorted by name.
func Presets() []Preset { return slices.Clone(presetTable) }

// PresetNames lists the names a [[fault]] table's preset key accepts: every
// preset and every component of a preset with several, sorted.
func PresetNames() []string {
	var names []string
	for _, p := range presetTable {
		names = append(names, p.Name)
		if len(p.Components) > 1 {
			for _, c := range p.Components {
				names = append(names, c.Name)
			}
		}
	}
	return names
}

// PresetByName returns the named preset. A component name ("jvm-gc/full")
// gives a preset with that one component.
func PresetByName(name string) (Preset, bool) {
	for _, p := range presetTable {
		if p.Name == name {
			return p, true
		}
		for _, c := range p.Components {
			if c.Name == name && len(p.Components) > 1 {
				q := p
				q.Name = c.Name
				q.Summary = p.Summary + " (" + c.What + " only)"
				q.Components = []PresetComponent{c}
				return q, true
			}
		}
	}
	return Preset{}, false
}
