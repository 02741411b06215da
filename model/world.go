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
}

// SharedEpisode is one fault episode that hit several clients at once.
type SharedEpisode struct {
	Hit     int // counted clients the episode hit
	Expired int // of which the session expired within the episode's window
}

// ErrInvariant wraps every invariant violation found with Options.Check.
var ErrInvariant = errors.New("model: invariant violated")

type clientSlot struct {
	// What a wakeup of an idle client reads comes first: these fields and
	// the start of c (its hot fields) are contiguous, two cache lines at most.
	wakeAt    clock.Time // when the armed loop timer fires
	wakeGen   uint32     // generation of the armed loop timer; older firings are stale
	conn      int32      // global id of the client's current socket
	paused    int32
	wakeArmed bool // a loop timer is pending
	wakeDue   bool
	probe     bool
	c         Client // the client's loop

	id       int32
	request  sim.Timer
	requests *Sampler
	extra    *clientExtra // rarely needed state, allocated on first use

	connectedSince clock.Time // clock.Never when not SyncConnected
	lastDown       clock.Time // start of the current disconnected interval
	firstConnected clock.Time // clock.Never until the first SyncConnected
	disconnected   time.Duration
	expiries       int32
	exposure       exposure
	crashedAt      clock.Time
}

// clientExtra is per-client state that most runs never need.
type clientExtra struct {
	deferred []deferredInput // inputs that arrived while the process was paused
	anchors  []int32         // fault processes waiting for this client's next touch
}

func (cl *clientSlot) more() *clientExtra {
	if cl.extra == nil {
		cl.extra = &clientExtra{}
	}
	return cl.extra
}

func (cl *clientSlot) name() string { return "client-" + strconv.Itoa(int(cl.id)) }

type exposure struct {
	active     bool
	start, end clock.Time
	counted    bool // an expiry was attributed already
	episode    int  // index in Stats.SharedEpisodes, or -1
}

// inputKind is which Client method an input goes to.
type inputKind uint8

const (
	inMessage      inputKind = iota // OnMessage
	inTCPConnected                  // OnTCPConnected
	inTCPFailed                     // OnTCPFailed
	inAborted                       // OnAborted
	inRequest                       // OnRequest
)

type deferredInput struct {
	kind  inputKind
	local int32
	msg   Message
}

type serverProc struct {
	name        string
	up          bool
	incarnation uint32
	theta       time.Duration
	clockRand   *rand.Rand
	tracker     *Tracker // the leader's (or a standalone server's)
	touches     []touchEntry
	batches     [][]touchEntry // follower batches in flight to the leader
	expirer     sim.Timer
	deadlines   []sim.Timer // rounding off: one timer per session
}

type touchEntry struct {
	session int64
	timeout time.Duration
}

type sessionRec struct {
	alive   bool
	client  int32
	timeout time.Duration // negotiated at creation (persisted)
	conn    int32         // connection it was last established on
}

type connState uint8

const (
	connSYN connState = iota
	connEstablished
	connFailed
)

type connRec struct {
	// What delivering a packet reads comes first (one cache line).
	refs                  int32 // pending events, timers and held packets that name this record
	client, local, server int32
	serverIncarnation     uint32
	state                 connState
	clientOpen            bool
	serverOpen            bool
	synWaiting            bool          // ideal transport: SYN held until the outage ends
	session               int64         // server side: the session bound to the connection
	timeout               time.Duration // server side: the negotiated timeout
	lastRecv              clock.Time
	st                    [2]stream

	serial     int32 // the connection's number in traces (never reused)
	synTries   int32
	reqSession int64 // the ConnectRequest's session (client side)
	synFirst   clock.Time
	synTimer   sim.Timer
}

// stream is one direction of a connection as the kernels see it. Packets in
// flight travel inside their delivery events; the stream only orders them and
// holds what an outage dropped.
type stream struct {
	lost        []packet      // dropped, waiting for retransmission (head of line)
	rto         time.Duration // current retransmission timeout; 0 when nothing is lost
	retries     int32
	waiting     bool // ideal transport: held until the outage ends
	lastArrival clock.Time
	timer       sim.Timer
}

// wire is a packet as it travels: its kind, plus wireRejected on a
// ConnectResponse(0). Sessions and timeouts are read from the connection.
type wire uint8

const wireRejected wire = 0x80

type packet struct {
	sent clock.Time
	w    wire
}

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
	evLearnerPing
	evApplyTouches
	evQuorumConnect
	evQuorumReply
	evCloseCommit
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
		expired: w.expired[:0], freeConns: w.freeConns[:0], lostPool: w.lostPool}
	if w.eng == nil {
		w.eng = sim.NewEngine(w)
	} else {
		w.eng.Reset()
	}
	w.pingLane = w.eng.NewLane()
	t := cfg.Server.Negotiate(cfg.Client.SessionTimeout)
	w.pingDelay = PingPeriod(t)
	w.net = newNetwork(w.net, cfg.Clients+1, cfg.Servers, NewSampler(*cfg.Network.Latency, sim.Stream(cfg.Seed, "network-latency", 0)))
	w.conns = resize(w.conns, 1, cfg.Clients+2+cfg.Clients/256) // reconnects append more
	w.sessions = resize(w.sessions, 1, cfg.Clients+2+cfg.Clients/256)
	w.stats.Clients, w.stats.Horizon = cfg.Clients, cfg.Horizon

	w.servers = resize(w.servers, cfg.Servers, 0)
	for i := range w.servers {
		s := &w.servers[i]
		*s = serverProc{tracker: s.tracker, touches: s.touches[:0], batches: s.batches[:0], deadlines: s.deadlines[:0]}
		s.name = "server-" + strconv.Itoa(i)
		s.clockRand = sim.Stream(cfg.Seed, "server-clock", uint64(i))
		w.startServer(0, int32(i), false)
	}
	if cfg.Servers > 1 {
		w.eng.Post(sim.Event{At: clock.Zero.Add(cfg.Server.TickTime / 2), Kind: evLearnerPing})
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
	return w.stats, w.violation
}

