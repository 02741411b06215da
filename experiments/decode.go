package experiments

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"hbsim/model"
)

// ---------------------------------------------------------------------------
// Decoding.

// tomlRaw captures a TOML value of any type; decoding into it never fails.
type tomlRaw struct {
	v   any
	set bool
}

var _ toml.Unmarshaler = (*tomlRaw)(nil)

func (r *tomlRaw) UnmarshalTOML(v any) error {
	r.v, r.set = v, true
	return nil
}

// The document is decoded in two steps: each table as a toml.Primitive, then,
// once its TOML type is known to be right, into its struct, so that a wrong
// type is a Problem and never aborts decoding. Laws are Primitives too
// because they are either a duration or a table.
type docTOML struct {
	Experiment toml.Primitive `toml:"experiment"`
	Server     toml.Primitive `toml:"server"`
	Client     toml.Primitive `toml:"client"`
	Network    toml.Primitive `toml:"network"`
	Fault      toml.Primitive `toml:"fault"`
	Output     toml.Primitive `toml:"output"`
}

type experimentTOML struct {
	Name            tomlRaw `toml:"name"`
	Seed            tomlRaw `toml:"seed"`
	Replications    tomlRaw `toml:"replications"`
	Horizon         tomlRaw `toml:"horizon"`
	Clients         tomlRaw `toml:"clients"`
	DeadClientProbe tomlRaw `toml:"dead_client_probe"`
}

type serverTOML struct {
	Count             tomlRaw        `toml:"count"`
	Leader            tomlRaw        `toml:"leader"`
	TickTime          tomlRaw        `toml:"tick_time"`
	MinSessionTimeout tomlRaw        `toml:"min_session_timeout"`
	MaxSessionTimeout tomlRaw        `toml:"max_session_timeout"`
	BucketRounding    tomlRaw        `toml:"bucket_rounding"`
	QuorumLatency     tomlRaw        `toml:"quorum_latency"`
	ConnectionReaper  tomlRaw        `toml:"connection_reaper"`
	SyncLimit         tomlRaw        `toml:"sync_limit"`
	InitLimit         tomlRaw        `toml:"init_limit"`
	SyncTime          toml.Primitive `toml:"sync_time"`
	FinalizeWait      tomlRaw        `toml:"finalize_wait"`
	MaxNotification   tomlRaw        `toml:"max_notification_interval"`
	ResumeOrder       tomlRaw        `toml:"resume_order"`
}

type clientTOML struct {
	SessionTimeout  tomlRaw        `toml:"session_timeout"`
	Version         tomlRaw        `toml:"version"`
	Hosts           tomlRaw        `toml:"hosts"`
	HostOrder       tomlRaw        `toml:"host_order"`
	AbsentHosts     tomlRaw        `toml:"absent_hosts"`
	RequestInterval toml.Primitive `toml:"request_interval"`
	FixedReconnect  tomlRaw        `toml:"fixed_reconnect"`
}

type networkTOML struct {
	Latency          toml.Primitive `toml:"latency"`
	Transport        tomlRaw        `toml:"transport"`
	SYNSchedule      tomlRaw        `toml:"syn_schedule"`
	SYNRetries       tomlRaw        `toml:"syn_retries"`
	SYNLinear        tomlRaw        `toml:"syn_linear_timeouts"`
	TailLossProbe    tomlRaw        `toml:"tail_loss_probe"`
	OrphanRetransmit tomlRaw        `toml:"orphan_retransmit"`
	RTOMin           tomlRaw        `toml:"rto_min"`
	RTOMax           tomlRaw        `toml:"rto_max"`
	OrphanRetries    tomlRaw        `toml:"orphan_retries"`
	DataRetries      tomlRaw        `toml:"data_retries"`
	ConnectLatency   tomlRaw        `toml:"connect_latency"`
}

type faultTOML struct {
	Kind      tomlRaw        `toml:"kind"`
	Clients   tomlRaw        `toml:"clients"`
	Shared    tomlRaw        `toml:"shared"`
	Server    tomlRaw        `toml:"server"`
	Servers   tomlRaw        `toml:"servers"`
	Paths     tomlRaw        `toml:"client_paths"`
	Order     tomlRaw        `toml:"order"`
	Gap       tomlRaw        `toml:"gap"`
	Direction tomlRaw        `toml:"direction"`
	Arrival   tomlRaw        `toml:"arrival"`
	At        tomlRaw        `toml:"at"`
	Phase     tomlRaw        `toml:"phase"`
	Every     tomlRaw        `toml:"every"`
	Offset    tomlRaw        `toml:"offset"`
	Duration  toml.Primitive `toml:"duration"`
	Preset    tomlRaw        `toml:"preset"`
}

