package experiments

import (
	"fmt"
	"strconv"
	"time"

	"hbsim/clock"
	"hbsim/model"
)

// Timeline is one run laid out for drawing (package plots draws it): each
// client's connection state over time with its pings and replies, the
// tracker's deadline of every session as a step function, the expirer's
// tick-bucket boundaries, the faults, and the decisive events in words.
//
// It is plain data built from the run's trace (model.Tracer), the stable
// interface between the model and everything that explains it: see
// BuildTimeline for how each trace word is read. Every instant is an offset
// from the start of the run.
type Timeline struct {
	Title       string
	Description string // what the run is, a paragraph; may be empty
	Horizon     time.Duration
	Timeout     time.Duration // negotiated session timeout T
	Tick        time.Duration // the server's tick k
	// Rounding is true when sessions expire at tick-bucket boundaries (the
	// default) and false under the closed-form oracle's exact expiry.
	Rounding bool

	Clients  []ClientLane  // by client index; the dead-client probe last
	Servers  []ServerLane  // by server index (an ensemble, or a server that fails)
	Sessions []SessionLine // in creation order
	Buckets  []BucketEpoch // the serving leaders' trackers, in order
	// NoLeader are the intervals in which no tracker runs: no leader
	// serves (crashed, looking, electing, syncing), so nothing expires.
	NoLeader []Interval
	Faults   []FaultSpan // in start order
	Events   []Event     // the decisive events, in time order
	// Outcome says, per session that was disconnected or expired, why it
	// expired or survived; in session order.
	Outcome []Outcome
}

// Outcome is what became of one session, in a sentence.
type Outcome struct {
	Client  int
	Session string
	Expired bool
	// Probe marks the dead-client probe's session, whose expiry after its
	// crash is the point of the probe, not a failure.
	Probe bool
	Text  string
}

// LaneState is a client's connection state as the timeline shows it.
type LaneState string

// Lane states.
const (
	// StateConnecting: the client has not yet reached SyncConnected on its
	// current session (first connect, or a new session after Expired).
	StateConnecting LaneState = "Connecting"
	// StateConnected: SyncConnected.
	StateConnected LaneState = "Connected"
	// StateDisconnected: the client saw Disconnected and is reconnecting;
	// its session is still alive at the server.
	StateDisconnected LaneState = "Disconnected"
	// StateExpired: the server has expired the client's session, from that
	// instant until the client is connected again (on a new session). The
	// client itself learns it later, when it reaches a server.
	StateExpired LaneState = "Expired"
	// StateCrashed: the client process died.
	StateCrashed LaneState = "Crashed"
)

// ServerState is a server's state as the timeline shows it.
type ServerState string

// Server states.
const (
	ServerServing       ServerState = "Serving"   // a standalone server, up
	ServerLeading       ServerState = "Leading"   // a leader serving clients
	ServerFollowing     ServerState = "Following" // a follower serving clients
	ServerEstablishing  ServerState = "Leading (syncing)"
	ServerSyncing       ServerState = "Following (syncing)"
	ServerLooking       ServerState = "Looking" // in an election: connects are closed
	ServerDown          ServerState = "Down"
	ServerPausedProcess ServerState = "Paused"
)

// ServerLane is one server process's states, contiguous from the start of
// the run to the horizon.
type ServerLane struct {
	Name   string // "server-0"
	States []ServerSpan
}

// ServerSpan is an interval of one server state.
type ServerSpan struct {
	From, To time.Duration
	State    ServerState
}

// Interval is a span of the run.
type Interval struct{ From, To time.Duration }

// ClientLane is one client process.
type ClientLane struct {
	Name  string // "client-0"
	Probe bool   // the dead-client probe, not a counted client
	// States cover the client's life from its start to the horizon,
	// contiguous and in order.
	States   []StateSpan
	Pings    []time.Duration // pings and requests sent
	Replies  []time.Duration // ping replies and replies read
	Lost     []time.Duration // the client's pings or requests dropped by an outage (each try)
	LostBack []time.Duration // replies to the client dropped by an outage (each try)
	Connects []ConnectSpan
}

// StateSpan is an interval of one lane state.
type StateSpan struct {
	From, To time.Duration
	State    LaneState
	Session  string // the session the client holds ("0x1"); "" before its first
}

