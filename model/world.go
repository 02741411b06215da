package model

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"hbsim/clock"
	"hbsim/sim"
)

// World is the one place that wires the pure state machines (Client,
// Tracker, Network) to the event engine: it turns their effects into
// scheduled events, carries packets over a TCP-like transport, runs the
// servers' request handling, the fault processes and the metrics, and writes
// the trace.
type World struct {
	cfg    Config
	eng    *sim.Engine
	net    *Network
	tracer Tracer
	check  bool

	clients  []clientSlot
	rngs     []rand.PCG // the clients' streams, packed
	rands    []rand.Rand
	effects  []Effect // shared effect buffer of every client call
	servers  []serverProc
	conns    []connRec    // by global connection id; 0 unused
	sessions []sessionRec // the ensemble's persisted sessions, by id; 0 unused
	faults   []faultProc
	waiters  []int32 // ideal transport: connections with data or a SYN held until an outage ends

	expired   []int64
	freeConns []int32       // recycled connection records
	serials   int32         // connections opened so far
	lostPool  [][]packet    // drained lost-queue buffers, reused
	pingLane  sim.Lane      // wake timers one ping period ahead (a constant delay)
	stale     uint64        // loop-timer firings that had been re-armed (not counted as events)
	written   uint64        // packets written by either end (each delivered at most once)
	delivered uint64        // packets delivered to an open receiver or a closed one
	pingDelay time.Duration // rt/2 of the negotiated timeout
	anchored  int           // fault episodes waiting for a session's next touch
	restored  int           // sessions the last tracker start restored
	// trackerExpiries counts sessions a tracker expired, committed or not.
	trackerExpiries int

	// The quorum links (quorum.go) and the ensemble's bookkeeping.
	qmsgs           []qmsg         // messages between servers in flight, by index
	qfree           []int32        // free indices of qmsgs
	qcut            []int32        // by (from, to): partitions cutting the link
	qconn           []uint32       // by (from, to): the number of the current connection
	qcutN           int32          // cuts in force on any link
	qheld           [][]int32      // by (from, to): messages a cut link holds, in order
	qheldSince      []clock.Time   // by (from, to): when the first held one was lost
	qbatches        []qbatch       // messages arriving together, by index
	qbfree          []int32        // free indices of qbatches
	qbOpen          int32          // the batch the current event's sends join, -1 for none
	touchPool       [][]touchEntry // drained touch batches, reused
	spareEvents     []sim.Event    // a drained deferred-input buffer, reused
	leaderlessSince clock.Time     // clock.Never while some leader serves
	curEpisode      int            // index in Stats.ServerEpisodes of the latest, -1 before any
	epStart         clock.Time     // its start
	rateSec         []int64        // by server: the second whose ConnectRequests rateN counts
	rateN           []int32
	rolls           []int32 // fault processes that are rolling restarts

	stats     Stats
	lastTime  clock.Time
	violation error
}

// Options are per-run switches that do not change results.
type Options struct {
	Tracer Tracer // nil: no trace
	// Check verifies invariants after every event and stops the run with an
	// error at the first violation.
	Check bool
}

// Stats are a run's counters. Session time counts only the Clients counted
// sessions, never the dead-client probe.
type Stats struct {
	Clients int
	Horizon time.Duration
	Events  uint64
	Pings   uint64

	Exposures        int // (client, fault episode) pairs: outages, pauses, crashes of the client's server
	ExpiredExposures int // exposures followed by an expiry of that client's session
	Expiries         int // tracker expiries of counted sessions
	ClientExpired    int // Expired events delivered to counted clients
	Disconnects      int // Disconnected events delivered to counted clients
	ClientsExpired   int // counted clients with at least one expiry
	Reconnects       int // SyncConnected events after the first

	DisconnectedTime time.Duration // summed over clients, after their first SyncConnected
	ObservedTime     time.Duration // summed over clients, from first SyncConnected to the horizon

	DetectionTime     time.Duration // dead-client probe: crash to tracker expiry
	DetectionMeasured bool

	// SharedEpisodes has one entry per fault episode that hit every client
	// at once (a shared outage or pause, a server crash): how many of the
	// clients it hit had their session expire because of it (mass expiry).
	SharedEpisodes []SharedEpisode

	// ServerEpisodes has one entry per server-side fault episode (crash,
	// pause, partition, rolling restart), in start order.
	ServerEpisodes  []ServerEpisode
	PeakConnectRate int // the most ConnectRequests one server received within one second
}

// ServerEpisode is what one server-side fault episode cost: until the next
// one starts, the time without a serving leader and the client connections
// servers dropped.
type ServerEpisode struct {
	NoLeader time.Duration
	Dropped  int
}