type lawTOML struct {
	Law    tomlRaw `toml:"law"`
	Value  tomlRaw `toml:"value"`
	Min    tomlRaw `toml:"min"`
	Max    tomlRaw `toml:"max"`
	Mean   tomlRaw `toml:"mean"`
	Median tomlRaw `toml:"median"`
	Sigma  tomlRaw `toml:"sigma"`
	Scale  tomlRaw `toml:"scale"`
	Shape  tomlRaw `toml:"shape"`
	CSV    tomlRaw `toml:"csv"`
}

type outputTOML struct {
	Dir    tomlRaw `toml:"dir"`
	Charts tomlRaw `toml:"charts"`
}

var (
	faultKinds   = []string{"outage", "server-crash", "client-pause", "partition", "server-pause", "rolling-restart"}
	arrivalNames = map[model.ArrivalKind]string{model.Scripted: "scripted", model.Poisson: "poisson", model.Periodic: "periodic"}
	lawNames     = []string{"fixed", "uniform", "exponential", "lognormal", "weibull", "pareto", "empirical"}
)

type specParser struct {
	s        *Spec
	md       *toml.MetaData
	tree     map[string]any
	readFile func(string) ([]byte, error)
	problems []Problem
	bad      map[string]bool // keys already reported as the wrong type
}

func (p *specParser) problem(key, format string, a ...any) {
	p.problems = append(p.problems, p.s.problem(key, format, a...))
}

// table decodes the section called name into v when it is a table.
func (p *specParser) table(name string, prim toml.Primitive, v any) bool {
	raw, ok := p.tree[name]
	if !ok {
		return false
	}
	if _, ok := raw.(map[string]any); !ok {
		p.bad[name] = true
		p.problem(name, "must be a table ([%s]), got %s", name, typeName(raw))
		return false
	}
	if err := p.md.PrimitiveDecode(prim, v); err != nil {
		p.problem(name, "%v", err)
		return false
	}
	return true
}