// Engine exposes the engine (tests drive worlds step by step).
func (w *World) Engine() *sim.Engine { return w.eng }

// Client returns client i's state machine.
func (w *World) Client(i int) *Client { return &w.clients[i].c }

// Tracker returns the session tracker of the leader, nil while it is down.
func (w *World) Tracker() *Tracker { return w.servers[w.cfg.Leader].tracker }

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
	case evExpirer:
		w.onExpirer(e.A, uint32(e.X))
	case evDeadline:
		w.onDeadline(e.A, int64(e.X))
	case evLearnerPing:
		w.onLearnerPing()
	case evApplyTouches:
		w.onApplyTouches(e.A, uint32(e.X))
	case evQuorumConnect:
		w.onQuorumConnect(e.A, int64(e.X), uint32(e.B))
		w.unref(e.A)
	case evQuorumReply:
		w.onQuorumReply(e.A, int64(e.X), e.B == 1)
		w.unref(e.A)
	case evCloseCommit:
		w.closeServerConn(e.A, "session-expired")
		w.unref(e.A)
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

// ---------------------------------------------------------------- clients

func (w *World) hostList(c *Client) string {
	b := make([]byte, 0, 16)
	for i, h := range c.Hosts() {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(h), 10)
	}
	return string(b)
}

// clientInput hands one input to client ci, or defers it while the process
// is paused.
func (w *World) clientInput(ci int32, in deferredInput) {
	cl := &w.clients[ci]
	if cl.paused > 0 {
		x := cl.more()
		x.deferred = append(x.deferred, in)
		return
	}
	now := w.eng.Now()
	var effs []Effect
	switch in.kind {
	case inMessage:
		effs = cl.c.OnMessage(now, in.local, in.msg)
	case inTCPConnected:
		effs = cl.c.OnTCPConnected(now, in.local)
	case inTCPFailed:
		effs = cl.c.OnTCPFailed(now, in.local)
	case inAborted:
		effs = cl.c.OnAborted(now, in.local)
	case inRequest:
		effs = cl.c.OnRequest(now)
	}
	w.clientEffects(ci, effs)
}

func (w *World) scheduleRequest(ci int32) {
	cl := &w.clients[ci]
	if cl.requests == nil || !cl.c.Alive() {
		return
	}
	at := w.eng.Now().Add(max(cl.requests.Draw(), time.Microsecond))
	cl.request = w.eng.Schedule(sim.Event{At: at, Kind: evClientRequest, A: ci})
}

func (w *World) clientEffects(ci int32, effs []Effect) {
	cl := &w.clients[ci]
	now := w.eng.Now()
	renew := false
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case EffConnect:
			w.openConn(ci, e.Conn, e.Server)
		case EffSend:
			if e.Msg.Kind == MsgPing && !cl.probe {
				w.stats.Pings++
			}
			w.send(cl.conn, c2s, e.Msg)
		case EffClose:
			w.closeClientConn(ci)
		case EffWake:
			// The loop has one timer. Re-arming it bumps its generation, so
			// an earlier firing still queued is recognised as stale and
			// ignored: cancellation in O(1) without touching the queue.
			cl.wakeDue = false
			if e.At == cl.wakeAt && cl.wakeArmed {
				continue // the loop re-armed the same select timeout
			}
			cl.wakeGen++
			cl.wakeAt, cl.wakeArmed = e.At, e.At != clock.Never
			if cl.wakeArmed {
				ev := sim.Event{At: e.At, Kind: evClientWake, A: ci, X: uint64(cl.wakeGen)}
				if e.At.Sub(now) == w.pingDelay { // the idle loop's next ping: no heap needed
					w.eng.PostOn(w.pingLane, ev)
				} else {
					w.eng.Post(ev)
				}
			}
		case EffState:
			w.onState(ci, e.State)
			renew = renew || e.State == Expired
		case EffNote:
			if w.tracer != nil {
				w.trace(cl.name(), e.Note.String(), w.noteDetail(cl, e))
			}
		}
	}
	if renew && !cl.probe {
		// The application creates a new handle at once, as apps do on Expired.
		if w.tracer != nil {
			w.trace(cl.name(), "session-renewed", "")
		}
		w.clientEffects(ci, cl.c.Renew(now))
	}
}

