package model

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Version selects which ZooKeeper client loop a client runs (zk-semantics §1.8).
type Version uint8

// The client version profiles.
const (
	// V38 is ZooKeeper 3.4.6 to 3.9.2: the -1000 ms / 10 s ping tweak, the
	// random pre-connect sleep only after the first TCP connect, the spin delay
	// when wrapping to the last handshaken host, and no client-side expiry.
	V38 Version = iota
	// V33 is the seed's 3.3.3 loop: ping at rt/2, random sleep before every
	// attempt but the first, spin delay on the last TCP-connected host.
	V33
	// V39 is 3.9.3 and later: V38 plus client-side expiry at 4T/3 of silence,
	// connect deadline on idle send, last-heard not reset on errors.
	V39
)

var versionNames = [...]string{"3.8", "3.3", "3.9"}

func (v Version) String() string {
	if int(v) < len(versionNames) {
		return versionNames[v]
	}
	return fmt.Sprintf("Version(%d)", v)
}

// ParseVersion accepts "3.3", "3.8" or "3.9".
func ParseVersion(s string) (Version, bool) {
	for i, n := range versionNames {
		if n == s {
			return Version(i), true
		}
	}
	return 0, false
}

// Transport selects how lost packets come back.
type Transport uint8

// Transports.
const (
	// TCP retransmits lost data as Linux does (a tail loss probe, then RTO
	// backoff) and lost SYNs on the SYN schedule; the client's orphaned
	// socket keeps retransmitting after close.
	TCP Transport = iota
	// Ideal delivers every packet lost to an outage the instant the outage ends
	// (the closed-form oracle's transport).
	Ideal
)

func (t Transport) String() string {
	if t == Ideal {
		return "ideal"
	}
	return "tcp"
}

// SYNSchedule is the kernel's SYN retransmission rule.
type SYNSchedule uint8

// SYN schedules (zk-semantics §1.6). The SYN's first RTO is 1 s; the kernel
// retransmits when it fires and then, in the classic rule, doubles it.
const (
	// SYNClassic is Linux before 6.5, or any kernel with
	// tcp_syn_linear_timeouts=0: gaps of 1, 2, 4, 8, ... s, i.e. sends at +1,
	// +3, +7, +15, +31, +63 s after the first SYN, tcp_syn_retries (6) of them.
	SYNClassic SYNSchedule = iota
	// SYNLinear is Linux >= 6.5 (tcp_syn_linear_timeouts, default 4): the
	// first linear-timeouts RTOs do not back off, which gives one more 1 s gap
	// than their number, then doubling: with 4, sends at +1, +2, +3, +4, +5,
	// +7, +11, +19, +35, +67 s, tcp_syn_retries + tcp_syn_linear_timeouts (10)
	// of them.
	SYNLinear
)

// Linux's limits and defaults for the SYN settings (net/ipv4: MAX_TCP_SYNCNT,
// TCP_SYN_RETRIES, the tcp_syn_linear_timeouts default).
const (
	MaxSYNRetries            = 127
	DefaultSYNRetries        = 6
	DefaultSYNLinearTimeouts = 4
	synInitialRTO            = time.Second // TCP_TIMEOUT_INIT: no RTT sample yet
)

func (s SYNSchedule) String() string {
	if s == SYNLinear {
		return "linear"
	}
	return "classic"
}

// Config is everything one simulated run needs. Zero values of optional
// fields mean the documented default; Defaults fills them in.
type Config struct {
	Seed    uint64
	Horizon time.Duration // the run covers [0, Horizon]
	Clients int           // client sessions (each its own client process)
	Servers int           // ensemble size; 1 = standalone
	Leader  int           // index of the server holding the session tracker

	Server  ServerConfig
	Client  ClientConfig
	Network NetworkConfig
	Faults  []Fault

	// DeadClientProbe adds one extra session that crashes at a random instant
	// and is not counted among Clients; the run reports how long its session
	// lingered on the tracker (the dead-client detection time).
	DeadClientProbe bool
}