func (p *specParser) decode(doc *docTOML) {
	s, t := p.s, &p.s.t

	// [experiment]
	var ex experimentTOML
	p.table("experiment", doc.Experiment, &ex)
	s.Name = strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File))
	if s.File == "" || s.Name == "" || s.Name == "." {
		s.Name = "experiment"
	}
	if v, ok := p.str("experiment.name", ex.Name); ok {
		s.Name = v
	}
	s.Seed = DefaultSeed
	if ex.Seed.set {
		if n, ok := ex.Seed.v.(int64); !ok || n < 0 {
			p.problem("experiment.seed", "must be a non-negative integer, got %s", describeValue(ex.Seed.v))
		} else {
			s.Seed = uint64(n)
		}
	}
	s.Replications = DefaultReplications
	if sl := p.slot("experiment.replications", ex.Replications, slotInt, ruleAny, false); sl != nil {
		s.Replications = sl.vals[0].n
	}
	s.Horizon = DefaultHorizon
	if sl := p.slot("experiment.horizon", ex.Horizon, slotDuration, ruleAny, false); sl != nil {
		s.Horizon = sl.vals[0].dur
	}
	t.clients = p.slot("experiment.clients", ex.Clients, slotInt, ruleAtLeastOne, true)
	t.probe = p.boolean("experiment.dead_client_probe", ex.DeadClientProbe, true)

	// [server]
	var sv serverTOML
	p.table("server", doc.Server, &sv)
	t.count = p.slot("server.count", sv.Count, slotInt, ruleAtLeastOne, true)
	t.leader = p.slot("server.leader", sv.Leader, slotInt, ruleNonNegative, true)
	t.tick = p.slot("server.tick_time", sv.TickTime, slotDuration, rulePositive, true)
	t.minTimeout = p.slot("server.min_session_timeout", sv.MinSessionTimeout, slotDuration, rulePositive, true)
	t.maxTimeout = p.slot("server.max_session_timeout", sv.MaxSessionTimeout, slotDuration, rulePositive, true)
	t.bucketRounding = p.boolean("server.bucket_rounding", sv.BucketRounding, true)
	t.quorum = p.slot("server.quorum_latency", sv.QuorumLatency, slotDuration, rulePositive, true)
	t.connReaper = p.boolean("server.connection_reaper", sv.ConnectionReaper, true)
	t.syncLimit = p.slot("server.sync_limit", sv.SyncLimit, slotInt, ruleAtLeastOne, true)
	t.initLimit = p.slot("server.init_limit", sv.InitLimit, slotInt, ruleAtLeastOne, true)
	t.syncTime = p.law("server.sync_time", sv.SyncTime, p.sub("server", "sync_time"), false)
	t.finalizeWait = p.slot("server.finalize_wait", sv.FinalizeWait, slotDuration, rulePositive, true)
	t.maxNotification = p.slot("server.max_notification_interval", sv.MaxNotification, slotDuration, rulePositive, true)
	if v, ok := p.enum("server.resume_order", sv.ResumeOrder, "expirer-first", "requests-first"); ok && v == "requests-first" {
		t.resumeOrder = model.RequestsFirst
	}
	for _, sl := range []*sweepSlot{t.tick, t.minTimeout, t.maxTimeout} {
		if sl != nil {
			sl.zk = true
		}
	}
	if t.count != nil {
		t.count.maxN, t.count.maxWhy = MaxServers, "ZooKeeper server ids run from 1 to 255"
	}

	// [client]
	var cl clientTOML
	p.table("client", doc.Client, &cl)
	t.sessionTimeout = p.slot("client.session_timeout", cl.SessionTimeout, slotDuration, rulePositive, true)
	if t.sessionTimeout != nil {
		t.sessionTimeout.zk = true
	}
	if v, ok := p.enum("client.version", cl.Version, "3.3", "3.8", "3.9"); ok {
		t.version, _ = model.ParseVersion(v)
	}
	t.hosts = p.ints("client.hosts", cl.Hosts)
	if v, ok := p.enum("client.host_order", cl.HostOrder, "shuffled", "given"); ok {
		t.keepHostOrder = v == "given"
	}
	t.absentHosts = p.slot("client.absent_hosts", cl.AbsentHosts, slotInt, ruleNonNegative, false)
	if t.absentHosts != nil {
		t.absentHosts.maxN, t.absentHosts.maxWhy = MaxServers, "a connect string this long describes no ensemble"
	}
	t.requestInterval = p.law("client.request_interval", cl.RequestInterval, p.sub("client", "request_interval"), true)
	t.fixedReconnect = p.slot("client.fixed_reconnect", cl.FixedReconnect, slotDuration, ruleNonNegative, true)

	// [network]
	var nw networkTOML
	p.table("network", doc.Network, &nw)
	t.latency = p.law("network.latency", nw.Latency, p.sub("network", "latency"), false)
	if v, ok := p.enum("network.transport", nw.Transport, "tcp", "ideal"); ok && v == "ideal" {
		t.transport = model.Ideal
	}
	if v, ok := p.enum("network.syn_schedule", nw.SYNSchedule, "classic", "linear"); ok && v == "linear" {
		t.syn = model.SYNLinear
	}
	t.synRetries = p.slot("network.syn_retries", nw.SYNRetries, slotInt, ruleAtLeastOne, true)
	t.synLinear = p.slot("network.syn_linear_timeouts", nw.SYNLinear, slotInt, ruleNonNegative, true)
	t.tailLossProbe = p.boolean("network.tail_loss_probe", nw.TailLossProbe, true)
	t.orphanRetransmit = p.boolean("network.orphan_retransmit", nw.OrphanRetransmit, true)
	t.rtoMin = p.slot("network.rto_min", nw.RTOMin, slotDuration, rulePositive, true)
	t.rtoMax = p.slot("network.rto_max", nw.RTOMax, slotDuration, rulePositive, true)
	t.orphanRetries = p.slot("network.orphan_retries", nw.OrphanRetries, slotInt, ruleNonNegative, true)
	t.dataRetry = p.slot("network.data_retries", nw.DataRetries, slotInt, ruleAtLeastOne, true)
	t.connectLatency = p.slot("network.connect_latency", nw.ConnectLatency, slotDuration, ruleNonNegative, true)
	for _, sl := range []*sweepSlot{t.rtoMin, t.rtoMax} {
		if sl != nil {
			sl.ms = true
		}
	}

	// [[fault]]
	if raw, ok := p.tree["fault"]; ok {
		tables, isArray := raw.([]map[string]any)
		if !isArray {
			p.bad["fault"] = true
			p.problem("fault", "must be an array of tables: write each fault as a [[fault]] section")
		} else {
			var fs []faultTOML
			if err := p.md.PrimitiveDecode(doc.Fault, &fs); err != nil {
				p.problem("fault", "%v", err)
			} else {
				for i := range fs {
					t.faults = append(t.faults, p.faults(i, &fs[i], tables[i])...)
				}
			}
		}
	}

	// [output]
	var out outputTOML
	p.table("output", doc.Output, &out)
	s.Output.Dir = filepath.Join("out", s.Name)
	if v, ok := p.str("output.dir", out.Dir); ok {
		if v == "" {
			p.problem("output.dir", "must not be empty")
		}
		s.Output.Dir = v
	}
	if out.Charts.set {
		arr, ok := out.Charts.v.([]any)
		if !ok {
			p.problem("output.charts", "must be an array of chart names, got %s", typeName(out.Charts.v))
		} else {
			s.Output.Charts = []string{}
			for _, e := range arr {
				c, ok := e.(string)
				if !ok {
					p.problem("output.charts", "chart names are strings, got %s", typeName(e))
					continue
				}
				s.Output.Charts = append(s.Output.Charts, c)
			}
		}
	}
}

