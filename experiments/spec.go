package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"hbsim/model"
)

// Spec defaults and limits.
const (
	// DefaultSeed is the seed of a spec without experiment.seed.
	DefaultSeed = 1
	// DefaultReplications is the replications per sweep point of a spec
	// without experiment.replications.
	DefaultReplications = 100
	// DefaultHorizon is the simulated time per replication of a spec without
	// experiment.horizon.
	DefaultHorizon = time.Hour
	// MaxSweepPoints bounds the cartesian product of a sweep.
	MaxSweepPoints = 1_000_000
)

// specCharts are the chart names output.charts accepts (see package plots).
var specCharts = []string{"expiry-vs-timeout", "expiry-vs-outage", "tradeoff", "mass-expiry"}

// Spec is a parsed and validated experiment: the settings of the file plus a
// sweep template that Points expands into one model.Config per point.
//
// The exported fields are the settings that are one value per experiment
// (they cannot be swept). Everything else lives in the template and is read
// through Points, Axes and Warnings. A Spec is not modified by its methods
// and is safe for concurrent use.
//
// # File format
//
// A spec is TOML with the tables [experiment], [server], [client],
// [network], any number of [[fault]] and [output]; every key is optional
// unless marked required, and unknown keys are errors. Durations are strings
// with a unit, as for time.ParseDuration plus "d" (24 h): "500us", "10s",
// "1m30s", "10d". A bare number ("10" or 10) is an error.
//
//	[experiment] name ("<file base name>"), seed (1), replications (100),
//	             horizon ("1h"), clients (1), dead_client_probe (true)
//	[server]     count (1), leader (0), tick_time ("2s"),
//	             min_session_timeout (2 × tick_time), max_session_timeout
//	             (20 × tick_time), bucket_rounding (true), quorum_latency
//	             ("500us"), connection_reaper (true)
//	[client]     session_timeout ("10s"), version ("3.8": "3.3"|"3.8"|"3.9"),
//	             hosts (every server), host_order ("shuffled"|"given"),
//	             request_interval (law; none), fixed_reconnect ("0s" = off)
//	[network]    latency (law; "1ms"), transport ("tcp"|"ideal"),
//	             syn_schedule ("classic"|"linear"), orphan_retransmit (true),
//	             rto_min ("200ms"), rto_max ("120s"), orphan_retries (8; 0
//	             means 8, as in Linux), data_retries (15), connect_latency ("0s")
//	[[fault]]    kind (required: "outage"|"server-crash"|"client-pause"),
//	             clients ("all" or an index; "all"), shared (false),
//	             server ("all" or an index; "all"), direction ("both"|
//	             "client-to-server"|"server-to-client"), arrival
//	             ("scripted"|"poisson"|"periodic"), at (scripted, required),
//	             phase (scripted: "random" or a duration; "random"), every
//	             (poisson mean gap / periodic period, required), offset
//	             ("0s"), duration (required: law), preset (a built-in
//	             profile whose keys are the defaults of the table's; see
//	             Preset and Presets, and "hbsim presets")
//	[output]     dir ("out/<name>"), charts (all that apply)
//
// A law is a duration (a fixed law) or a table { law = KIND, ... } with the
// parameters of its kind: fixed value; uniform min, max; exponential mean;
// lognormal median, sigma; weibull scale, shape; pareto scale, shape;
// empirical csv (a file read by ReadDurationsCSV, relative to the spec's
// directory). sigma and shape are plain numbers, the others durations.
//
// Any numeric or duration setting except experiment.seed,
// experiment.replications and experiment.horizon (they are one per
// experiment, like Result's header) may be an array: a sweep axis. hosts, at
// and charts are plain arrays, never sweeps. See Points for the order.
type Spec struct {
	File         string        // the path given to Parse or Load; errors name it
	Name         string        // experiment.name, default the file's base name without extension
	Seed         uint64        // experiment.seed, default DefaultSeed
	Replications int           // experiment.replications per sweep point, default DefaultReplications
	Horizon      time.Duration // experiment.horizon, simulated time per replication
	Output       Output

	lines keyLines
	t     specTemplate
	slots []*sweepSlot // every numeric setting, in decoding order
	axes  []*sweepSlot // the swept settings, in expansion order
}

// Output is the [output] table.
type Output struct {
	// Dir is where results are written, as written in the file (relative
	// paths are relative to the working directory); default "out/<name>".
	Dir string
	// Charts lists the charts to draw. Nil means every chart that applies to
	// the sweep; an empty list means none.
	Charts []string
}