// ConnectSpan is one connection attempt, from the SYN to its outcome.
type ConnectSpan struct {
	From, To time.Duration
	Server   int
	// Result is "connected", "refused", "timeout" (the connect timeout
	// fired, or the kernel's SYN retries ran out), "rejected" (the server said the session expired), "closed" or
	// "open" (still connecting at the horizon).
	Result string
}

// SessionLine is one session's deadline at the tracker.
type SessionLine struct {
	ID      string // "0x1"
	Client  int
	Created time.Duration
	Steps   []DeadlineStep // in time order
	Expired bool
	End     time.Duration // the expiry, or the horizon
}

// DeadlineStep is one touch: from At on, the session expires at Deadline
// unless touched again.
type DeadlineStep struct {
	At       time.Duration
	Deadline time.Duration
	Restored bool // the touch of a leader restart restoring the session
}

// BucketEpoch is one incarnation of the leader's expirer: during [From, To)
// it checks for expired sessions at Phase + n × Tick.
type BucketEpoch struct {
	From, To time.Duration
	Phase    time.Duration // one boundary; all others are Tick apart
}

// Boundaries returns the epoch's bucket boundaries within [from, to].
func (b BucketEpoch) Boundaries(tick, from, to time.Duration) []time.Duration {
	if tick <= 0 {
		return nil
	}
	lo, hi := max(from, b.From), min(to, b.To)
	if lo > hi {
		return nil
	}
	n := (lo - b.Phase) / tick
	var out []time.Duration
	for x := b.Phase + n*tick; x <= hi; x += tick {
		if x >= lo {
			out = append(out, x)
		}
	}
	return out
}

// FaultKind names what a fault span does, as in an experiment file.
type FaultKind string

// Fault span kinds.
const (
	FaultOutage         FaultKind = "outage"
	FaultServerCrash    FaultKind = "server-crash"
	FaultClientPause    FaultKind = "client-pause"
	FaultPartition      FaultKind = "partition"
	FaultServerPause    FaultKind = "server-pause"
	FaultRollingRestart FaultKind = "rolling-restart"
)

// FaultSpan is one fault episode.
type FaultSpan struct {
	Kind     FaultKind
	From, To time.Duration // To is the horizon when the episode outlasts the run
	// Track names what the episode hits, the same for every episode of a
	// fault process ("client 0 ↔ all servers", "server-0", "client-0 pauses").
	Track string
	Label string // "outage 11s", "server-0 down", "paused 5.2s"
	// Background marks an episode that covers the whole run (a black-holed
	// host, say): a condition, not an event.
	Background bool
}

// EventKind names a decisive event.
type EventKind string

// Event kinds.
const (
	EventFaultStart      EventKind = "fault-start"
	EventFaultEnd        EventKind = "fault-end"
	EventLastTouch       EventKind = "last-touch"      // the last touch of a session before it was disconnected or expired
	EventLateTouch       EventKind = "late-touch"      // a touch while the client was disconnected (retransmitted data)
	EventConnectionLost  EventKind = "connection-lost" // read timeout, EOF, abort, client-side expiry
	EventConnectTimeout  EventKind = "connect-timeout"
	EventSessionExpired  EventKind = "session-expired" // the tracker expired a session
	EventDeadlinePassed  EventKind = "deadline-passed" // a deadline passed while no leader was up
	EventServerRestarted EventKind = "server-restarted"
	EventReconnected     EventKind = "reconnected"    // SyncConnected again on the same session
	EventExpiredSeen     EventKind = "expired-seen"   // the client learned its session had expired
	EventClientCrashed   EventKind = "client-crashed" // the client process died
	EventRoleChange      EventKind = "role-change"    // a server lost its role (went LOOKING), paused or resumed
)

// Event is a decisive event, labelled in words.
type Event struct {
	At   time.Duration
	Kind EventKind
	// Client is the client lane the event belongs to, or -1 for a fault or
	// a server event that concerns no one client.
	Client int
	// Session is the session concerned, "" if none; with Deadline set, the
	// event sits on that session's deadline line.
	Session  string
	Deadline time.Duration
	// Track is the FaultSpan.Track of a fault-start or fault-end event, or
	// the server lane of a role change.
	Track string
	Label string
}

// Server reports whether the event happens at the tracker (drawn on the
// deadline lines) rather than at a client or in the network.
func (e Event) Server() bool {
	switch e.Kind {
	case EventLastTouch, EventLateTouch, EventSessionExpired, EventDeadlinePassed, EventServerRestarted:
		return true
	}
	return false
}