// sub returns the raw value of key within the top-level table, if any.
func (p *specParser) sub(table, key string) any {
	m, _ := p.tree[table].(map[string]any)
	return m[key]
}

// faults decodes the i-th [[fault]] table: one fault, or, with a preset key,
// one fault per component of the preset (see Preset for how the table's
// keys override the preset's).
func (p *specParser) faults(i int, ft *faultTOML, raw map[string]any) []*faultSpec {
	key := fmt.Sprintf("fault[%d]", i)
	if !ft.Preset.set {
		return []*faultSpec{p.fault(key, ft, p.fileLaw(ft.Duration, raw["duration"]))}
	}
	name, ok := p.str(key+".preset", ft.Preset)
	if !ok {
		return nil
	}
	pre, ok := PresetByName(name)
	if !ok {
		p.problem(key+".preset", "unknown preset %q; want one of %s (see \"hbsim presets\")", name, quoteList(PresetNames()))
		return nil
	}
	if n := len(pre.Components); n > 1 {
		parts := make([]string, n)
		for j, c := range pre.Components {
			parts[j] = strconv.Quote(c.Name)
		}
		var written []string
		for k := range raw {
			if slices.Contains(faultKeys, k) && k != "preset" && !slices.Contains(presetTargetKeys, k) {
				written = append(written, k)
			}
		}
		slices.Sort(written)
		for _, k := range written {
			p.problem(key+"."+k, "preset %q mixes %d faults; a table naming it may set only %s (for every part): "+
				"to change %s, write one [[fault]] per part, with preset = %s",
				name, n, strings.Join(presetTargetKeys, ", "), k, strings.Join(parts, " or "))
		}
		if len(written) > 0 {
			return nil
		}
	}
	out := make([]*faultSpec, 0, len(pre.Components))
	for j := range pre.Components {
		c := &pre.Components[j]
		merged := mergePreset(ft, c)
		out = append(out, p.fault(key, &merged, p.presetLaw(ft.Duration, raw["duration"], c)))
	}
	return out
}

// faultKeys are the keys of a [[fault]] table; presetTargetKeys those a
// table naming a preset of several components may set.
var (
	faultKeys        = []string{"kind", "clients", "shared", "server", "direction", "arrival", "at", "phase", "every", "offset", "duration", "preset"}
	presetTargetKeys = []string{"clients", "shared", "server", "direction"}
)

// mergePreset is the fault table ft with every key it does not set taken
// from the preset component c, except the preset keys that ft's overrides
// make inapplicable (see Preset). The duration is merged by presetLaw.
func mergePreset(ft *faultTOML, c *PresetComponent) faultTOML {
	pre := c.ft
	if kind, ok := ft.Kind.v.(string); ok {
		if kind != "outage" {
			pre.Direction = tomlRaw{}
		}
		switch kind {
		case "client-pause":
			pre.Server = tomlRaw{}
		case "server-crash":
			pre.Clients, pre.Shared = tomlRaw{}, tomlRaw{}
		}
	}
	if arrival, ok := ft.Arrival.v.(string); ok {
		if arrival == "scripted" {
			pre.Every, pre.Offset = tomlRaw{}, tomlRaw{}
		} else {
			pre.At, pre.Phase = tomlRaw{}, tomlRaw{}
		}
	}
	if ft.Clients.set && ft.Clients.v != "all" {
		pre.Shared = tomlRaw{}
	}
	m := *ft
	fillUnset(&m, &pre)
	return m
}