func (w *World) noteDetail(cl *clientSlot, e *Effect) string {
	conn := ""
	if cl.conn != 0 {
		conn = "conn=" + strconv.Itoa(int(w.conns[cl.conn].serial))
	}
	switch e.Note {
	case noteSpinDelay, noteReconnectDelay:
		return "sleep=" + Duration(e.Dur)
	case noteReadTimeout, noteConnectTimeout, noteClientSessionTimeout:
		return "idle=" + Duration(e.Dur) + " " + conn
	case notePingSent, noteRequestSent:
		return conn + " session=" + hexID(cl.c.SessionID())
	}
	return conn
}

func (w *World) onState(ci int32, s State) {
	cl := &w.clients[ci]
	now := w.eng.Now()
	if w.tracer != nil {
		d := s.String() + " session=" + hexID(cl.c.SessionID())
		if s == SyncConnected {
			d += " timeout=" + Duration(cl.c.Negotiated()) + " server=" + strconv.Itoa(int(w.conns[cl.conn].server))
		}
		w.trace(cl.name(), "state", d)
	}
	if cl.probe {
		return
	}
	switch s {
	case SyncConnected:
		if cl.firstConnected == clock.Never {
			cl.firstConnected = now
		} else {
			w.stats.Reconnects++
			cl.disconnected += now.Sub(cl.lastDown)
		}
		cl.connectedSince = now
		if w.check {
			// The server must have accepted this session on this connection:
			// a live session, touched when the ConnectResponse was written.
			// (A client paused before reading that response may read it after
			// the session expired; real clients then report SyncConnected, and
			// EOF right after.)
			if id := cl.c.SessionID(); cl.conn == 0 || w.conns[cl.conn].session != id {
				w.fail("client %d reported SyncConnected for session %s, which the server did not accept on its connection", ci, hexID(id))
			}
		}
	case Disconnected, Expired:
		if cl.connectedSince != clock.Never {
			cl.disconnectedAt(now)
		}
		if s == Disconnected {
			w.stats.Disconnects++
		} else {
			w.stats.ClientExpired++
		}
	}
}

// disconnectedAt closes a connected interval; the disconnected one starts.
func (cl *clientSlot) disconnectedAt(now clock.Time) {
	cl.connectedSince = clock.Never
	cl.lastDown = now
}

// ---------------------------------------------------------------- transport

func (w *World) openConn(ci, local, server int32) {
	now := w.eng.Now()
	var id int32
	if n := len(w.freeConns); n > 0 {
		id = w.freeConns[n-1]
		w.freeConns = w.freeConns[:n-1]
	} else {
		id = int32(len(w.conns))
		w.conns = append(w.conns, connRec{})
	}
	w.serials++
	w.conns[id] = connRec{serial: w.serials, client: ci, local: local, server: server, clientOpen: true, synFirst: now}
	w.clients[ci].conn = id
	if w.tracer != nil {
		w.tracef(w.clients[ci].name(), "connect-attempt", "server=%d conn=%d", server, w.serials)
	}
	w.sendSYN(id)
}

// synOffset is when the i-th SYN retransmission (1-based) leaves, counted
// from the first SYN.
func (w *World) synOffset(i int) time.Duration {
	if w.cfg.Network.SYN == SYNLinear && i <= 4 {
		return time.Duration(i) * time.Second
	}
	if w.cfg.Network.SYN == SYNLinear {
		return 4*time.Second + (time.Duration(1)<<(i-3)-2)*time.Second // then gaps of 2, 4, 8 s
	}
	return (time.Duration(1)<<i - 1) * time.Second
}

const synRetries int32 = 6 // Linux tcp_syn_retries

func (w *World) sendSYN(id int32) {
	cn := &w.conns[id]
	now := w.eng.Now()
	cn.refs += 2 // the SYN, and its retry timer or (ideal) nothing
	w.post(sim.Event{At: now.Add(w.net.delay()), Kind: evSYNArrive, A: id, X: uint64(now)})
	if w.cfg.Network.Transport == TCP && cn.synTries < synRetries {
		cn.synTimer = w.eng.Schedule(sim.Event{At: cn.synFirst.Add(w.synOffset(int(cn.synTries) + 1)), Kind: evSYNRetry, A: id})
	} else {
		cn.refs--
	}
}

func (w *World) onSYNRetry(id int32) {
	cn := &w.conns[id]
	if cn.state != connSYN || !cn.clientOpen {
		return
	}
	cn.synTries++
	if w.tracer != nil {
		w.tracef(w.clients[cn.client].name(), "syn-sent", "conn=%d retry=%d", w.conns[id].serial, cn.synTries)
	}
	w.sendSYN(id)
}

func (w *World) onSYNArrive(id int32, sent clock.Time) {
	cn := &w.conns[id]
	if cn.state != connSYN || !cn.clientOpen {
		return
	}
	now := w.eng.Now()
	if w.net.lost(now, sent, cn.client, cn.server, c2s) {
		if w.tracer != nil {
			w.tracef("network", "packet-lost", "syn conn=%d", w.conns[id].serial)
		}
		if w.cfg.Network.Transport == Ideal && !cn.synWaiting {
			cn.synWaiting = true
			w.waiters = append(w.waiters, id)
			cn.refs++
		}
		return
	}
	srv := &w.servers[cn.server]
	refused := uint64(0)
	delay := w.net.delay() + w.cfg.Network.ConnectLatency
	if srv.up {
		cn.serverOpen = true
		cn.serverIncarnation = srv.incarnation
		cn.lastRecv = now
		if r := w.cfg.Client.FixedReconnect; r > 0 {
			// Oracle: the ConnectRequest reaches the server exactly R after
			// the SYN got through.
			delay = max(r-w.net.delay(), 0)
		}
	} else {
		refused = 1
	}
	cn.refs++
	w.eng.Post(sim.Event{At: now.Add(delay), Kind: evSYNReply, A: id, B: int32(refused), X: uint64(now)})
}