// SharedEpisode is one fault episode that hit several clients at once.
type SharedEpisode struct {
	Hit     int // counted clients the episode hit
	Expired int // of which the session expired within the episode's window
}

// ErrInvariant wraps every invariant violation found with Options.Check.
var ErrInvariant = errors.New("model: invariant violated")

// event kinds
const (
	evClientStart uint16 = iota + 1
	evClientWake
	evClientRequest
	evDeliver
	evRetransmit
	evSYNArrive
	evSYNReply
	evSYNRetry
	evExpirer
	evDeadline
	evServerRead
	evQuorum
	evQuorumRead
	evQuorumRelease
	evElectWake
	evLeadTick
	evFollowerCheck
	evInitLimit
	evLeaderServe
	evLearnerSync
	evJoinRetry
	evRollRestart
	evRollNext
	evFaultArm
	evFaultStart
	evFaultEnd
	evProbeCrash
	evCheckStop
)

// NewWorld builds a run from cfg (defaults applied, then validated).
func NewWorld(cfg Config, opts Options) (*World, error) { return Recycle(nil, cfg, opts) }

// Recycle is NewWorld reusing the memory of old (nil: none), a world whose
// run is over and which is not used again: a worker that runs many short
// replications allocates almost nothing per replication. The new world
// shares nothing observable with old; its run is the same as NewWorld's.
func Recycle(old *World, cfg Config, opts Options) (*World, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	w := old
	if w == nil {
		w = &World{}
	}
	*w = World{cfg: cfg, tracer: opts.Tracer, check: opts.Check,
		eng: w.eng, net: w.net, clients: w.clients, rngs: w.rngs, rands: w.rands, effects: w.effects,
		servers: w.servers, conns: w.conns, sessions: w.sessions, faults: w.faults, waiters: w.waiters[:0],
		expired: w.expired[:0], freeConns: w.freeConns[:0], lostPool: w.lostPool,
		qmsgs: w.qmsgs[:0], qfree: w.qfree[:0], qbatches: w.qbatches[:0], qbfree: w.qbfree[:0], qbOpen: -1, qcut: w.qcut, qconn: w.qconn, qheld: w.qheld, qheldSince: w.qheldSince,
		touchPool: w.touchPool, spareEvents: w.spareEvents, rateSec: w.rateSec, rateN: w.rateN, rolls: w.rolls,
		leaderlessSince: clock.Never, curEpisode: -1}
	if w.eng == nil {
		w.eng = sim.NewEngine(w)
	} else {
		w.eng.Reset()
	}
	w.pingLane = w.eng.NewLane()
	t := cfg.Server.Negotiate(cfg.Client.SessionTimeout)
	w.pingDelay = PingPeriod(t)
	hostsN := cfg.Servers + cfg.Client.AbsentHosts
	w.net = newNetwork(w.net, cfg.Clients+1, hostsN, NewSampler(*cfg.Network.Latency, sim.Stream(cfg.Seed, "network-latency", 0)))
	w.conns = resize(w.conns, 1, cfg.Clients+2+cfg.Clients/256) // reconnects append more
	w.sessions = resize(w.sessions, 1, cfg.Clients+2+cfg.Clients/256)
	w.stats.Clients, w.stats.Horizon = cfg.Clients, cfg.Horizon

	w.servers = resize(w.servers, hostsN, 0)
	w.rateSec = resize(w.rateSec, hostsN, 0)
	w.rateN = resize(w.rateN, hostsN, 0)
	for i := range w.servers {
		s := &w.servers[i]
		*s = serverProc{tracker: s.tracker, touches: s.touches[:0], deadlines: s.deadlines[:0], deferred: s.deferred[:0],
			elect: s.elect, learners: s.learners, proposals: s.proposals[:0], leader: -1, batch: 1}
		s.name = "server-" + strconv.Itoa(i)
		if i >= cfg.Servers {
			s.absent = true
			continue
		}
		s.clockRand = sim.Stream(cfg.Seed, "server-clock", uint64(i))
		s.syncTime = NewSampler(*cfg.Server.SyncTime, sim.Stream(cfg.Seed, "server-sync", uint64(i)))
		w.startServer(0, int32(i), false)
	}
	if w.ensemble() {
		links := cfg.Servers * cfg.Servers
		w.qcut = resize(w.qcut, links, 0)
		w.qconn = resize(w.qconn, links, 0)
		w.qheldSince = resize(w.qheldSince, links, 0)
		if len(w.qheld) < links {
			w.qheld = append(w.qheld, make([][]int32, links-len(w.qheld))...)
		}
		for i := range w.qheld {
			w.qheld[i] = w.qheld[i][:0]
		}
		w.initEnsemble()
	}

	n := cfg.Clients
	if cfg.DeadClientProbe {
		n++
	}
	hosts := make([]int32, len(cfg.Client.Hosts))
	for i, h := range cfg.Client.Hosts {
		hosts[i] = int32(h)
	}
	w.clients = resize(w.clients, n, 0)
	w.rngs = resize(w.rngs, n, 0)
	w.rands = resize(w.rands, n, 0)
	w.effects = resize(w.effects, 0, 4)
	hostsBuf := make([]int32, n*len(hosts))
	for i := range w.clients {
		w.rngs[i] = *sim.NewSource(cfg.Seed, "client", uint64(i))
		w.rands[i] = *rand.New(&w.rngs[i])
		r := &w.rands[i]
		cl := &w.clients[i]
		cl.c.init(ClientParams{
			ID: int32(i), Version: cfg.Client.Version, SessionTimeout: cfg.Client.SessionTimeout,
			Hosts: hosts, KeepHostOrder: cfg.Client.KeepHostOrder, FixedReconnect: cfg.Client.FixedReconnect, Rand: r,
			Traced:   opts.Tracer != nil,
			HostsBuf: hostsBuf[i*len(hosts) : (i+1)*len(hosts) : (i+1)*len(hosts)],
			Effects:  &w.effects,
		})
		cl.id = int32(i)
		cl.probe = i >= cfg.Clients
		cl.connectedSince, cl.firstConnected, cl.crashedAt = clock.Never, clock.Never, clock.Never
		if cfg.Client.RequestInterval != nil {
			cl.requests = NewSampler(*cfg.Client.RequestInterval, sim.Stream(cfg.Seed, "client-requests", uint64(i)))
		}
		// Clients start at a uniformly random point of one ping period, so
		// that a fault at a fixed time meets a random ping phase.
		period := PingPeriod(cfg.Client.SessionTimeout).Milliseconds()
		start := clock.Zero.Add(time.Duration(r.Int64N(max(period, 1))) * time.Millisecond)
		w.eng.Post(sim.Event{At: start, Kind: evClientStart, A: int32(i)})
	}
	if cfg.DeadClientProbe {
		w.scheduleProbeCrash()
	}
	w.buildFaults()
	return w, nil
}