// fillUnset copies every tomlRaw field of *src into *dst where dst's is not
// set; dst and src point to the same struct type.
func fillUnset(dst, src any) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range d.NumField() {
		if r, ok := d.Field(i).Addr().Interface().(*tomlRaw); ok && !r.set {
			*r = s.Field(i).Interface().(tomlRaw)
		}
	}
}

// lawSource is a law as found in a table: its undecoded value (nil when the
// key is absent) and, for a law table, how to decode it.
type lawSource struct {
	raw    any
	decode func(*lawTOML) error
}

func (p *specParser) fileLaw(prim toml.Primitive, raw any) lawSource {
	return lawSource{raw: raw, decode: func(lt *lawTOML) error { return p.md.PrimitiveDecode(prim, lt) }}
}

// presetLaw is the duration of a table naming the preset component c: the
// preset's law when the table has no duration; the preset's law with the
// table's parameters when the table's duration is a table without a law key
// and the preset's law is a table; otherwise the table's own.
func (p *specParser) presetLaw(prim toml.Primitive, raw any, c *PresetComponent) lawSource {
	preRaw := c.raw["duration"]
	preDecode := func(lt *lawTOML) error { return c.md.PrimitiveDecode(c.ft.Duration, lt) }
	if raw == nil {
		return lawSource{raw: preRaw, decode: preDecode}
	}
	fileTable, ok := raw.(map[string]any)
	_, preTable := preRaw.(map[string]any)
	if _, hasLaw := fileTable["law"]; !ok || hasLaw || !preTable {
		return p.fileLaw(prim, raw)
	}
	return lawSource{raw: raw, decode: func(lt *lawTOML) error {
		if err := p.md.PrimitiveDecode(prim, lt); err != nil {
			return err
		}
		var pl lawTOML
		if err := preDecode(&pl); err != nil {
			return err
		}
		fillUnset(lt, &pl)
		return nil
	}}
}

func (p *specParser) fault(key string, ft *faultTOML, dur lawSource) *faultSpec {
	f := &faultSpec{key: key, client: model.AllClients, server: model.AllServers}
	f.kindIn = ft.Kind.set
	if v, ok := p.enum(key+".kind", ft.Kind, faultKinds...); ok {
		f.kindOK = true
		f.kind = model.FaultKind(slices.Index(faultKinds, v))
	}
	f.client, f.clientSet = p.target(key+".clients", ft.Clients, "client", model.AllClients)
	f.server, f.serverSet = p.serverTarget(key+".server", ft.Server)
	f.servers = p.ints(key+".servers", ft.Servers)
	if v, ok := p.enum(key+".client_paths", ft.Paths, "up", "cut"); ok {
		f.pathsSet, f.clientPaths = true, v == "cut"
	}
	if v, ok := p.enum(key+".order", ft.Order, "followers-first", "leader-first"); ok {
		f.orderSet, f.leaderFirst = true, v == "leader-first"
	}
	f.gap, f.gapIn = p.slot(key+".gap", ft.Gap, slotDuration, ruleNonNegative, true), ft.Gap.set
	if ft.Shared.set {
		f.sharedSet = true
		f.shared = p.boolean(key+".shared", ft.Shared, false)
	}
	if v, ok := p.enum(key+".direction", ft.Direction, "both", "client-to-server", "server-to-client"); ok {
		f.dirSet = true
		f.direction = map[string]model.Direction{"both": model.Both, "client-to-server": model.ClientToServer, "server-to-client": model.ServerToClient}[v]
	}
	f.arrivalOK = !ft.Arrival.set
	if v, ok := p.enum(key+".arrival", ft.Arrival, "scripted", "poisson", "periodic"); ok {
		f.arrivalOK = true
		f.arrival = map[string]model.ArrivalKind{"scripted": model.Scripted, "poisson": model.Poisson, "periodic": model.Periodic}[v]
	}
	if ft.At.set {
		f.atSet = true
		vals := ft.At.v
		if s, ok := vals.(string); ok {
			vals = []any{s}
		}
		if arr, ok := vals.([]any); !ok {
			p.problem(key+".at", `must be an array of start times, e.g. ["30s"], got %s`, typeName(ft.At.v))
		} else {
			for _, e := range arr {
				if v, msg := scalarValue(slotDuration, e); msg != "" {
					p.problem(key+".at", "%s", msg)
				} else {
					f.at = append(f.at, v)
				}
			}
		}
	}
	if ft.Phase.set {
		f.phaseIn = true
		if ft.Phase.v != "random" {
			f.phase = p.slot(key+".phase", ft.Phase, slotDuration, ruleNonNegative, true)
		}
	}
	f.every, f.everyIn = p.slot(key+".every", ft.Every, slotDuration, rulePositive, true), ft.Every.set
	f.offset, f.offsetIn = p.slot(key+".offset", ft.Offset, slotDuration, ruleNonNegative, true), ft.Offset.set
	f.duration, f.durationIn = p.lawFrom(key+".duration", dur, false), dur.raw != nil
	return f
}

