package experiments

import (
	"fmt"
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
var specCharts = []string{"expiry-vs-timeout", "expiry-vs-outage", "tradeoff", "mass-expiry", "failover"}

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
//	             syn_schedule ("classic"|"linear"), syn_retries (6),
//	             syn_linear_timeouts (linear only: 4; 0 is the classic
//	             schedule), tail_loss_probe (true), orphan_retransmit (true),
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
// a *SpecError. A spec over MaxSpecBytes, or a CSV file over MaxCSVBytes,
// is refused without being read to its end.
func Load(path string) (*Spec, error) {
	data, err := readLimited(path, MaxSpecBytes)
	if err != nil {
		return nil, &SpecError{Problems: []Problem{{File: path, Msg: "cannot read: " + ioMessage(err), err: err}}}
	}
	return Parse(path, data, WithReadFile(func(name string) ([]byte, error) { return readLimited(name, MaxCSVBytes) }))
}

// Parse decodes and validates the spec in data; path is used in messages, for
// the default name and to resolve CSV paths. Decoding is strict: unknown keys
// and values of the wrong type are errors. Parse reports every problem at
// once in a *SpecError, sorted by line. It never panics and, without
// WithReadFile, does no I/O. Data over MaxSpecBytes, or nesting arrays or
// inline tables more than 32 deep, is refused before decoding.
func Parse(path string, data []byte, opts ...ParseOption) (*Spec, error) {
	var o parseOptions
	for _, opt := range opts {
		opt(&o)
	}
	src := string(data)
	s := &Spec{File: path}
	if len(data) > MaxSpecBytes {
		return nil, &SpecError{Problems: []Problem{{File: path, Msg: (&errTooLarge{MaxSpecBytes}).Error()}}}
	}
	if line := tooDeep(src); line > 0 {
		return nil, &SpecError{Problems: []Problem{{File: path, Line: line,
			Msg: fmt.Sprintf("syntax error: arrays or inline tables nested more than %d deep", maxNesting)}}}
	}

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

// Warnings returns what is legal but probably not what the author meant: no
// fault at all, a requested session timeout outside the server's [min, max]
// (ZooKeeper silently clamps it), a horizon too short for any expiry, fault
// episodes that overlap often, faults that never start or do nothing, and
// scripted start times at or after the horizon. They are computed per point,
// deduplicated, in point order.
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
	if len(t.faults) == 0 {
		add(noFaultWarning)
	}
	means := meanCache{}
	s.eachPoint(n, func(_ int, d []int) bool {
		cfg := s.config(d)
		s.plausibleWarnings(cfg, d, means, add)
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