// ServerConfig is the ZooKeeper server side (zk-semantics §2).
type ServerConfig struct {
	TickTime          time.Duration // k; default 2 s
	MinSessionTimeout time.Duration // default 2k
	MaxSessionTimeout time.Duration // default 20k
	// NoBucketRounding expires a session exactly T after its last touch instead
	// of at the next tick boundary (closed-form oracle switch).
	NoBucketRounding bool
	// QuorumLatency is the one-way leader<->follower delay; default 0.5 ms.
	QuorumLatency time.Duration
	// NoConnReaper disables the 3.5+ NIO connection reaper (idle connections
	// closed after about T..T+10 s), which bounds the orphaned-socket path.
	NoConnReaper bool

	// SyncLimit and InitLimit are zoo.cfg's syncLimit and initLimit, in
	// ticks (defaults 5 and 10): a follower abandons a leader it has not
	// heard from for SyncLimit ticks and a leader counts a follower as
	// synced while its last ack is at most SyncLimit ticks old; a new
	// leadership that is not serving InitLimit ticks after its election is
	// abandoned (zk-semantics §2.8).
	SyncLimit, InitLimit int
	// SyncTime is the law of the time from a quorum having connected to a
	// new leader until it serves (loading its database, DIFF or SNAP to the
	// followers), and from a follower joining a serving leader until it
	// serves; the epoch and NEWLEADER round trips come on top. Default
	// fixed 100 ms.
	SyncTime *Law
	// FinalizeWait is FastLeaderElection's finalizeWait (default 200 ms),
	// also the first wait before notifications are sent again;
	// MaxNotificationInterval caps that doubling wait (default 60 s).
	FinalizeWait, MaxNotificationInterval time.Duration
	// ResumeOrder is which thread of a server resuming from a pause runs
	// first: the session expirer or the request threads (zk-semantics §2.8).
	ResumeOrder ResumeOrder
}

// ResumeOrder orders the threads of a server that resumes from a pause.
type ResumeOrder uint8

// Resume orders.
const (
	// ExpirerFirst drains every overdue expiry bucket before the buffered
	// requests touch anything (the pessimistic, commonly reported case).
	ExpirerFirst ResumeOrder = iota
	// RequestsFirst processes the buffered requests (and quorum messages)
	// first, then the expirer.
	RequestsFirst
)

func (o ResumeOrder) String() string {
	if o == RequestsFirst {
		return "requests-first"
	}
	return "expirer-first"
}

// ClientConfig is the ZooKeeper client side (zk-semantics §1).
type ClientConfig struct {
	SessionTimeout time.Duration // T_req; default 10 s
	Version        Version
	// Hosts is the connect string as server indices; default every server once.
	Hosts []int
	// KeepHostOrder skips the one-time shuffle of the host list.
	KeepHostOrder bool
	// AbsentHosts is how many addresses of the connect string have no
	// ZooKeeper server at all (a closed port: connects are refused at
	// once). They are host indices Servers .. Servers+AbsentHosts-1; an
	// outage with that server index black-holes one instead.
	AbsentHosts int
	// RequestInterval, when non-nil, is the law of the gap between
	// application requests (each resets lastSend and touches the session).
	RequestInterval *Law
	// FixedReconnect, when > 0, replaces the reconnect mechanics by a constant:
	// the session is touched exactly FixedReconnect after the client can first
	// reach a server again (closed-form oracle switch; no sleeps, no connect
	// timeouts).
	FixedReconnect time.Duration
}

// NetworkConfig is the client<->server paths and the transport.
type NetworkConfig struct {
	Latency   *Law // one-way delay per packet; nil = fixed 1 ms
	Transport Transport
	SYN       SYNSchedule
	// SYNRetries is tcp_syn_retries: how many times the kernel retransmits a
	// SYN (the linear schedule adds SYNLinearTimeouts) before connect fails
	// with ETIMEDOUT one RTO after the last one; default 6, at most 127.
	SYNRetries int
	// SYNLinearTimeouts is tcp_syn_linear_timeouts of the linear schedule:
	// the number of SYN RTOs that do not back off; default 4, at most 127.
	// The classic schedule is the value 0 and must leave the field 0.
	SYNLinearTimeouts int
	// NoTailLossProbe turns off the tail loss probe (Linux tcp_early_retrans
	// below 3, or a peer without SACK): a lost segment then waits for the RTO,
	// which doubles after every retransmission.
	NoTailLossProbe bool
	// ConnectLatency is added to every TCP handshake (server-side accept
	// work, TLS, a load balancer): the connect completes this much later
	// than one round trip after the SYN got through. Default 0.
	ConnectLatency time.Duration
	// NoOrphanRetransmit drops a closed socket's unacknowledged bytes instead
	// of letting the kernel keep retransmitting them (zk-semantics §3.1 B.2).
	NoOrphanRetransmit bool
	// RTOMin is Linux's rto_min, the floor of the RTO's variance term: a
	// data segment's first RTO is SRTT + RTOMin (see dataRTO); default 200 ms.
	RTOMin time.Duration
	// RTOMax caps every RTO, the SYN's included (TCP_RTO_MAX); default 120 s.
	RTOMax time.Duration
	// OrphanRetries is how many RTO retransmissions an orphaned socket makes
	// before the kernel gives up (Linux tcp_orphan_retries=0 means 8);
	// default 8. The tail loss probe is not one of them.
	OrphanRetries int
	// DataRetries is tcp_retries2: RTO retransmissions before an open
	// connection is aborted with ETIMEDOUT; default 15. The tail loss probe
	// is not one of them.
	DataRetries int
}