// target decodes `"all"` or an index.
func (p *specParser) target(key string, r tomlRaw, what string, all int) (int, bool) {
	if !r.set {
		return all, false
	}
	switch v := r.v.(type) {
	case string:
		if v == "all" {
			return all, true
		}
	case int64:
		if v >= 0 && v <= math.MaxInt32 {
			return int(v), true
		}
	}
	p.problem(key, `must be "all" or a %s index (0, 1, ...), got %s`, what, describeValue(r.v))
	return all, true
}

// serverTarget decodes a fault's server: "all", "leader" (whoever leads
// when an episode starts), "follower" (one of its followers) or an index.
func (p *specParser) serverTarget(key string, r tomlRaw) (int, bool) {
	if v, ok := r.v.(string); ok && r.set {
		switch v {
		case "leader":
			return model.TheLeader, true
		case "follower":
			return model.AFollower, true
		case "all":
			return model.AllServers, true
		}
		p.problem(key, `must be "all", "leader", "follower" or a server index (0, 1, ...), got %s`, describeValue(r.v))
		return model.AllServers, true
	}
	return p.target(key, r, "server", model.AllServers)
}

// law decodes a duration law: a duration (or an array of them, a sweep) as a
// fixed law, or a law table. raw is the undecoded value, to tell the two
// apart; nil when the key is absent.
func (p *specParser) law(key string, prim toml.Primitive, raw any, positive bool) *lawSpec {
	return p.lawFrom(key, p.fileLaw(prim, raw), positive)
}

// lawFrom decodes the law src, as law does.
func (p *specParser) lawFrom(key string, src lawSource, positive bool) *lawSpec {
	raw := src.raw
	if raw == nil {
		return nil
	}
	rule := ruleNonNegative
	if positive {
		rule = rulePositive
	}
	if _, isTable := raw.(map[string]any); !isTable {
		sl := p.slot(key, tomlRaw{v: raw, set: true}, slotDuration, rule, true)
		if sl == nil {
			return nil
		}
		return &lawSpec{key: key, kind: model.LawFixed, short: true, value: sl, positive: positive}
	}
	var lt lawTOML
	if err := src.decode(&lt); err != nil {
		p.problem(key, "%v", err)
		return nil
	}
	l := &lawSpec{key: key, positive: positive}
	name, ok := p.enum(key+".law", lt.Law, lawNames...)
	if !ok {
		if !lt.Law.set {
			p.problem(key+".law", "required: one of %s", quoteList(lawNames))
		}
		return nil
	}
	l.kind, _ = model.ParseLawKind(name)
	params := []struct {
		name string
		raw  tomlRaw
		dst  **sweepSlot
		kind slotKind
		rule slotRule
	}{
		{"value", lt.Value, &l.value, slotDuration, rule},
		{"min", lt.Min, &l.min, slotDuration, ruleNonNegative},
		{"max", lt.Max, &l.max, slotDuration, rulePositive},
		{"mean", lt.Mean, &l.mean, slotDuration, rulePositive},
		{"median", lt.Median, &l.median, slotDuration, rulePositive},
		{"sigma", lt.Sigma, &l.sigma, slotFloat, rulePositive},
		{"scale", lt.Scale, &l.scale, slotDuration, rulePositive},
		{"shape", lt.Shape, &l.shape, slotFloat, rulePositive},
		{"csv", lt.CSV, nil, 0, 0},
	}
	want := lawParams[l.kind]
	complete := true
	for _, pr := range params {
		takes := slices.Contains(want, pr.name)
		switch {
		case pr.raw.set && !takes:
			p.problem(key+"."+pr.name, "%s %s law does not take %s (it takes %s)", article(name), name, pr.name, strings.Join(want, " and "))
			complete = false
		case !pr.raw.set && takes:
			p.problem(key+"."+pr.name, "required by %s %s law (it takes %s)", article(name), name, strings.Join(want, " and "))
			complete = false
		case pr.raw.set && pr.dst != nil:
			*pr.dst = p.slot(key+"."+pr.name, pr.raw, pr.kind, pr.rule, true)
			complete = complete && *pr.dst != nil
		case pr.raw.set: // csv
			l.samples = p.csv(key+".csv", pr.raw)
			complete = complete && l.samples != nil
		}
	}
	if !complete {
		return nil
	}
	return l
}