// Point is one point of the sweep: the axis values it takes and the complete
// (defaulted) model configuration they give.
type Point struct {
	Index        int     // position in sweep order, from 0
	Params       []Param // one per axis, in Axes order
	Config       model.Config
	Replications int
}

// Problem is one thing wrong with a spec, located in the file.
type Problem struct {
	File string // the spec file
	Line int    // 1-based line in File; 0 when unknown
	Key  string // dotted key, e.g. "fault[0].duration.value"; "" for the whole file
	Msg  string
	err  error // the underlying error, if any (a read error)
}

// Error formats the problem as "FILE:LINE: KEY: MSG", leaving out the parts
// that are not known.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap returns the underlying error (e.g. an fs.ErrNotExist), or nil.
func (p Problem) Unwrap() error { return p.err }

// SpecError is every problem found in a spec, in file order. The CLI prints
// it and exits with status 2.
type SpecError struct {
	Problems []Problem
}

// Error is one problem per line.
func (e *SpecError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so that errors.As finds a Problem and
// errors.Is sees through to an underlying read error.
func (e *SpecError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// ParseOption configures Parse.
type ParseOption func(*parseOptions)

type parseOptions struct {
	readFile func(name string) ([]byte, error)
}

// WithReadFile lets Parse read the CSV files that empirical laws name.
// Relative CSV paths are resolved against the directory of the spec's path
// before readFile is called. Without this option Parse does no I/O at all and
// reports a spec that names a CSV file as an error.
func WithReadFile(readFile func(name string) ([]byte, error)) ParseOption {
	return func(o *parseOptions) { o.readFile = readFile }
}

// Load reads the spec at path and parses it. CSV files named by empirical
// laws are read from disk, relative to the directory of path. Every error is
// a *SpecError.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &SpecError{Problems: []Problem{{File: path, Msg: "cannot read: " + ioMessage(err), err: err}}}
	}
	return Parse(path, data, WithReadFile(os.ReadFile))
}

// Parse decodes and validates the spec in data; path is used in messages, for
// the default name and to resolve CSV paths. Decoding is strict: unknown keys
// and values of the wrong type are errors. Parse reports every problem at
// once in a *SpecError, sorted by line. It never panics and, without
// WithReadFile, does no I/O.
func Parse(path string, data []byte, opts ...ParseOption) (*Spec, error) {
	var o parseOptions
	for _, opt := range opts {
		opt(&o)
	}
	src := string(data)
	s := &Spec{File: path}

	var tree map[string]any
	if _, err := toml.Decode(src, &tree); err != nil {
		return nil, &SpecError{Problems: []Problem{syntaxProblem(path, err)}}
	}
	var doc docTOML
	md, err := toml.Decode(src, &doc)
	if err != nil { // cannot happen: every field accepts any value
		return nil, &SpecError{Problems: []Problem{syntaxProblem(path, err)}}
	}
	s.lines = indexKeyLines(src)
	p := &specParser{s: s, md: &md, tree: tree, readFile: o.readFile, bad: map[string]bool{}}
	p.decode(&doc)
	p.unknownKeys()
	p.orderAxes()

	var failed []string
	for _, pr := range p.problems {
		failed = append(failed, pr.Key)
	}
	problems := append(p.problems, s.checkAll(failed)...)
	if len(problems) > 0 {
		return nil, &SpecError{Problems: sortProblems(problems)}
	}
	return s, nil
}

// Validate reports every problem with the spec at once, as a *SpecError; nil
// when there is none. It checks each value (positive durations, counts at
// least 1, law parameters), then each sweep point (timeout range, server,
// host and client indices, fault targets), and finally runs
// model.Config.Validate on every point as a safety net. It does not modify s.
func (s *Spec) Validate() error {
	if ps := s.problems(); len(ps) > 0 {
		return &SpecError{Problems: sortProblems(ps)}
	}
	return nil
}

// Axes returns the swept keys in expansion order: the order in which their
// keys first appear in the file. A key written as an array is an axis even
// when the array has one value.
func (s *Spec) Axes() []Axis {
	axes := make([]Axis, len(s.axes))
	for i, sl := range s.axes {
		a := Axis{Key: sl.key, Values: make([]string, len(sl.vals)), Numeric: make([]float64, len(sl.vals))}
		if sl.kind == slotDuration {
			a.Unit = "s"
		}
		for j, v := range sl.vals {
			a.Values[j] = v.text
			a.Numeric[j] = v.num
		}
		axes[i] = a
	}
	return axes
}