// OnServerLane reports whether the event belongs on a server lane (Track).
func (e Event) OnServerLane() bool { return e.Kind == EventRoleChange }

// TraceLine is one line of a run's trace, as a model.Tracer receives it.
type TraceLine struct {
	At     clock.Time
	Actor  string
	Event  string
	Detail string
}

// TraceRecorder is a model.Tracer that keeps every line.
type TraceRecorder struct{ Lines []TraceLine }

var _ model.Tracer = (*TraceRecorder)(nil)

// Trace implements model.Tracer.
func (r *TraceRecorder) Trace(at clock.Time, actor, event, detail string) {
	r.Lines = append(r.Lines, TraceLine{At: at, Actor: actor, Event: event, Detail: detail})
}

// RunTimeline runs cfg once, with invariant checks, and builds its Timeline.
func RunTimeline(cfg model.Config, title, description string) (*Timeline, error) {
	var rec TraceRecorder
	if _, err := model.Run(cfg, model.Options{Tracer: &rec, Check: true}); err != nil {
		return nil, fmt.Errorf("experiments: timeline: %w", err)
	}
	return BuildTimeline(cfg, rec.Lines, title, description)
}

// BuildTimeline reads the trace of a run of cfg into a Timeline. It reads
// these words of model.Vocabulary and ignores the others:
//
//   - client-started, state (SyncConnected, Disconnected, Expired),
//     client-crashed and probe-crash give the lane states; the tracker's
//     session-expired turns the lane Expired until the next SyncConnected;
//   - ping-sent and request-sent are pings, ping-reply and reply replies,
//     packet-lost of a ping or request (or their replies) lost ones;
//   - connect-attempt opens a connect span; SyncConnected, connect-refused,
//     connect-timeout, syn-timed-out, session-expired-at-server, end-of-stream,
//     read-timeout and connection-aborted close it;
//   - session-created, touch (deadline=E) and session-expired give the
//     sessions' deadline steps; touches at the instant of a leader's
//     server-restarted are restorations; a touch while the client is
//     Disconnected that is no reconnect (session-revalidated) is a late
//     touch, retransmitted by TCP when delivered-late says so;
//   - the leader's touches give each of its incarnations' bucket phase
//     (deadline modulo the tick), server-crashed and server-restarted its
//     incarnations;
//   - outage-start (with its duration), server-crashed to server-restarted,
//     pause-start and server-paused (with their durations), partition-start
//     to partition-end and rolling-restart-start to rolling-restart-end give
//     the fault spans;
//   - server-state (role and serving), server-crashed, server-restarted,
//     server-paused and server-resumed give the server lanes; a leader's
//     serving=true starts a tracker (its restorations come with
//     tracker-started), its LOOKING or crash ends it.
//
// The decisive events and the outcome sentences are derived from these.
// It returns an error for a line it cannot read.
func BuildTimeline(cfg model.Config, lines []TraceLine, title, description string) (*Timeline, error) {
	cfg = cfg.Defaults()
	b := &timelineBuilder{
		t: &Timeline{
			Title: title, Description: description, Horizon: cfg.Horizon,
			Timeout: cfg.Server.Negotiate(cfg.Client.SessionTimeout), Tick: cfg.Server.TickTime,
			Rounding: !cfg.Server.NoBucketRounding,
		},
		cfg:      cfg,
		tracker:  "server-" + strconv.Itoa(cfg.Leader),
		conns:    map[int]int{},
		sessions: map[string]int{},
		crashes:  map[string]int{},
		late:     map[int]time.Duration{},
	}
	b.noLeaderFrom = -1
	for i := range cfg.Servers {
		st := ServerServing
		if cfg.Servers > 1 {
			st = ServerFollowing
			if i == cfg.Leader {
				st = ServerLeading
			}
		}
		b.t.Servers = append(b.t.Servers, ServerLane{Name: "server-" + strconv.Itoa(i)})
		b.servers = append(b.servers, serverBuild{state: st})
	}
	for _, l := range lines {
		if err := b.line(l); err != nil {
			return nil, fmt.Errorf("experiments: timeline: trace line %s %s %s %q: %w", model.Seconds(l.At), l.Actor, l.Event, l.Detail, err)
		}
	}
	b.finish()
	return b.t, nil
}