func (w *World) onSYNReply(id int32, refused bool, sent clock.Time) {
	cn := &w.conns[id]
	if cn.state != connSYN || !cn.clientOpen {
		return
	}
	now := w.eng.Now()
	if w.cfg.Client.FixedReconnect == 0 && w.net.lost(now, sent, cn.client, cn.server, s2c) {
		if w.tracer != nil {
			w.tracef("network", "packet-lost", "syn-ack conn=%d", w.conns[id].serial)
		}
		if w.cfg.Network.Transport == Ideal && !cn.synWaiting {
			cn.synWaiting = true
			w.waiters = append(w.waiters, id)
			cn.refs++
		}
		return
	}
	w.stopConnTimer(id, cn.synTimer)
	if refused {
		cn.state = connFailed
		w.clientInput(cn.client, deferredInput{kind: inTCPFailed, local: cn.local})
		return
	}
	cn.state = connEstablished
	w.clientInput(cn.client, deferredInput{kind: inTCPConnected, local: cn.local})
}

// send writes m on connection id in direction d.
func (w *World) send(id int32, d dir, m Message) {
	if id == 0 {
		return
	}
	cn := &w.conns[id]
	x := wire(m.Kind)
	switch m.Kind {
	case MsgConnectRequest:
		cn.reqSession = m.Session // the timeout is the client's configured T_req
	case MsgConnectResponse:
		if m.Timeout <= 0 {
			x |= wireRejected
		}
	}
	w.write(id, cn, d, x)
}

// write puts packet x on connection id (cn = &w.conns[id]) in direction d:
// on the wire, or behind the stream's lost packets.
func (w *World) write(id int32, cn *connRec, d dir, x wire) {
	w.written++
	if st := &cn.st[d]; len(st.lost) > 0 || st.waiting {
		w.hold(st, packet{w: x, sent: w.eng.Now()})
		return
	}
	w.transmit(id, d, x)
}

// transmit puts a packet on the wire: its arrival is an event that pins the
// connection.
func (w *World) transmit(id int32, d dir, x wire) {
	now := w.eng.Now()
	cn := &w.conns[id]
	cn.refs++
	ev := sim.Event{Kind: evDeliver, A: id, B: int32(d) | int32(x)<<8, X: uint64(now)}
	if w.net.isFixed {
		ev.At = now.Add(w.net.fixed)
	} else {
		st := &cn.st[d]
		ev.At = max(now.Add(w.net.delay()), st.lastArrival) // TCP delivers in order
		st.lastArrival = ev.At
	}
	w.post(ev)
}

// post queues a packet's (or a SYN's) arrival: on the engine's default lane
// when the latency is constant, since arrivals then never go back in posting
// order, on the heap otherwise.
func (w *World) post(ev sim.Event) {
	if w.net.isFixed {
		w.eng.PostOrdered(ev)
	} else {
		w.eng.Post(ev)
	}
}

// message rebuilds the Message a wire code stands for on connection cn.
func (w *World) message(cn *connRec, x wire) Message {
	m := Message{Kind: MsgKind(x &^ wireRejected)}
	switch {
	case m.Kind == MsgConnectRequest:
		m.Session, m.Timeout = cn.reqSession, w.cfg.Client.SessionTimeout
	case m.Kind == MsgConnectResponse && x&wireRejected == 0:
		m.Session, m.Timeout = cn.session, cn.timeout
	case m.Kind == MsgPing || m.Kind == MsgRequest || m.Kind == MsgPingReply || m.Kind == MsgReply:
		m.Session = cn.session
	}
	return m
}

func (w *World) onDeliver(id int32, d dir, x wire, sent clock.Time) {
	cn := &w.conns[id]
	st := &cn.st[d]
	p := packet{w: x, sent: sent}
	now := w.eng.Now()
	if len(st.lost) > 0 || st.waiting {
		w.hold(st, p) // behind a lost segment: held by the receiver's TCP
		return
	}
	if w.net.lost(now, p.sent, cn.client, cn.server, d) {
		if w.tracer != nil {
			w.tracef("network", "packet-lost", "%s conn=%d %s", MsgKind(x&^wireRejected), w.conns[id].serial, dirName(d))
		}
		w.hold(st, p)
		w.armRetransmit(id, d, p.sent)
		return
	}
	if st.retries != 0 || st.rto != 0 {
		if st.retries > 0 && w.tracer != nil {
			w.tracef("network", "delivered-late", "%s conn=%d %s", MsgKind(x&^wireRejected), w.conns[id].serial, dirName(d))
		}
		st.rto, st.retries = 0, 0
	}
	if w.check {
		if w.net.down(cn.client, cn.server, d) {
			w.fail("%s delivered on connection %d while its path is cut", MsgKind(x&^wireRejected), cn.serial)
		}
		w.delivered++
		if w.delivered > w.written {
			w.fail("more packets delivered (%d) than written (%d)", w.delivered, w.written)
		}
	}
	if d == c2s {
		w.serverReceive(id, cn, x)
	} else if cn.clientOpen {
		w.clientInput(cn.client, deferredInput{kind: inMessage, local: cn.local, msg: w.message(cn, x)})
	}
}