var lawParams = map[model.LawKind][]string{
	model.LawFixed:       {"value"},
	model.LawUniform:     {"min", "max"},
	model.LawExponential: {"mean"},
	model.LawLogNormal:   {"median", "sigma"},
	model.LawWeibull:     {"scale", "shape"},
	model.LawPareto:      {"scale", "shape"},
	model.LawEmpirical:   {"csv"},
}

// csv reads the samples of an empirical law.
func (p *specParser) csv(key string, r tomlRaw) []float64 {
	name, ok := r.v.(string)
	if !ok || name == "" {
		p.problem(key, "must be the path of a CSV file, got %s", describeValue(r.v))
		return nil
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(p.s.File), name)
	}
	if p.readFile == nil {
		p.problem(key, "cannot read %s: this parse reads no files (use Load, or Parse with WithReadFile)", path)
		return nil
	}
	data, err := p.readFile(path)
	if err != nil {
		pr := p.s.problem(key, "cannot read %s: %s", path, ioMessage(err))
		pr.err = err
		p.problems = append(p.problems, pr)
		return nil
	}
	xs, err := ReadDurationsCSV(path, data)
	if err != nil {
		p.problem(key, "%v", err)
		return nil
	}
	return xs
}

// slot decodes a numeric setting: a value, or (when sweep) an array of values.
func (p *specParser) slot(key string, r tomlRaw, kind slotKind, rule slotRule, sweep bool) *sweepSlot {
	if !r.set {
		return nil
	}
	sl := &sweepSlot{key: key, kind: kind, rule: rule, axis: -1}
	if arr, ok := r.v.([]any); ok {
		if !sweep {
			p.problem(key, "cannot be swept: give one value")
			return nil
		}
		if len(arr) == 0 {
			p.problem(key, "empty sweep: give at least one value")
			return nil
		}
		sl.swept = true
		ok := true
		for _, e := range arr {
			v, msg := scalarValue(kind, e)
			if msg != "" {
				p.problem(key, "%s", msg)
				ok = false
				continue
			}
			sl.vals = append(sl.vals, v)
		}
		if !ok {
			return nil
		}
	} else {
		v, msg := scalarValue(kind, r.v)
		if msg != "" {
			p.problem(key, "%s", msg)
			return nil
		}
		sl.vals = []slotVal{v}
	}
	p.s.slots = append(p.s.slots, sl)
	return sl
}

// scalarValue decodes one value of kind, or says why it cannot.
func scalarValue(kind slotKind, v any) (slotVal, string) {
	switch kind {
	case slotDuration:
		switch x := v.(type) {
		case string:
			d, err := parseDurationText(x)
			if errors.Is(err, errMissingUnit) {
				return slotVal{}, fmt.Sprintf("missing unit, e.g. %q", strings.TrimSpace(x)+"s")
			}
			if err != nil {
				return slotVal{}, fmt.Sprintf(`%q is not a duration (write e.g. "10s", "500ms", "1m30s" or "2d")`, x)
			}
			return slotVal{text: x, num: d.Seconds(), dur: d}, ""
		case int64:
			return slotVal{}, fmt.Sprintf("missing unit, e.g. %q", strconv.FormatInt(x, 10)+"s")
		case float64:
			return slotVal{}, fmt.Sprintf("missing unit, e.g. %q", strconv.FormatFloat(x, 'g', -1, 64)+"s")
		}
		return slotVal{}, fmt.Sprintf(`must be a duration such as "10s", got %s`, describeValue(v))
	case slotInt:
		if x, ok := v.(int64); ok {
			if x > math.MaxInt32 || x < math.MinInt32 {
				return slotVal{}, fmt.Sprintf("%d is out of range", x)
			}
			return slotVal{text: strconv.FormatInt(x, 10), num: float64(x), n: int(x)}, ""
		}
		return slotVal{}, fmt.Sprintf("must be an integer, got %s", describeValue(v))
	default:
		switch x := v.(type) {
		case int64:
			return slotVal{text: strconv.FormatInt(x, 10), num: float64(x)}, ""
		case float64:
			return slotVal{text: strconv.FormatFloat(x, 'g', -1, 64), num: x}, ""
		}
		return slotVal{}, fmt.Sprintf("must be a number, got %s", describeValue(v))
	}
}