// FaultKind is what a fault does.
type FaultKind uint8

// Fault kinds.
const (
	// Outage drops packets silently on the selected paths (no reset).
	Outage FaultKind = iota
	// ServerCrash kills a server process: its connections reset, connects are
	// refused until it restarts after the fault's duration.
	ServerCrash
	// ClientPause freezes a client process (GC, VM migration) for the duration.
	ClientPause
	// Partition cuts the quorum links between a set of servers and the rest
	// of the ensemble (and, with Target.ClientPaths, every client's paths to
	// those servers).
	Partition
	// ServerPause freezes a server process (GC, VM freeze): its kernel keeps
	// accepting and buffering, nothing runs until it resumes.
	ServerPause
	// RollingRestart restarts every server in turn (followers first, the
	// leader last), each down for a duration drawn from the law, waiting
	// until a restarted server serves again before stopping the next.
	RollingRestart
)

var faultNames = [...]string{"outage", "server-crash", "client-pause", "partition", "server-pause", "rolling-restart"}

// ServerSide reports whether the fault acts on server processes or the
// links between them.
func (k FaultKind) ServerSide() bool { return k != Outage && k != ClientPause }

func (k FaultKind) String() string {
	if int(k) < len(faultNames) {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", k)
}

// Direction selects which way an outage drops packets.
type Direction uint8

// Directions.
const (
	Both Direction = iota
	ClientToServer
	ServerToClient
)

func (d Direction) String() string {
	switch d {
	case ClientToServer:
		return "client-to-server"
	case ServerToClient:
		return "server-to-client"
	}
	return "both"
}

// AllClients and AllServers select every client or server; TheLeader and
// AFollower select, when an episode starts, the server leading then (or the
// configured leader if none leads) and one of its followers.
const (
	AllClients = -1
	AllServers = -1
	TheLeader  = -2
	AFollower  = -3
)

// Target selects what a fault hits.
type Target struct {
	// Client is a client index, or AllClients. For an outage or pause with
	// AllClients, Shared says whether one episode hits every client at once
	// (a switch, a rack) or every client has its own independent process.
	Client int
	Shared bool
	// Server is a server index, AllServers, TheLeader or AFollower: for an
	// outage, the far end of the paths cut; for a crash or pause, the
	// process; for a partition, the server isolated (unless Servers lists
	// several).
	Server    int
	Direction Direction
	// Servers, for a partition, is the set of servers cut off from the
	// rest (empty: just Server).
	Servers []int
	// ClientPaths, for a partition, also cuts every client's paths to the
	// isolated servers (else clients still reach them).
	ClientPaths bool
}

// ArrivalKind is how fault episodes arrive.
type ArrivalKind uint8

// Arrival kinds.
const (
	Scripted ArrivalKind = iota // at the listed times
	Poisson                     // exponential gaps with mean Every
	Periodic                    // every Every, first at Offset
)

// Fault is one fault process.
type Fault struct {
	Kind   FaultKind
	Target Target

	Arrival ArrivalKind
	// At lists the start times of scripted episodes.
	At []time.Duration
	// Phase, when PhaseSet, anchors each scripted episode to the session:
	// the episode starts Phase after the first tracker touch of the target
	// client's session at or after At (zk-semantics §3.1's φ).
	Phase    time.Duration
	PhaseSet bool
	// Every is the mean gap (Poisson) or the period (Periodic).
	Every  time.Duration
	Offset time.Duration // Periodic: first episode at Offset; Poisson: none before Offset
	// Duration is the law of each episode's length (a rolling restart's:
	// each server's downtime).
	Duration Law
	// Gap, for a rolling restart, is the wait between a restarted server
	// serving again and the next server's stop.
	Gap time.Duration
	// LeaderFirst, for a rolling restart, restarts the leader first instead
	// of last.
	LeaderFirst bool
}

// Defaults returns c with every unset optional field at its default.
func (c Config) Defaults() Config {
	if c.Clients == 0 {
		c.Clients = 1
	}
	if c.Servers == 0 {
		c.Servers = 1
	}
	s := &c.Server
	if s.TickTime == 0 {
		s.TickTime = 2 * time.Second
	}
	if s.MinSessionTimeout == 0 {
		s.MinSessionTimeout = 2 * s.TickTime
	}
	if s.MaxSessionTimeout == 0 {
		s.MaxSessionTimeout = 20 * s.TickTime
	}
	if s.QuorumLatency == 0 {
		s.QuorumLatency = 500 * time.Microsecond
	}
	if s.SyncLimit == 0 {
		s.SyncLimit = 5
	}
	if s.InitLimit == 0 {
		s.InitLimit = 10
	}
	if s.SyncTime == nil {
		l := Fixed(100 * time.Millisecond)
		s.SyncTime = &l
	}
	if s.FinalizeWait == 0 {
		s.FinalizeWait = 200 * time.Millisecond
	}
	if s.MaxNotificationInterval == 0 {
		s.MaxNotificationInterval = 60 * time.Second
	}
	cl := &c.Client
	if cl.SessionTimeout == 0 {
		cl.SessionTimeout = 10 * time.Second
	}
	if cl.Hosts == nil && c.Servers <= MaxServers && cl.AbsentHosts <= MaxServers { // counts out of range are Validate's to report
		cl.Hosts = make([]int, max(c.Servers+cl.AbsentHosts, 0))
		for i := range cl.Hosts {
			cl.Hosts[i] = i
		}
	}
	n := &c.Network
	if n.Latency == nil {
		l := Fixed(time.Millisecond)
		n.Latency = &l
	}
	if n.RTOMin == 0 {
		n.RTOMin = 200 * time.Millisecond
	}
	if n.RTOMax == 0 {
		n.RTOMax = 120 * time.Second
	}
	if n.OrphanRetries == 0 {
		n.OrphanRetries = 8
	}
	if n.SYNRetries == 0 {
		n.SYNRetries = DefaultSYNRetries
	}
	if n.SYN == SYNLinear && n.SYNLinearTimeouts == 0 {
		n.SYNLinearTimeouts = DefaultSYNLinearTimeouts
	}
	if n.DataRetries == 0 {
		n.DataRetries = 15
	}
	return c
}

// Validate reports every problem with a defaulted Config at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Horizon <= 0 {
		bad("horizon must be positive, got %v", c.Horizon)
	}
	if c.Clients < 1 {
		bad("clients must be at least 1, got %d", c.Clients)
	}
	if c.Servers < 1 || c.Servers > MaxServers {
		bad("servers must be in [1, %d] (ZooKeeper's server ids), got %d", MaxServers, c.Servers)
	}
	if c.Leader < 0 || c.Leader >= c.Servers {
		bad("leader %d is not a server index in [0, %d)", c.Leader, c.Servers)
	}
	s := c.Server
	if s.TickTime < time.Millisecond {
		bad("tick time must be at least 1ms (ZooKeeper counts it in whole milliseconds), got %v", s.TickTime)
	}
	for _, d := range []namedDuration{{"tick time", s.TickTime}, {"min session timeout", s.MinSessionTimeout}, {"max session timeout", s.MaxSessionTimeout},
		{"session timeout", c.Client.SessionTimeout}} {
		if d.v > MaxZKDuration {
			bad("%s %v is longer than ZooKeeper's int of milliseconds holds (%v)", d.name, d.v, MaxZKDuration)
		}
	}
	for _, d := range c.durations() {
		if d.v > MaxDuration {
			bad("%s %v is longer than %v, the longest duration the model handles", d.name, d.v, MaxDuration)
		}
	}
	if s.MinSessionTimeout <= 0 || s.MaxSessionTimeout < s.MinSessionTimeout {
		bad("session timeout range [%v, %v] is empty or not positive", s.MinSessionTimeout, s.MaxSessionTimeout)
	}
	if s.QuorumLatency < 0 {
		bad("quorum latency must not be negative, got %v", s.QuorumLatency)
	}
	if s.SyncLimit < 1 || s.InitLimit < 1 {
		bad("sync limit and init limit must be at least one tick, got %d and %d", s.SyncLimit, s.InitLimit)
	} else if s.TickTime > 0 && (int64(max(s.SyncLimit, s.InitLimit)) > int64(MaxZKDuration/s.TickTime)) {
		bad("sync limit %d and init limit %d ticks of %v are longer than ZooKeeper's int of milliseconds holds", s.SyncLimit, s.InitLimit, s.TickTime)
	}
	if s.SyncTime == nil {
		bad("sync time law is not set")
	} else if err := s.SyncTime.Validate(); err != nil {
		bad("sync time: %w", err)
	}
	if s.FinalizeWait <= 0 || s.MaxNotificationInterval < s.FinalizeWait {
		bad("finalize wait %v must be positive and at most the maximum notification interval %v", s.FinalizeWait, s.MaxNotificationInterval)
	}
	if c.Client.AbsentHosts < 0 || c.Client.AbsentHosts > MaxServers {
		bad("absent hosts must be in [0, %d], got %d", MaxServers, c.Client.AbsentHosts)
	}
	if c.Client.SessionTimeout <= 0 {
		bad("session timeout must be positive, got %v", c.Client.SessionTimeout)
	} else if t, least := s.Negotiate(c.Client.SessionTimeout), ShortestSessionTimeout(len(c.Client.Hosts)); t < least {
		bad("negotiated session timeout %v is below %v: the client's ping period or connect timeout would be 0ms", t, least)
	}
	if len(c.Client.Hosts) == 0 {
		bad("host list is empty")
	}
	for _, h := range c.Client.Hosts {
		if h < 0 || h >= c.Servers+c.Client.AbsentHosts {
			bad("host %d is not a server index in [0, %d)", h, c.Servers+c.Client.AbsentHosts)
		}
	}
	if c.Client.RequestInterval != nil {
		if err := c.Client.RequestInterval.Validate(); err != nil {
			bad("request interval: %w", err)
		}
	}
	if c.Client.FixedReconnect < 0 {
		bad("fixed reconnect must not be negative, got %v", c.Client.FixedReconnect)
	}
	if c.Network.Latency == nil {
		bad("latency law is not set")
	} else if err := c.Network.Latency.Validate(); err != nil {
		bad("latency: %w", err)
	}
	if c.Network.ConnectLatency < 0 {
		bad("connect latency must not be negative, got %v", c.Network.ConnectLatency)
	}
	if c.Network.RTOMin <= 0 || c.Network.RTOMax < c.Network.RTOMin {
		bad("rto range [%v, %v] is empty or not positive", c.Network.RTOMin, c.Network.RTOMax)
	}
	if n := c.Network.SYNRetries; n < 1 || n > MaxSYNRetries {
		bad("syn retries must be in [1, %d], got %d", MaxSYNRetries, n)
	}
	if n := c.Network.SYNLinearTimeouts; n < 0 || n > MaxSYNRetries {
		bad("syn linear timeouts must be in [0, %d], got %d", MaxSYNRetries, n)
	} else if n != 0 && c.Network.SYN != SYNLinear {
		bad("syn linear timeouts %d need the linear SYN schedule (classic has none)", n)
	}
	for i, f := range c.Faults {
		if err := f.validate(c); err != nil {
			bad("fault %d (%s): %w", i+1, f.Kind, err)
		}
	}
	return errors.Join(errs...)
}