func dirName(d dir) string {
	if d == c2s {
		return "client-to-server"
	}
	return "server-to-client"
}

func (w *World) armRetransmit(id int32, d dir, sent clock.Time) {
	st := &w.conns[id].st[d]
	if w.cfg.Network.Transport == Ideal {
		if !st.waiting {
			st.waiting = true
			w.waiters = append(w.waiters, id)
			w.conns[id].refs++
		}
		return
	}
	if w.eng.Active(st.timer) {
		return
	}
	if st.rto == 0 {
		st.rto = w.cfg.Network.RTOMin
	}
	w.conns[id].refs++
	st.timer = w.eng.Schedule(sim.Event{At: max(w.eng.Now(), sent.Add(st.rto)), Kind: evRetransmit, A: id, B: int32(d)})
}

func (w *World) onRetransmit(id int32, d dir) {
	cn := &w.conns[id]
	st := &cn.st[d]
	if len(st.lost) == 0 {
		return
	}
	senderOpen := cn.clientOpen
	if d == s2c {
		senderOpen = cn.serverOpen
	}
	limit := int32(w.cfg.Network.DataRetries)
	word := "retransmit"
	if !senderOpen {
		limit, word = int32(w.cfg.Network.OrphanRetries), "orphan-retransmit"
	}
	st.retries++
	if st.retries > limit {
		w.drop(st)
		st.rto = 0
		if senderOpen {
			if d == c2s {
				w.clientInput(cn.client, deferredInput{kind: inAborted, local: cn.local})
			} else {
				cn.serverOpen = false
			}
		}
		return
	}
	if w.tracer != nil {
		w.tracef("network", word, "conn=%d %s packets=%d try=%d", w.conns[id].serial, dirName(d), len(st.lost), st.retries)
	}
	st.rto = min(2*st.rto, w.cfg.Network.RTOMax)
	w.resend(id, d)
}

// hold appends p to the stream's lost queue, taking a buffer from the pool
// when the queue has none.
func (w *World) hold(st *stream, p packet) {
	if st.lost == nil {
		if n := len(w.lostPool); n > 0 {
			st.lost = w.lostPool[n-1]
			w.lostPool = w.lostPool[:n-1]
		}
	}
	st.lost = append(st.lost, p)
}

// drop discards the stream's lost queue and returns its buffer to the pool.
func (w *World) drop(st *stream) {
	if st.lost != nil {
		w.lostPool = append(w.lostPool, st.lost[:0])
		st.lost = nil
	}
}

// resend transmits everything held in the lost queue and returns its buffer
// to the pool: retransmissions allocate nothing once the pool is warm.
func (w *World) resend(id int32, d dir) {
	st := &w.conns[id].st[d]
	q := st.lost
	st.lost = nil
	for _, p := range q {
		w.transmit(id, d, p.w)
	}
	w.lostPool = append(w.lostPool, q[:0])
}

// onHeal releases what the ideal transport held back, once paths are up.
func (w *World) onHeal() {
	keep := w.waiters[:0]
	for _, id := range w.waiters {
		cn := &w.conns[id]
		held := false
		if cn.synWaiting {
			if w.net.down(cn.client, cn.server, c2s) || w.net.down(cn.client, cn.server, s2c) {
				held = true
			} else {
				cn.synWaiting = false
				if cn.state == connSYN && cn.clientOpen {
					w.sendSYN(id)
				}
			}
		}
		for d := c2s; d <= s2c; d++ {
			st := &cn.st[d]
			if !st.waiting {
				continue
			}
			if w.net.down(cn.client, cn.server, d) {
				held = true
				continue
			}
			st.waiting = false
			w.resend(id, d)
		}
		if held {
			keep = append(keep, id)
		} else {
			w.unref(id)
		}
	}
	w.waiters = keep
}

// stopConnTimer stops a timer that pins connection id.
func (w *World) stopConnTimer(id int32, t sim.Timer) {
	if w.eng.Stop(t) {
		w.conns[id].refs--
	}
}

// unref drops one pin of connection id and recycles it when nothing needs it.
func (w *World) unref(id int32) {
	cn := &w.conns[id]
	cn.refs--
	if cn.refs <= 0 {
		if cn.refs < 0 {
			panic(fmt.Sprintf("model: connection %d unpinned more often than pinned", cn.serial))
		}
		w.tryFree(id)
	}
}

// tryFree recycles connection id once both ends are closed and no event,
// timer or held packet refers to it.
func (w *World) tryFree(id int32) {
	cn := &w.conns[id]
	if cn.refs != 0 || cn.clientOpen || cn.serverOpen || len(cn.st[0].lost) != 0 || len(cn.st[1].lost) != 0 {
		return
	}
	if cn.session != 0 && w.sessions[cn.session].conn == id {
		w.sessions[cn.session].conn = 0
	}
	w.drop(&cn.st[0])
	w.drop(&cn.st[1])
	*cn = connRec{}
	w.freeConns = append(w.freeConns, id)
}