// resize returns s with n zero elements and room for at least c, reusing
// its array when it is large enough.
func resize[T any](s []T, n, c int) []T {
	if cap(s) < max(n, c) {
		return make([]T, n, max(n, c))
	}
	s = s[:n]
	clear(s)
	return s
}

// Run simulates cfg up to its horizon and returns the counters.
func Run(cfg Config, opts Options) (Stats, error) {
	w, err := NewWorld(cfg, opts)
	if err != nil {
		return Stats{}, err
	}
	return w.Run()
}

// RunFor executes the world for d more virtual time (never past the
// horizon); Run finishes it. Benchmarks use it to measure a steady state.
func (w *World) RunFor(d time.Duration) error {
	return w.runUntil(min(w.eng.Now().Add(d), clock.Zero.Add(w.cfg.Horizon)))
}

// runUntil handles every event at or before end, checking invariants when
// asked, and stops at the first violation.
func (w *World) runUntil(end clock.Time) error {
	for ev := w.eng.Next(end); ev != nil; ev = w.eng.Next(end) {
		w.Handle(ev)
		if w.check {
			w.checkAfterEvent()
		}
		if w.violation != nil {
			return w.violation
		}
	}
	return nil
}

// Run executes the world to its horizon.
func (w *World) Run() (Stats, error) {
	end := clock.Zero.Add(w.cfg.Horizon)
	if err := w.runUntil(end); err != nil {
		return w.stats, err
	}
	w.eng.RunUntil(end)
	w.finish(end)
	if err := w.lawErr(); err != nil {
		return w.stats, err
	}
	return w.stats, w.violation
}

// Engine exposes the engine (tests drive worlds step by step).
func (w *World) Engine() *sim.Engine { return w.eng }

// Client returns client i's state machine.
func (w *World) Client(i int) *Client { return &w.clients[i].c }

func (w *World) finish(end clock.Time) {
	for i := range w.clients {
		cl := &w.clients[i]
		if cl.probe {
			continue
		}
		if cl.connectedSince == clock.Never && cl.firstConnected != clock.Never && cl.crashedAt == clock.Never {
			cl.disconnected += end.Sub(cl.lastDown)
		}
		if cl.firstConnected != clock.Never {
			w.stats.ObservedTime += end.Sub(cl.firstConnected)
		}
		w.stats.DisconnectedTime += cl.disconnected
		if cl.expiries > 0 {
			w.stats.ClientsExpired++
		}
	}
	if w.leaderlessSince != clock.Never {
		w.accrueLeaderless(end)
	}
	w.stats.Events = w.eng.Fired() - w.stale
	if w.check {
		w.checkCounters()
	}
}