func (f Fault) validate(c Config) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if f.Target.Client != AllClients && (f.Target.Client < 0 || f.Target.Client >= c.Clients) {
		bad("client %d is not a client index in [0, %d)", f.Target.Client, c.Clients)
	}
	hosts := c.Servers
	if f.Kind == Outage {
		hosts += c.Client.AbsentHosts // an absent host can be black-holed
	}
	switch srv := f.Target.Server; {
	case srv == TheLeader || srv == AllServers:
	case srv == AFollower:
		if c.Servers < 2 {
			bad("a standalone server has no followers")
		}
	case srv < 0 || srv >= hosts:
		bad("server %d is not a server index in [0, %d)", srv, hosts)
	}
	switch f.Kind {
	case ServerCrash, ServerPause:
		if f.Target.Server == AllServers && c.Servers > 1 {
			bad("a %s needs one server (an index, the leader or a follower)", f.Kind)
		}
	case Partition:
		if c.Servers < 2 {
			bad("a partition needs an ensemble of at least two servers")
		}
		if len(f.Target.Servers) == 0 && f.Target.Server == AllServers {
			bad("a partition needs the servers it isolates")
		}
		seen := map[int]bool{}
		for _, s := range f.Target.Servers {
			if s < 0 || s >= c.Servers {
				bad("server %d is not a server index in [0, %d)", s, c.Servers)
			} else if seen[s] {
				bad("server %d is listed twice", s)
			}
			seen[s] = true
		}
		if len(seen) >= c.Servers {
			bad("a partition must leave at least one server on the other side")
		}
	case RollingRestart:
		if f.Target.Server != AllServers {
			bad("a rolling restart restarts every server; it takes no server")
		}
	}
	if f.Gap < 0 {
		bad("gap %v is negative", f.Gap)
	}
	switch f.Arrival {
	case Scripted:
		if len(f.At) == 0 {
			bad("a scripted fault needs at least one start time")
		}
		for _, t := range f.At {
			if t < 0 {
				bad("start time %v is negative", t)
			}
		}
		if f.PhaseSet && f.Phase < 0 {
			bad("phase %v is negative", f.Phase)
		}
		if f.PhaseSet && f.Target.Client == AllClients && !f.Target.Shared {
			bad("a phase needs one client, or shared episodes anchored to client 0")
		}
	case Poisson, Periodic:
		if f.Every <= 0 {
			bad("the mean gap or period must be positive, got %v", f.Every)
		}
		if f.Offset < 0 {
			bad("offset %v is negative", f.Offset)
		}
	default:
		bad("unknown arrival kind %d", f.Arrival)
	}
	if err := f.Duration.Validate(); err != nil {
		bad("duration: %w", err)
	}
	return errors.Join(errs...)
}