// closeClientConn is the client closing its current socket.
func (w *World) closeClientConn(ci int32) {
	cl := &w.clients[ci]
	id := cl.conn
	if id == 0 {
		return
	}
	cn := &w.conns[id]
	if !cn.clientOpen {
		return
	}
	cn.clientOpen = false
	cl.conn = 0
	if cn.state == connFailed {
		w.tryFree(id)
		return
	}
	if cn.state == connSYN {
		w.stopConnTimer(id, cn.synTimer)
		cn.state = connFailed
		w.tryFree(id)
		return
	}
	if w.cfg.Network.NoOrphanRetransmit {
		st := &cn.st[c2s]
		w.drop(st)
		w.stopConnTimer(id, st.timer)
	}
	w.send(id, c2s, Message{Kind: MsgClose})
}

// closeServerConn is a server closing connection id (FIN to the client).
func (w *World) closeServerConn(id int32, why string) {
	cn := &w.conns[id]
	if !cn.serverOpen || !w.servers[cn.server].up || cn.serverIncarnation != w.servers[cn.server].incarnation {
		return
	}
	cn.serverOpen = false
	if w.tracer != nil {
		w.tracef(w.servers[cn.server].name, "connection-closed", "conn=%d client=%d reason=%s", w.conns[id].serial, cn.client, why)
	}
	w.send(id, s2c, Message{Kind: MsgClose})
}

// ---------------------------------------------------------------- servers

func (w *World) startServer(now clock.Time, s int32, restart bool) {
	srv := &w.servers[s]
	srv.up = true
	srv.incarnation++
	srv.theta = time.Duration(srv.clockRand.Int64N(int64(w.cfg.Server.TickTime)))
	srv.touches = srv.touches[:0]
	srv.batches = srv.batches[:0]
	if int(s) != w.cfg.Leader {
		if restart {
			if w.tracer != nil {
				w.trace(srv.name, "server-restarted", "role=follower")
			}
		}
		return
	}
	sc := w.cfg.Server
	srv.tracker = recycleTracker(srv.tracker, now, sc.TickTime, srv.theta, sc.MaxSessionTimeout, !sc.NoBucketRounding)
	restored := 0
	for id := range w.sessions {
		if w.sessions[id].alive {
			w.trackerTouch(now, int64(id), w.sessions[id].timeout, true)
			restored++
		}
	}
	if restart {
		if w.tracer != nil {
			w.tracef(srv.name, "server-restarted", "role=leader restored-sessions=%d", restored)
		}
	}
	if srv.tracker.Rounding() {
		srv.expirer = w.eng.Schedule(sim.Event{At: srv.tracker.NextBoundary(), Kind: evExpirer, A: s, X: uint64(srv.incarnation)})
	}
}

func (w *World) leader() *serverProc {
	srv := &w.servers[w.cfg.Leader]
	if !srv.up {
		return nil
	}
	return srv
}

// trackerTouch touches (or, with add, tracks) a session at the leader.
func (w *World) trackerTouch(now clock.Time, id int64, timeout time.Duration, add bool) bool {
	srv := w.leader()
	if srv == nil {
		return false
	}
	var d clock.Time
	ok := true
	if add {
		d = srv.tracker.Add(now, id, timeout)
	} else {
		d, ok = srv.tracker.Touch(now, id, timeout)
	}
	if !ok {
		if w.tracer != nil {
			w.tracef(srv.name, "touch-failed", "session=%s", hexID(id))
		}
		return false
	}
	if w.tracer != nil {
		w.tracef(srv.name, "touch", "session=%s deadline=%s", hexID(id), Seconds(d))
	}
	if !srv.tracker.Rounding() {
		for int64(len(srv.deadlines)) <= id {
			srv.deadlines = append(srv.deadlines, sim.Timer{})
		}
		w.eng.Stop(srv.deadlines[id])
		srv.deadlines[id] = w.eng.Schedule(sim.Event{At: d, Kind: evDeadline, A: int32(w.cfg.Leader), X: uint64(id)})
	}
	w.touched(now, id)
	return true
}