// Points expands the sweep: the cartesian product of the axes, in the order
// of Axes with the LAST axis varying fastest (like nested loops written in
// file order, or an odometer). With axes a = [a0, a1] and b = [b0, b1, b2]
// the points are (a0,b0) (a0,b1) (a0,b2) (a1,b0) (a1,b1) (a1,b2). A spec
// without sweeps has one point. Each Config has model.Config.Defaults applied
// and Seed set to the spec's seed; every point has the same seed, so points
// are compared on common random numbers.
func (s *Spec) Points() ([]Point, error) {
	n, err := s.numPoints()
	if err != nil {
		return nil, err
	}
	pts := make([]Point, 0, n)
	var failed error
	s.eachPoint(n, func(i int, d []int) bool {
		cfg := s.config(d)
		if err := cfg.Validate(); err != nil {
			failed = fmt.Errorf("experiments: %s: point %d (%s): %w", s.File, i, s.describe(d), err)
			return false
		}
		params := make([]Param, len(s.axes))
		for a, sl := range s.axes {
			v := sl.vals[d[a]]
			params[a] = Param{Key: sl.key, Value: v.text, Numeric: v.num}
		}
		pts = append(pts, Point{Index: i, Params: params, Config: cfg, Replications: s.Replications})
		return true
	})
	if failed != nil {
		return nil, failed
	}
	return pts, nil
}