// ShortestSessionTimeout is the shortest negotiated session timeout a client
// with hosts hosts can work with: its ping period rt/2 =
// floor(floor(2T/3)/2) ms and its connect timeout T/hosts ms must be at
// least 1 ms, or its loop would ping or reconnect without time passing.
func ShortestSessionTimeout(hosts int) time.Duration {
	return max(3, time.Duration(hosts)) * time.Millisecond
}

// MaxServers is the largest ensemble: ZooKeeper server ids run from 1 to 255
// (a session id carries its server's id in its top byte).
const MaxServers = 255

// MaxZKDuration is the longest tick time or session timeout: ZooKeeper holds
// them in a Java int of milliseconds.
const MaxZKDuration = math.MaxInt32 * time.Millisecond

type namedDuration struct {
	name string
	v    time.Duration
}

// durations lists the Config's durations, for the MaxDuration bound.
func (c Config) durations() []namedDuration {
	ds := []namedDuration{{"horizon", c.Horizon}, {"quorum latency", c.Server.QuorumLatency},
		{"finalize wait", c.Server.FinalizeWait}, {"max notification interval", c.Server.MaxNotificationInterval},
		{"fixed reconnect", c.Client.FixedReconnect}, {"connect latency", c.Network.ConnectLatency},
		{"rto min", c.Network.RTOMin}, {"rto max", c.Network.RTOMax}}
	for _, f := range c.Faults {
		for _, at := range f.At {
			ds = append(ds, namedDuration{"fault start time", at})
		}
		ds = append(ds, namedDuration{"fault phase", f.Phase}, namedDuration{"fault period", f.Every}, namedDuration{"fault offset", f.Offset},
			namedDuration{"fault gap", f.Gap})
	}
	return ds
}

// Negotiate is the server's clamp of a requested timeout (zk-semantics §2.1).
func (s ServerConfig) Negotiate(requested time.Duration) time.Duration {
	return min(max(requested, s.MinSessionTimeout), s.MaxSessionTimeout)
}