// serverReceive is a server process reading packet x on connection id
// (cn = &w.conns[id]).
func (w *World) serverReceive(id int32, cn *connRec, x wire) {
	srv := &w.servers[cn.server]
	if !srv.up || !cn.serverOpen || cn.serverIncarnation != srv.incarnation {
		return // the process died or closed the connection: a reset
	}
	now := w.eng.Now()
	if !w.cfg.Server.NoConnReaper && w.reaped(cn, srv, now) {
		cn.serverOpen = false
		if w.tracer != nil {
			w.tracef(srv.name, "connection-reaped", "conn=%d client=%d idle=%s", w.conns[id].serial, cn.client, Duration(now.Sub(cn.lastRecv)))
		}
		w.send(id, s2c, Message{Kind: MsgClose})
		return
	}
	cn.lastRecv = now
	leader := int(cn.server) == w.cfg.Leader
	switch m := MsgKind(x &^ wireRejected); m {
	case MsgConnectRequest:
		m := w.message(cn, x)
		t := w.cfg.Server.Negotiate(m.Timeout)
		cn.timeout = t
		if w.tracer != nil {
			w.tracef(srv.name, "connect-request", "conn=%d client=%d session=%s requested=%s", w.conns[id].serial, cn.client, hexID(m.Session), Duration(m.Timeout))
		}
		if leader {
			w.leaderConnect(id, m.Session)
		} else {
			cn.refs++
			w.eng.Post(sim.Event{At: now.Add(w.cfg.Server.QuorumLatency), Kind: evQuorumConnect, A: id, X: uint64(m.Session), B: int32(srv.incarnation)})
		}
	case MsgPing, MsgRequest:
		if cn.session == 0 {
			return
		}
		reply := MsgPingReply
		if m == MsgRequest {
			reply = MsgReply
		}
		if leader {
			if !w.trackerTouch(now, cn.session, cn.timeout, false) {
				return // MissingSessionException: dropped
			}
		} else {
			srv.touches = append(srv.touches, touchEntry{session: cn.session, timeout: cn.timeout})
			if w.tracer != nil {
				w.tracef(srv.name, "touch-queued", "session=%s", hexID(cn.session))
			}
		}
		w.write(id, cn, s2c, wire(reply))
	case MsgClose:
		cn.serverOpen = false
		if w.tracer != nil {
			w.tracef(srv.name, "connection-closed", "conn=%d client=%d reason=client-closed", w.conns[id].serial, cn.client)
		}
	}
}

// reaped is the 3.5+ NIO connection reaper, evaluated lazily: the
// connection's deadline is its last receive plus its session timeout,
// rounded up to the reaper's 10 s interval on the process clock.
func (w *World) reaped(cn *connRec, srv *serverProc, now clock.Time) bool {
	timeout := cn.timeout
	if timeout == 0 {
		timeout = reaperInterval
	}
	if now.Sub(cn.lastRecv) < timeout {
		return false // the rounded deadline is later still (the common case)
	}
	local := cn.lastRecv.Add(timeout + srv.theta)
	deadline := clock.Time((int64(local)/int64(reaperInterval)+1)*int64(reaperInterval)) - clock.Time(srv.theta)
	return now >= deadline
}

const reaperInterval = 10 * time.Second

// leaderConnect is the tracker's side of a ConnectRequest: create a session
// or revalidate one, then answer (directly, or through the follower).
func (w *World) leaderConnect(id int32, session int64) {
	cn := &w.conns[id]
	now := w.eng.Now()
	ok := false
	if w.leader() != nil {
		if session == 0 {
			session = int64(len(w.sessions))
			w.sessions = append(w.sessions, sessionRec{alive: true, client: cn.client, timeout: cn.timeout})
			if w.tracer != nil {
				w.tracef(w.servers[w.cfg.Leader].name, "session-created", "session=%s client=%d timeout=%s", hexID(session), cn.client, Duration(cn.timeout))
			}
			ok = w.trackerTouch(now, session, cn.timeout, true)
		} else {
			ok = w.trackerTouch(now, session, cn.timeout, false)
			if ok {
				if w.tracer != nil {
					w.tracef(w.servers[w.cfg.Leader].name, "session-revalidated", "session=%s conn=%d", hexID(session), w.conns[id].serial)
				}
			}
		}
	} else {
		return // no leader: nobody answers; the client's connect timeout fires
	}
	if int(cn.server) == w.cfg.Leader {
		w.answerConnect(id, session, ok)
		return
	}
	b := int32(0)
	if ok {
		b = 1
	}
	cn.refs++
	w.eng.Post(sim.Event{At: now.Add(w.cfg.Server.QuorumLatency), Kind: evQuorumReply, A: id, X: uint64(session), B: b})
}

func (w *World) onQuorumConnect(id int32, session int64, incarnation uint32) {
	cn := &w.conns[id]
	if w.servers[cn.server].incarnation != incarnation {
		return
	}
	w.leaderConnect(id, session)
}

func (w *World) onQuorumReply(id int32, session int64, ok bool) {
	w.answerConnect(id, session, ok)
}

func (w *World) answerConnect(id int32, session int64, ok bool) {
	cn := &w.conns[id]
	srv := &w.servers[cn.server]
	if !srv.up || !cn.serverOpen || cn.serverIncarnation != srv.incarnation {
		return
	}
	if !ok {
		if w.tracer != nil {
			w.tracef(srv.name, "session-rejected", "session=%s conn=%d", hexID(session), w.conns[id].serial)
		}
		w.send(id, s2c, Message{Kind: MsgConnectResponse})
		w.closeServerConn(id, "session-expired")
		return
	}
	cn.session = session
	w.sessions[session].conn = id
	w.send(id, s2c, Message{Kind: MsgConnectResponse, Session: session, Timeout: cn.timeout})
}

func (w *World) onExpirer(s int32, incarnation uint32) {
	srv := &w.servers[s]
	if !srv.up || srv.incarnation != incarnation || srv.tracker == nil {
		return
	}
	now := w.eng.Now()
	w.expired = srv.tracker.Expire(now, w.expired[:0])
	if len(w.expired) > 0 {
		if w.tracer != nil {
			w.tracef(srv.name, "bucket-expired", "boundary=%s sessions=%d", Seconds(now), len(w.expired))
		}
	}
	for _, id := range w.expired {
		w.expireSession(id)
	}
	srv.expirer = w.eng.Schedule(sim.Event{At: srv.tracker.NextBoundary(), Kind: evExpirer, A: s, X: uint64(incarnation)})
}