func (p *specParser) ints(key string, r tomlRaw) []int {
	if !r.set {
		return nil
	}
	arr, ok := r.v.([]any)
	if !ok {
		p.problem(key, "must be an array of server indices, e.g. [0, 1, 2], got %s", describeValue(r.v))
		return nil
	}
	out := []int{}
	for _, e := range arr {
		x, ok := e.(int64)
		if !ok || x > math.MaxInt32 || x < math.MinInt32 {
			p.problem(key, "must hold server indices, got %s", describeValue(e))
			continue
		}
		out = append(out, int(x))
	}
	return out
}

func (p *specParser) str(key string, r tomlRaw) (string, bool) {
	if !r.set {
		return "", false
	}
	v, ok := r.v.(string)
	if !ok {
		p.problem(key, "must be a string, got %s", describeValue(r.v))
	}
	return v, ok
}

func (p *specParser) enum(key string, r tomlRaw, names ...string) (string, bool) {
	if !r.set {
		return "", false
	}
	v, ok := r.v.(string)
	if !ok {
		p.problem(key, "must be one of %s (a string), got %s", quoteList(names), describeValue(r.v))
		return "", false
	}
	if !slices.Contains(names, v) {
		p.problem(key, "unknown value %q; want one of %s", v, quoteList(names))
		return "", false
	}
	return v, true
}

func (p *specParser) boolean(key string, r tomlRaw, def bool) bool {
	if !r.set {
		return def
	}
	v, ok := r.v.(bool)
	if !ok {
		p.problem(key, "must be true or false, got %s", describeValue(r.v))
		return def
	}
	return v
}

// unknownKeys reports every key the schema does not know (md.Undecoded) and
// every key spelt in another case than the schema's. Keys under a reported
// key are not reported again.
func (p *specParser) unknownKeys() {
	undecoded := map[string]bool{}
	for _, k := range p.md.Undecoded() {
		undecoded[k.String()] = true
	}
	var reported []string
	for k := range p.bad {
		reported = append(reported, k)
	}
	under := func(key string) bool {
		for _, r := range reported {
			if strings.HasPrefix(key, r+".") || strings.HasPrefix(key, r+"[") {
				return true
			}
		}
		return false
	}
	for k, mk := range p.canonicalKeys() {
		if under(k) || p.bad[k] {
			continue
		}
		switch {
		case undecoded[mk.String()]:
			p.problem(k, "unknown key")
			reported = append(reported, k)
		case k != strings.ToLower(k):
			last := mk[len(mk)-1]
			if last != strings.ToLower(last) {
				p.problem(k, "keys are case-sensitive: write %q", strings.ToLower(last))
				reported = append(reported, k)
			}
		}
	}
}

// canonicalKeys yields md.Keys() in file order, each with this package's
// spelling (elements of arrays of tables indexed: "fault[1].kind").
func (p *specParser) canonicalKeys() func(yield func(string, toml.Key) bool) {
	return func(yield func(string, toml.Key) bool) {
		counts := map[string]int{}
		for _, k := range p.md.Keys() {
			var b strings.Builder
			plain := ""
			for i, part := range k {
				if i > 0 {
					b.WriteByte('.')
					plain += "."
				}
				b.WriteString(part)
				plain += part
				if p.md.Type(k[:i+1]...) == "ArrayHash" {
					if i == len(k)-1 {
						counts[plain]++
					}
					fmt.Fprintf(&b, "[%d]", max(counts[plain]-1, 0))
				}
			}
			if !yield(b.String(), k) {
				return
			}
		}
	}
}

// orderAxes puts the swept settings in the order their keys first appear in
// the file (md.Keys preserves it).
func (p *specParser) orderAxes() {
	pos := map[string]int{}
	n := 0
	for k := range p.canonicalKeys() {
		if _, ok := pos[strings.ToLower(k)]; !ok {
			pos[strings.ToLower(k)] = n
			n++
		}
	}
	var axes []*sweepSlot
	for _, sl := range p.s.slots {
		if sl.swept {
			axes = append(axes, sl)
		}
	}
	slices.SortStableFunc(axes, func(a, b *sweepSlot) int {
		pa, oka := pos[a.key]
		pb, okb := pos[b.key]
		if !oka {
			pa = math.MaxInt
		}
		if !okb {
			pb = math.MaxInt
		}
		return cmpInt(pa, pb)
	})
	for i, sl := range axes {
		sl.axis = i
	}
	p.s.axes = axes
}