// ---------------------------------------------------------------- tracing

func (w *World) trace(actor, event, detail string) {
	if w.tracer != nil {
		w.tracer.Trace(w.eng.Now(), actor, event, detail)
	}
}

func (w *World) tracef(actor, event, format string, a ...any) {
	if w.tracer != nil {
		w.tracer.Trace(w.eng.Now(), actor, event, fmt.Sprintf(format, a...))
	}
}

// ---------------------------------------------------------------- dispatch

// Handle implements sim.Handler.
func (w *World) Handle(e *sim.Event) {
	w.qbOpen = -1 // sends of this event share a new arrival batch
	now := e.At
	switch e.Kind {
	case evClientStart:
		cl := &w.clients[e.A]
		if w.tracer != nil {
			w.trace(cl.name(), "client-started", "hosts="+w.hostList(&cl.c))
		}
		w.clientEffects(e.A, cl.c.Start(now))
		w.scheduleRequest(e.A)
	case evClientWake:
		cl := &w.clients[e.A]
		if uint32(e.X) != cl.wakeGen || !cl.wakeArmed {
			w.stale++ // re-armed or cleared since: not an event of the model
			return
		}
		cl.wakeArmed = false
		if cl.paused > 0 {
			cl.wakeDue = true
			return
		}
		w.clientEffects(e.A, w.clients[e.A].c.OnWake(now))
	case evClientRequest:
		w.clientInput(e.A, deferredInput{kind: inRequest})
		w.scheduleRequest(e.A)
	case evDeliver:
		w.onDeliver(e.A, dir(e.B&0xff), wire(e.B>>8), clock.Time(e.X))
		w.unref(e.A)
	case evRetransmit:
		w.onRetransmit(e.A, dir(e.B))
		w.unref(e.A)
	case evSYNArrive:
		w.onSYNArrive(e.A, clock.Time(e.X))
		w.unref(e.A)
	case evSYNReply:
		w.onSYNReply(e.A, e.B == 1, clock.Time(e.X))
		w.unref(e.A)
	case evSYNRetry:
		w.onSYNRetry(e.A)
		w.unref(e.A)
	case evQuorum:
		w.onQuorumBatch(int32(e.X))
	case evQuorumRead:
		// A message a paused server's kernel buffered, read on resume.
		w.onQuorum(int32(e.X))
	case evQuorumRelease:
		w.onQuorumRelease(e.A)
	case evServerRead:
		// A packet a paused server's kernel buffered, read on resume.
		cn := &w.conns[e.A]
		if srv := &w.servers[cn.server]; srv.up && cn.serverOpen && cn.serverIncarnation == srv.incarnation {
			w.serverRead(e.A, cn, wire(e.B))
		}
		w.unref(e.A)
	case evExpirer, evDeadline, evElectWake, evLeadTick, evFollowerCheck, evInitLimit, evLeaderServe, evLearnerSync, evJoinRetry:
		w.serverTimer(e)
	case evRollRestart:
		w.onRollRestart(e.A, e.B)
	case evRollNext:
		w.rollNext(e.A)
	case evFaultArm:
		w.onFaultArm(e.A)
	case evFaultStart:
		w.onFaultStart(e.A)
	case evFaultEnd:
		w.onFaultEnd(e.A, int32(e.B))
	case evProbeCrash:
		w.onProbeCrash()
	default:
		panic(fmt.Sprintf("model: unknown event kind %d", e.Kind))
	}
}

// serverTimer runs one of server e.A's timers, or keeps it for when the
// process resumes if it is paused.
func (w *World) serverTimer(e *sim.Event) {
	srv := &w.servers[e.A]
	if srv.paused > 0 && srv.up {
		srv.deferred = append(srv.deferred, *e)
		return
	}
	switch e.Kind {
	case evExpirer:
		w.onExpirer(e.A, uint32(e.X))
	case evDeadline:
		w.onDeadline(e.A, int64(e.X))
	case evElectWake:
		w.onElectWake(e.A, uint32(e.X))
	case evLeadTick:
		w.onLeadTick(e.A, uint32(e.X))
	case evFollowerCheck:
		w.onFollowerCheck(e.A, uint32(e.X))
	case evInitLimit:
		w.onInitLimit(e.A, uint32(e.X))
	case evLeaderServe:
		w.onLeaderServe(e.A, uint32(e.X))
	case evLearnerSync:
		w.onLearnerSync(e.A, e.B, uint32(e.X))
	case evJoinRetry:
		w.onJoinRetry(e.A, uint32(e.X))
	}
}