func (w *World) onDeadline(s int32, id int64) {
	srv := &w.servers[s]
	if !srv.up || srv.tracker == nil {
		return
	}
	if srv.tracker.ExpireAt(w.eng.Now(), id) {
		w.expireSession(id)
	}
}

// expireSession is the tracker expiring id: closeSession commits, the
// session leaves the ensemble, and the server holding its connection closes it.
func (w *World) expireSession(id int64) {
	now := w.eng.Now()
	srv := w.leader()
	tr := srv.tracker
	rec := &w.sessions[id]
	last, timeout := tr.LastTouch(id), tr.Timeout(id)
	if w.tracer != nil {
		w.tracef(srv.name, "session-expired", "session=%s client=%d timeout=%s last-touch=%s idle=%s",
			hexID(id), rec.client, Duration(timeout), Seconds(last), Duration(now.Sub(last)))
	}
	if w.check {
		idle := now.Sub(last)
		k := time.Duration(0)
		if tr.Rounding() {
			k = w.cfg.Server.TickTime
		}
		if idle < timeout || idle > timeout+k+time.Millisecond || (tr.Rounding() && idle == timeout) {
			w.fail("session %s expired %v after its last touch, outside (T, T+k] with T=%v", hexID(id), idle, timeout)
		}
	}
	tr.Remove(id)
	rec.alive = false
	cl := &w.clients[rec.client]
	if cl.probe {
		if cl.crashedAt != clock.Never && !w.stats.DetectionMeasured {
			w.stats.DetectionTime = now.Sub(cl.crashedAt)
			w.stats.DetectionMeasured = true
		}
	} else {
		w.stats.Expiries++
		cl.expiries++
		w.attribute(cl, now)
	}
	if rec.conn != 0 {
		cn := &w.conns[rec.conn]
		if int(cn.server) == w.cfg.Leader {
			w.closeServerConn(rec.conn, "session-expired")
		} else {
			cn.refs++
			w.eng.Post(sim.Event{At: now.Add(2 * w.cfg.Server.QuorumLatency), Kind: evCloseCommit, A: rec.conn})
		}
	}
}

// onLearnerPing is the leader's half-tick PING to its followers; each answers
// with the touches it collected, which the leader applies one round trip later.
func (w *World) onLearnerPing() {
	now := w.eng.Now()
	if w.leader() != nil {
		for i := range w.servers {
			srv := &w.servers[i]
			if i == w.cfg.Leader || !srv.up || len(srv.touches) == 0 {
				continue
			}
			batch := srv.touches
			srv.touches = nil
			srv.batches = append(srv.batches, batch)
			w.eng.Post(sim.Event{At: now.Add(2 * w.cfg.Server.QuorumLatency), Kind: evApplyTouches, A: int32(i), X: uint64(srv.incarnation)})
		}
	}
	w.eng.Post(sim.Event{At: now.Add(w.cfg.Server.TickTime / 2), Kind: evLearnerPing})
}

func (w *World) onApplyTouches(s int32, incarnation uint32) {
	srv := &w.servers[s]
	if len(srv.batches) == 0 {
		return
	}
	batch := srv.batches[0]
	srv.batches = srv.batches[1:]
	if srv.incarnation != incarnation || w.leader() == nil {
		return
	}
	if w.tracer != nil {
		w.tracef(w.servers[w.cfg.Leader].name, "touches-forwarded", "from=%s sessions=%d", srv.name, len(batch))
	}
	now := w.eng.Now()
	for _, t := range batch {
		w.trackerTouch(now, t.session, t.timeout, false)
	}
}

// checkCounters verifies that the run's counters add up (Options.Check).
func (w *World) checkCounters() {
	st := &w.stats
	if st.ExpiredExposures > st.Exposures {
		w.fail("%d expired exposures out of %d exposures", st.ExpiredExposures, st.Exposures)
	}
	shared := 0
	for _, e := range st.SharedEpisodes {
		if e.Expired > e.Hit {
			w.fail("a shared episode hit %d clients and expired %d", e.Hit, e.Expired)
		}
		shared += e.Expired
	}
	if shared > st.ExpiredExposures {
		w.fail("%d expiries in shared episodes, %d expired exposures in all", shared, st.ExpiredExposures)
	}
	if st.ClientsExpired > st.Clients || st.ClientsExpired > st.Expiries {
		w.fail("%d clients expired, %d clients, %d expiries", st.ClientsExpired, st.Clients, st.Expiries)
	}
	// Without client-side expiry (3.9), a client learns Expired only from a
	// tracker that expired its session.
	if w.cfg.Client.Version != V39 && st.ClientExpired > st.Expiries {
		w.fail("%d Expired events but only %d tracker expiries", st.ClientExpired, st.Expiries)
	}
	if st.DisconnectedTime > st.ObservedTime {
		w.fail("disconnected %v out of %v observed", st.DisconnectedTime, st.ObservedTime)
	}
}