// Warnings returns what is legal but probably not what the author meant: a
// requested session timeout outside the server's [min, max] (ZooKeeper
// silently clamps it), and scripted start times at or after the horizon.
// They are computed per point, deduplicated, in point order.
func (s *Spec) Warnings() []string {
	n, err := s.numPoints()
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	t := &s.t
	s.eachPoint(n, func(_ int, d []int) bool {
		cfg := s.config(d)
		srv := cfg.Server
		req := cfg.Client.SessionTimeout
		if req < srv.MinSessionTimeout || req > srv.MaxSessionTimeout {
			add(fmt.Sprintf("client.session_timeout: requested %s is outside the server's [%s, %s]; ZooKeeper clamps it to %s",
				t.sessionTimeout.textOr(d, "10s (default)"),
				t.minTimeout.textOr(d, fmtDur(srv.MinSessionTimeout)),
				t.maxTimeout.textOr(d, fmtDur(srv.MaxSessionTimeout)),
				fmtDur(srv.Negotiate(req))))
		}
		return true
	})
	for _, f := range t.faults {
		for j, at := range f.at {
			if at.dur >= s.Horizon && s.Horizon > 0 {
				add(fmt.Sprintf("%s.at: start time %s (#%d) is not before the horizon %s; that episode never happens",
					f.key, at.text, j+1, fmtDur(s.Horizon)))
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The template: what a spec says, with sweeps kept as lists of values.

type slotKind uint8

const (
	slotDuration slotKind = iota // durations: dur, num in seconds
	slotInt                      // integers: n, num
	slotFloat                    // plain numbers: num
)

type slotRule uint8

const (
	ruleAny         slotRule = iota
	rulePositive             // > 0 (and finite)
	ruleNonNegative          // >= 0
	ruleAtLeastOne           // >= 1
)

// sweepSlot is one numeric setting: a single value, or an axis.
type sweepSlot struct {
	key   string // dotted key
	kind  slotKind
	rule  slotRule
	vals  []slotVal // one unless swept
	swept bool      // written as an array: an axis
	axis  int       // index into Spec.axes, or -1
}

type slotVal struct {
	text string        // as written: "10s", "3", "1.2"
	num  float64       // the number; seconds for durations
	dur  time.Duration // durations only
	n    int           // integers only
}

func (sl *sweepSlot) at(d []int) slotVal {
	if sl.axis < 0 {
		return sl.vals[0]
	}
	return sl.vals[d[sl.axis]]
}

// The nil-safe accessors return 0 for a setting that is not in the file.
func (sl *sweepSlot) dur(d []int) time.Duration {
	if sl == nil {
		return 0
	}
	return sl.at(d).dur
}

func (sl *sweepSlot) int(d []int) int {
	if sl == nil {
		return 0
	}
	return sl.at(d).n
}

func (sl *sweepSlot) num(d []int) float64 {
	if sl == nil {
		return 0
	}
	return sl.at(d).num
}

func (sl *sweepSlot) textOr(d []int, def string) string {
	if sl == nil {
		return def
	}
	return sl.at(d).text
}

type specTemplate struct {
	clients *sweepSlot
	probe   bool

	count, leader, tick, minTimeout, maxTimeout, quorum *sweepSlot
	bucketRounding, connReaper                          bool

	sessionTimeout, fixedReconnect *sweepSlot
	version                        model.Version
	hosts                          []int // nil: every server
	keepHostOrder                  bool
	requestInterval                *lawSpec

	latency                                  *lawSpec
	transport                                model.Transport
	syn                                      model.SYNSchedule
	orphanRetransmit                         bool
	rtoMin, rtoMax, orphanRetries, dataRetry *sweepSlot
	connectLatency                           *sweepSlot

	faults []*faultSpec
}

// lawSpec is a duration law, possibly with swept parameters.
type lawSpec struct {
	key   string // "fault[0].duration"
	kind  model.LawKind
	short bool // written as a duration or an array of them: a fixed law on key itself

	value, min, max, mean, median, sigma, scale, shape *sweepSlot
	samples                                            []float64 // empirical
	positive                                           bool      // draws must not all be zero (request gaps)
}

func (l *lawSpec) law(d []int) model.Law {
	return model.Law{
		Kind:    l.kind,
		Value:   l.value.num(d),
		Min:     l.min.num(d),
		Max:     l.max.num(d),
		Mean:    l.mean.num(d),
		Median:  l.median.num(d),
		Sigma:   l.sigma.num(d),
		Scale:   l.scale.num(d),
		Shape:   l.shape.num(d),
		Samples: l.samples,
	}
}

// faultSpec is one [[fault]] table.
type faultSpec struct {
	key    string // "fault[0]"
	kind   model.FaultKind
	kindIn bool // the file has a kind key
	kindOK bool // ... and it decoded

	client    int // index or model.AllClients
	clientSet bool
	shared    bool
	sharedSet bool
	server    int // index or model.AllServers
	serverSet bool
	direction model.Direction
	dirSet    bool

	arrival   model.ArrivalKind
	arrivalOK bool      // arrival is absent (scripted) or decoded
	at        []slotVal // scripted start times
	atSet     bool
	phase     *sweepSlot // nil: random (no anchoring)
	phaseIn   bool       // the file has a phase key
	every     *sweepSlot
	everyIn   bool
	offset    *sweepSlot
	offsetIn  bool

	duration   *lawSpec
	durationIn bool
}

// config builds the defaulted model.Config of the point with axis digits d.
func (s *Spec) config(d []int) model.Config {
	t := &s.t
	c := model.Config{
		Seed:    s.Seed,
		Horizon: s.Horizon,
		Clients: t.clients.int(d),
		Servers: t.count.int(d),
		Leader:  t.leader.int(d),
		Server: model.ServerConfig{
			TickTime:          t.tick.dur(d),
			MinSessionTimeout: t.minTimeout.dur(d),
			MaxSessionTimeout: t.maxTimeout.dur(d),
			NoBucketRounding:  !t.bucketRounding,
			QuorumLatency:     t.quorum.dur(d),
			NoConnReaper:      !t.connReaper,
		},
		Client: model.ClientConfig{
			SessionTimeout: t.sessionTimeout.dur(d),
			Version:        t.version,
			Hosts:          slices.Clone(t.hosts),
			KeepHostOrder:  t.keepHostOrder,
			FixedReconnect: t.fixedReconnect.dur(d),
		},
		Network: model.NetworkConfig{
			Transport:          t.transport,
			SYN:                t.syn,
			NoOrphanRetransmit: !t.orphanRetransmit,
			RTOMin:             t.rtoMin.dur(d),
			RTOMax:             t.rtoMax.dur(d),
			OrphanRetries:      t.orphanRetries.int(d),
			DataRetries:        t.dataRetry.int(d),
			ConnectLatency:     t.connectLatency.dur(d),
		},
		DeadClientProbe: t.probe,
	}
	if t.requestInterval != nil {
		l := t.requestInterval.law(d)
		c.Client.RequestInterval = &l
	}
	if t.latency != nil {
		l := t.latency.law(d)
		c.Network.Latency = &l
	}
	for _, f := range t.faults {
		mf := model.Fault{
			Kind:    f.kind,
			Target:  model.Target{Client: f.client, Shared: f.shared, Server: f.server, Direction: f.direction},
			Arrival: f.arrival,
			Every:   f.every.dur(d),
			Offset:  f.offset.dur(d),
		}
		for _, a := range f.at {
			mf.At = append(mf.At, a.dur)
		}
		if f.phase != nil {
			mf.Phase, mf.PhaseSet = f.phase.dur(d), true
		}
		if f.duration != nil {
			mf.Duration = f.duration.law(d)
		}
		c.Faults = append(c.Faults, mf)
	}
	return c.Defaults()
}

// numPoints is the size of the sweep, or an error when it is too large.
func (s *Spec) numPoints() (int, error) {
	n := 1
	for _, sl := range s.axes {
		n *= len(sl.vals)
		if n > MaxSweepPoints {
			return 0, &SpecError{Problems: []Problem{s.sweepTooLarge()}}
		}
	}
	return n, nil
}

func (s *Spec) sweepTooLarge() Problem {
	var sizes []string
	total := 1.0
	for _, sl := range s.axes {
		sizes = append(sizes, strconv.Itoa(len(sl.vals)))
		total *= float64(len(sl.vals))
	}
	key := ""
	n := 1
	for _, sl := range s.axes {
		n *= len(sl.vals)
		if n > MaxSweepPoints {
			key = sl.key
			break
		}
	}
	return s.problem(key, "sweep too large: %s = %.0f points, more than %d",
		strings.Join(sizes, " × "), total, MaxSweepPoints)
}

// eachPoint calls fn with the axis digits of each of the n points in sweep
// order (last axis fastest) until fn returns false.
func (s *Spec) eachPoint(n int, fn func(i int, d []int) bool) {
	d := make([]int, len(s.axes))
	for i := range n {
		rem := i
		for a := len(s.axes) - 1; a >= 0; a-- {
			k := len(s.axes[a].vals)
			d[a] = rem % k
			rem /= k
		}
		if !fn(i, d) {
			return
		}
	}
}

func (s *Spec) describe(d []int) string {
	if len(s.axes) == 0 {
		return "no sweep"
	}
	parts := make([]string, len(s.axes))
	for a, sl := range s.axes {
		parts[a] = sl.key + "=" + sl.vals[d[a]].text
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------------------
// Validation.

func (s *Spec) problem(key, format string, a ...any) Problem {
	return Problem{File: s.File, Line: s.lines.find(key), Key: key, Msg: fmt.Sprintf(format, a...)}
}

// problems is Validate's work: value checks, then per-point checks.
func (s *Spec) problems() []Problem { return s.checkAll(nil) }

// checkAll runs the value checks and then the per-point checks. A per-point
// check is skipped when a key it involves already has a problem (failed, or
// found by the value checks), so that one mistake gives one message.
func (s *Spec) checkAll(failed []string) []Problem {
	ps := s.valueProblems()
	for _, p := range ps {
		failed = append(failed, p.Key)
	}
	return append(ps, s.pointProblems(failed)...)
}

// valueProblems checks each value on its own, and the settings that cannot be
// swept.
func (s *Spec) valueProblems() []Problem {
	var ps []Problem
	bad := func(key, format string, a ...any) { ps = append(ps, s.problem(key, format, a...)) }

	if s.Name == "" {
		bad("experiment.name", "must not be empty")
	} else if strings.ContainsAny(s.Name, `/\`) || s.Name == "." || s.Name == ".." {
		bad("experiment.name", "%q cannot be a directory name", s.Name)
	}
	if s.Replications < 1 {
		bad("experiment.replications", "must be at least 1, got %d", s.Replications)
	}
	if s.Horizon <= 0 {
		bad("experiment.horizon", "must be positive, got %s", fmtDur(s.Horizon))
	}
	for _, c := range s.Output.Charts {
		if !slices.Contains(specCharts, c) {
			bad("output.charts", "unknown chart %q; want one of %s", c, quoteList(specCharts))
		}
	}
	for _, sl := range s.slots {
		for _, v := range sl.vals {
			switch sl.rule {
			case rulePositive:
				if !(v.num > 0) || math.IsInf(v.num, 0) {
					bad(sl.key, "must be positive, got %s", v.text)
				}
			case ruleNonNegative:
				if !(v.num >= 0) || math.IsInf(v.num, 0) {
					bad(sl.key, "must not be negative, got %s", v.text)
				}
			case ruleAtLeastOne:
				if v.n < 1 {
					bad(sl.key, "must be at least 1, got %s", v.text)
				}
			}
		}
	}
	t := &s.t
	if t.hosts != nil && len(t.hosts) == 0 {
		bad("client.hosts", "empty hosts list; leave the key out to use every server")
	}
	for _, h := range t.hosts {
		if h < 0 {
			bad("client.hosts", "host %d is not a server index", h)
		}
	}
	for _, l := range []*lawSpec{t.requestInterval, t.latency} {
		if l != nil && l.positive && l.kind == model.LawEmpirical && !slices.ContainsFunc(l.samples, func(x float64) bool { return x > 0 }) {
			bad(l.key+".csv", "every sample is zero; requests would never stop")
		}
	}
	for _, f := range t.faults {
		ps = append(ps, s.faultProblems(f)...)
	}
	if _, err := s.numPoints(); err != nil {
		ps = append(ps, s.sweepTooLarge())
	}
	return ps
}

func (s *Spec) faultProblems(f *faultSpec) []Problem {
	var ps []Problem
	bad := func(key, format string, a ...any) { ps = append(ps, s.problem(f.key+key, format, a...)) }
	if !f.kindIn {
		bad(".kind", "required: one of %s", quoteList(faultKinds))
	}
	if !f.durationIn {
		bad(".duration", `required: a duration such as "10s" or a law table such as { law = "exponential", mean = "5s" }`)
	}
	if f.sharedSet && f.client != model.AllClients {
		bad(".shared", `only applies with clients = "all"`)
	}
	if f.kindOK {
		if f.dirSet && f.kind != model.Outage {
			bad(".direction", "only an outage has a direction, not a %s", f.kind)
		}
		if f.serverSet && f.kind == model.ClientPause {
			bad(".server", "a client pause hits clients, not servers")
		}
		if f.clientSet && f.kind == model.ServerCrash {
			bad(".clients", "a server crash hits a server, not clients")
		}
	}
	if !f.arrivalOK {
		return ps
	}
	switch f.arrival {
	case model.Scripted:
		if !f.atSet || len(f.at) == 0 {
			bad(".at", `a scripted fault needs start times, e.g. at = ["30s"]`)
		}
		for _, a := range f.at {
			if a.dur < 0 {
				bad(".at", "start time %s is negative", a.text)
			}
		}
		if f.everyIn {
			bad(".every", "only poisson and periodic faults take every")
		}
		if f.offsetIn {
			bad(".offset", "only poisson and periodic faults take an offset")
		}
	default:
		if f.atSet {
			bad(".at", "only scripted faults take start times")
		}
		if f.phaseIn {
			bad(".phase", "only scripted faults take a phase")
		}
		if !f.everyIn {
			what := "mean gap"
			if f.arrival == model.Periodic {
				what = "period"
			}
			bad(".every", "a %s fault needs every (its %s)", arrivalNames[f.arrival], what)
		}
	}
	return ps
}

// pointProblems checks what depends on several settings, on every point,
// skipping the checks that involve a failed key, and, when nothing at all
// failed, runs model.Config.Validate on each point as a safety net.
func (s *Spec) pointProblems(failed []string) []Problem {
	n, err := s.numPoints()
	if err != nil {
		return nil // reported by valueProblems
	}
	// clean reports whether none of keys (nor a key under one) failed.
	clean := func(keys ...string) bool {
		for _, f := range failed {
			for _, k := range keys {
				if f == "" || f == k || strings.HasPrefix(f, k+".") || strings.HasPrefix(f, k+"[") {
					return false
				}
			}
		}
		return true
	}
	var ps []Problem
	seen := map[string]bool{}
	t := &s.t
	s.eachPoint(n, func(i int, d []int) bool {
		mine := 0
		bad := func(key, format string, a ...any) {
			mine++
			p := s.problem(key, format, a...)
			if k := p.Error(); !seen[k] {
				seen[k] = true
				ps = append(ps, p)
			}
		}
		c := s.config(d)
		srv := c.Server
		if srv.MinSessionTimeout > srv.MaxSessionTimeout && clean("server.min_session_timeout", "server.max_session_timeout", "server.tick_time") {
			if t.minTimeout != nil {
				bad("server.min_session_timeout", "%s is greater than server.max_session_timeout %s",
					t.minTimeout.at(d).text, t.maxTimeout.textOr(d, fmtDur(srv.MaxSessionTimeout)+" (default 20 × tick_time)"))
			} else {
				bad("server.max_session_timeout", "%s is less than server.min_session_timeout %s (default 2 × tick_time)",
					t.maxTimeout.at(d).text, fmtDur(srv.MinSessionTimeout))
			}
		}
		if c.Leader >= c.Servers && clean("server.leader", "server.count") {
			bad("server.leader", "%d is not a server index: server.count is %d", c.Leader, c.Servers)
		}
		if clean("client.hosts", "server.count") {
			for _, h := range t.hosts {
				if h >= c.Servers {
					bad("client.hosts", "host %d is not a server index: server.count is %d", h, c.Servers)
				}
			}
		}
		if c.Network.RTOMin > c.Network.RTOMax && clean("network.rto_min", "network.rto_max") {
			if t.rtoMin != nil {
				bad("network.rto_min", "%s is greater than network.rto_max %s", t.rtoMin.at(d).text, t.rtoMax.textOr(d, fmtDur(c.Network.RTOMax)))
			} else {
				bad("network.rto_max", "%s is less than network.rto_min %s", t.rtoMax.at(d).text, fmtDur(c.Network.RTOMin))
			}
		}
		for _, l := range []*lawSpec{t.requestInterval, t.latency} {
			if l != nil && clean(l.key) {
				s.lawPointProblems(l, d, bad)
			}
		}
		for _, f := range t.faults {
			if f.client != model.AllClients && f.client >= c.Clients && clean(f.key+".clients", "experiment.clients") {
				bad(f.key+".clients", "client %d does not exist: experiment.clients is %d", f.client, c.Clients)
			}
			if f.server != model.AllServers && f.server >= c.Servers && clean(f.key+".server", "server.count") {
				bad(f.key+".server", "server %d does not exist: server.count is %d", f.server, c.Servers)
			}
			if f.kindOK && f.kind == model.ServerCrash && f.server == model.AllServers && c.Servers > 1 && clean(f.key+".server", "server.count") {
				bad(f.key+".server", `a server crash needs one server index ("all" only works with server.count = 1); server.count is %d`, c.Servers)
			}
			if f.phase != nil && f.client == model.AllClients && !f.shared && clean(f.key+".phase", f.key+".clients", f.key+".shared") {
				bad(f.key+".phase", "a phase anchors episodes to one session: set clients to a client index, or shared = true to anchor to client 0")
			}
			if f.duration != nil && clean(f.duration.key) {
				s.lawPointProblems(f.duration, d, bad)
			}
		}
		if mine == 0 && len(failed) == 0 {
			if err := c.Validate(); err != nil {
				msg := strings.ReplaceAll(err.Error(), "\n", "; ")
				bad("", "point %d (%s): %s", i, s.describe(d), msg)
			}
		}
		return true
	})
	return ps
}

func (s *Spec) lawPointProblems(l *lawSpec, d []int, bad func(key, format string, a ...any)) {
	switch l.kind {
	case model.LawUniform:
		if lo, hi := l.min.at(d), l.max.at(d); !(lo.num < hi.num) {
			bad(l.key+".min", "%s is not less than max %s", lo.text, hi.text)
		}
	}
}

func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := cmpInt(a.Line, b.Line); c != 0 {
			return c
		}
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Msg, b.Msg)
	})
	return slices.CompactFunc(ps, func(a, b Problem) bool { return a.Error() == b.Error() })
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

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
	Count             tomlRaw `toml:"count"`
	Leader            tomlRaw `toml:"leader"`
	TickTime          tomlRaw `toml:"tick_time"`
	MinSessionTimeout tomlRaw `toml:"min_session_timeout"`
	MaxSessionTimeout tomlRaw `toml:"max_session_timeout"`
	BucketRounding    tomlRaw `toml:"bucket_rounding"`
	QuorumLatency     tomlRaw `toml:"quorum_latency"`
	ConnectionReaper  tomlRaw `toml:"connection_reaper"`
}

type clientTOML struct {
	SessionTimeout  tomlRaw        `toml:"session_timeout"`
	Version         tomlRaw        `toml:"version"`
	Hosts           tomlRaw        `toml:"hosts"`
	HostOrder       tomlRaw        `toml:"host_order"`
	RequestInterval toml.Primitive `toml:"request_interval"`
	FixedReconnect  tomlRaw        `toml:"fixed_reconnect"`
}

type networkTOML struct {
	Latency          toml.Primitive `toml:"latency"`
	Transport        tomlRaw        `toml:"transport"`
	SYNSchedule      tomlRaw        `toml:"syn_schedule"`
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
	faultKinds   = []string{"outage", "server-crash", "client-pause"}
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

	// [client]
	var cl clientTOML
	p.table("client", doc.Client, &cl)
	t.sessionTimeout = p.slot("client.session_timeout", cl.SessionTimeout, slotDuration, rulePositive, true)
	if v, ok := p.enum("client.version", cl.Version, "3.3", "3.8", "3.9"); ok {
		t.version, _ = model.ParseVersion(v)
	}
	t.hosts = p.ints("client.hosts", cl.Hosts)
	if v, ok := p.enum("client.host_order", cl.HostOrder, "shuffled", "given"); ok {
		t.keepHostOrder = v == "given"
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
	t.orphanRetransmit = p.boolean("network.orphan_retransmit", nw.OrphanRetransmit, true)
	t.rtoMin = p.slot("network.rto_min", nw.RTOMin, slotDuration, rulePositive, true)
	t.rtoMax = p.slot("network.rto_max", nw.RTOMax, slotDuration, rulePositive, true)
	t.orphanRetries = p.slot("network.orphan_retries", nw.OrphanRetries, slotInt, ruleNonNegative, true)
	t.dataRetry = p.slot("network.data_retries", nw.DataRetries, slotInt, ruleAtLeastOne, true)
	t.connectLatency = p.slot("network.connect_latency", nw.ConnectLatency, slotDuration, ruleNonNegative, true)

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
	f.server, f.serverSet = p.target(key+".server", ft.Server, "server", model.AllServers)
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

// ---------------------------------------------------------------------------
// Helpers.

var errMissingUnit = errors.New("missing unit")

// parseDurationText parses a duration as time.ParseDuration does, plus the
// unit "d" (24 h): "10d", "1d12h", "1.5d". A bare number, even "0", is
// errMissingUnit.
func parseDurationText(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, errMissingUnit
	}
	if strings.Contains(t, "d") {
		var b strings.Builder
		i := 0
		if t != "" && (t[0] == '-' || t[0] == '+') {
			b.WriteByte(t[0])
			i = 1
		}
		isNum := func(c byte) bool { return c >= '0' && c <= '9' || c == '.' }
		for i < len(t) {
			j := i
			for j < len(t) && isNum(t[j]) {
				j++
			}
			k := j
			for k < len(t) && !isNum(t[k]) {
				k++
			}
			if t[j:k] == "d" {
				v, err := strconv.ParseFloat(t[i:j], 64)
				if err != nil {
					return 0, fmt.Errorf("invalid duration %q", s)
				}
				b.WriteString(strconv.FormatFloat(v*24, 'f', -1, 64))
				b.WriteString("h")
			} else {
				b.WriteString(t[i:k])
			}
			i = k
		}
		t = b.String()
	}
	return time.ParseDuration(t)
}

// fmtDur formats a duration without trailing zero units: "1m", "1h30m", "40s".
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case nil:
		return "nothing"
	}
	return "a date or time"
}

// describeValue shows a scalar as written and anything else by its type.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return typeName(v)
}

// ioMessage is an I/O error without the path that the caller already shows.
func ioMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// positionExcerpt is pe.ErrorWithPosition(), or "" where toml v1.6.0 would
// panic on it (it indexes lines by an unchecked position, e.g. for input
// that ends inside an escape at line 0).
func positionExcerpt(pe toml.ParseError) (s string) {
	if pe.Position.Line < 1 || pe.Position.Col < 1 {
		return ""
	}
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return pe.ErrorWithPosition()
}

// syntaxProblem turns a TOML syntax error into a Problem at its line, with
// the source excerpt of ParseError.ErrorWithPosition after the message.
func syntaxProblem(path string, err error) Problem {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return Problem{File: path, Msg: "syntax error: " + err.Error(), err: err}
	}
	msg := "syntax error: " + pe.Message
	// Keep ErrorWithPosition's excerpt: the lines after "At line N, column C:".
	full := positionExcerpt(pe)
	if i := strings.Index(full, "\n\nAt line "); i >= 0 {
		if j := strings.Index(full[i:], ":\n\n"); j >= 0 {
			msg += "\n" + strings.TrimRight(full[i+j+3:], "\n")
		}
	}
	return Problem{File: path, Line: pe.Position.Line, Msg: msg, err: err}
}
