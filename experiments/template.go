package experiments

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"hbsim/model"
)

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
	// zk marks a setting ZooKeeper holds in a Java int of milliseconds
	// (tick time, session timeouts): from 1ms to model.MaxZKDuration.
	zk bool
	// maxN, when positive, is the largest value an integer setting takes,
	// and maxWhy says why.
	maxN   int
	maxWhy string
	// ms marks a positive duration that must be at least 1 ms (the
	// resolution of the clocks, where a smaller value would spin).
	ms bool
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

// values is every value of the setting; none when it is not in the file.
func (sl *sweepSlot) values() []slotVal {
	if sl == nil {
		return nil
	}
	return sl.vals
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
	syncLimit, initLimit, finalizeWait, maxNotification *sweepSlot
	syncTime                                            *lawSpec
	resumeOrder                                         model.ResumeOrder

	sessionTimeout, fixedReconnect *sweepSlot
	version                        model.Version
	hosts                          []int // nil: every server
	keepHostOrder                  bool
	absentHosts                    *sweepSlot // not swept
	requestInterval                *lawSpec

	latency                                  *lawSpec
	transport                                model.Transport
	syn                                      model.SYNSchedule
	synRetries, synLinear                    *sweepSlot
	tailLossProbe                            bool
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

	servers     []int // a partition's isolated servers (nil: just server)
	clientPaths bool  // a partition also cuts the clients' paths to them
	pathsSet    bool
	leaderFirst bool // a rolling restart's order
	orderSet    bool
	gap         *sweepSlot
	gapIn       bool

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
			TickTime:                t.tick.dur(d),
			MinSessionTimeout:       t.minTimeout.dur(d),
			MaxSessionTimeout:       t.maxTimeout.dur(d),
			NoBucketRounding:        !t.bucketRounding,
			QuorumLatency:           t.quorum.dur(d),
			NoConnReaper:            !t.connReaper,
			SyncLimit:               t.syncLimit.int(d),
			InitLimit:               t.initLimit.int(d),
			FinalizeWait:            t.finalizeWait.dur(d),
			MaxNotificationInterval: t.maxNotification.dur(d),
			ResumeOrder:             t.resumeOrder,
		},
		Client: model.ClientConfig{
			SessionTimeout: t.sessionTimeout.dur(d),
			Version:        t.version,
			Hosts:          slices.Clone(t.hosts),
			KeepHostOrder:  t.keepHostOrder,
			AbsentHosts:    t.absentHosts.int(d),
			FixedReconnect: t.fixedReconnect.dur(d),
		},
		Network: model.NetworkConfig{
			Transport:          t.transport,
			SYN:                t.syn,
			SYNRetries:         t.synRetries.int(d),
			SYNLinearTimeouts:  t.synLinear.int(d),
			NoTailLossProbe:    !t.tailLossProbe,
			NoOrphanRetransmit: !t.orphanRetransmit,
			RTOMin:             t.rtoMin.dur(d),
			RTOMax:             t.rtoMax.dur(d),
			OrphanRetries:      t.orphanRetries.int(d),
			DataRetries:        t.dataRetry.int(d),
			ConnectLatency:     t.connectLatency.dur(d),
		},
		DeadClientProbe: t.probe,
	}
	if t.syn == model.SYNLinear && t.synLinear != nil && c.Network.SYNLinearTimeouts == 0 {
		// Linux's tcp_syn_linear_timeouts = 0 is the classic schedule (the
		// model's 0 would mean the default).
		c.Network.SYN = model.SYNClassic
	}
	if t.requestInterval != nil {
		l := t.requestInterval.law(d)
		c.Client.RequestInterval = &l
	}
	if t.latency != nil {
		l := t.latency.law(d)
		c.Network.Latency = &l
	}
	if t.syncTime != nil {
		l := t.syncTime.law(d)
		c.Server.SyncTime = &l
	}
	for _, f := range t.faults {
		mf := model.Fault{
			Kind: f.kind,
			Target: model.Target{Client: f.client, Shared: f.shared, Server: f.server, Direction: f.direction,
				Servers: slices.Clone(f.servers), ClientPaths: f.clientPaths},
			Arrival:     f.arrival,
			Every:       f.every.dur(d),
			Offset:      f.offset.dur(d),
			Gap:         f.gap.dur(d),
			LeaderFirst: f.leaderFirst,
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
