package experiments

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"hbsim/clock"
	"hbsim/model"
)

// timelineBuilder reads a run's trace, line by line, into a Timeline (see
// BuildTimeline for the words it reads).
type timelineBuilder struct {
	t       *Timeline
	cfg     model.Config
	tracker string // the server whose tracker runs, "" while none does

	conns    map[int]int    // connection id -> client index
	sessions map[string]int // session id -> index in t.Sessions
	crashes  map[string]int // server name -> index of its open crash span
	clients  []clientBuild

	epochFrom    time.Duration // start of the current tracker
	epochPhase   time.Duration
	epochPhased  bool
	noLeaderFrom time.Duration         // start of the current interval without a tracker, -1 if one runs
	late         map[int]time.Duration // client -> when its data last arrived late
	servers      []serverBuild
}

type serverBuild struct {
	state  ServerState
	since  time.Duration
	before ServerState // the state a pause interrupted
}

type clientBuild struct {
	started  bool
	state    LaneState
	since    time.Duration
	session  string
	connect  int           // index of the open connect span, or -1
	lastDown time.Duration // start of the current disconnected period
}

// fields splits a detail into its key=value pairs and its bare words.
func fields(detail string) (map[string]string, []string) {
	kv := map[string]string{}
	var words []string
	for _, f := range strings.Fields(detail) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			words = append(words, f)
		}
	}
	return kv, words
}

// seconds reads "43.659015" or "11s" as a duration.
func seconds(s string) (time.Duration, error) {
	x, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	}
	return clock.FromSeconds(x), nil
}

// index reads the number after prefix in "client-3", or a plain "3".
func index(s, prefix string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, prefix))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not an index", s)
	}
	return n, nil
}

func (b *timelineBuilder) client(i int) *clientBuild {
	for len(b.clients) <= i {
		n := len(b.clients)
		b.clients = append(b.clients, clientBuild{connect: -1})
		b.t.Clients = append(b.t.Clients, ClientLane{Name: "client-" + strconv.Itoa(n), Probe: n >= b.cfg.Clients})
	}
	return &b.clients[i]
}

func (b *timelineBuilder) setState(i int, at time.Duration, st LaneState, session string) {
	c := b.client(i)
	lane := &b.t.Clients[i]
	if c.started && (c.state != st || c.session != session) {
		if at > c.since {
			lane.States = append(lane.States, StateSpan{From: c.since, To: at, State: c.state, Session: c.session})
		}
		c.since = at
	}
	if !c.started {
		c.started, c.since = true, at
	}
	c.state, c.session = st, session
}

func (b *timelineBuilder) closeConnect(i int, at time.Duration, result string) {
	c := b.client(i)
	if c.connect < 0 {
		return
	}
	cs := &b.t.Clients[i].Connects[c.connect]
	cs.To, cs.Result = at, result
	c.connect = -1
}

func (b *timelineBuilder) event(e Event) { b.t.Events = append(b.t.Events, e) }

func (b *timelineBuilder) line(l TraceLine) error {
	at := l.At.Since()
	kv, words := fields(l.Detail)
	num := func(key string) (time.Duration, error) {
		v, ok := kv[key]
		if !ok {
			return 0, fmt.Errorf("no %s", key)
		}
		return seconds(v)
	}
	if strings.HasPrefix(l.Actor, "client-") {
		i, err := index(l.Actor, "client-")
		if err != nil {
			return err
		}
		return b.clientLine(i, at, l.Event, kv, words)
	}
	switch l.Event {
	case "session-created":
		ci, err := index(kv["client"], "")
		if err != nil {
			return err
		}
		b.sessions[kv["session"]] = len(b.t.Sessions)
		b.t.Sessions = append(b.t.Sessions, SessionLine{ID: kv["session"], Client: ci, Created: at, End: b.t.Horizon})
		b.client(ci)
	case "touch":
		if b.cfg.Servers > 1 && l.Actor != b.tracker {
			return nil // a deposed leader that does not know it yet: its tracker is discarded
		}
		d, err := num("deadline")
		if err != nil {
			return err
		}
		si, ok := b.sessions[kv["session"]]
		if !ok {
			return fmt.Errorf("touch of unknown session %s", kv["session"])
		}
		s := &b.t.Sessions[si]
		s.Steps = append(s.Steps, DeadlineStep{At: at, Deadline: d})
		if c := b.client(s.Client); c.state == StateDisconnected && c.session == s.ID {
			how := "a touch reaches the server while the client is disconnected"
			if t, ok := b.late[s.Client]; ok && t == at {
				how = "a ping sent before the disconnection, retransmitted by TCP, reaches the server late"
			}
			b.event(Event{At: at, Kind: EventLateTouch, Client: s.Client, Session: s.ID, Deadline: d,
				Label: fmt.Sprintf("%s: session %s's deadline moves to E = %s", how, s.ID, fmtAt(d))})
		}
		if l.Actor == b.tracker && !b.epochPhased && b.t.Tick > 0 {
			b.epochPhase, b.epochPhased = d%b.t.Tick, true
		}
	case "session-expired":
		if b.cfg.Servers > 1 && l.Actor != b.tracker {
			return nil // a deposed leader's expiry never commits
		}
		si, ok := b.sessions[kv["session"]]
		if !ok {
			return fmt.Errorf("expiry of unknown session %s", kv["session"])
		}
		s := &b.t.Sessions[si]
		s.Expired, s.End = true, at
		last, err := num("last-touch")
		if err != nil {
			return err
		}
		b.lastTouch(s, last, " (no later touch reaches the server)")
		b.event(Event{At: at, Kind: EventSessionExpired, Client: s.Client, Session: s.ID, Deadline: at,
			Label: fmt.Sprintf("server expires session %s: nothing reached it for %s after the last touch (T = %s, rounded up to a tick)",
				s.ID, fmtSeconds(at-last), fmtSeconds(b.t.Timeout))})
		if c := b.client(s.Client); c.session == s.ID && c.state != StateCrashed {
			b.setState(s.Client, at, StateExpired, s.ID)
		}
	case "server-crashed":
		b.crashes[l.Actor] = len(b.t.Faults)
		d, err := num("restart-in")
		if err != nil {
			return err
		}
		b.t.Faults = append(b.t.Faults, FaultSpan{Kind: FaultServerCrash, From: at, To: b.t.Horizon, Track: l.Actor,
			Label: l.Actor + " down"})
		b.event(Event{At: at, Kind: EventFaultStart, Client: -1, Track: l.Actor,
			Label: fmt.Sprintf("%s crashes (restarts after %s): its connections reset", l.Actor, fmtSeconds(d))})
		if l.Actor == b.tracker {
			b.trackerStops(at)
		}
		b.serverState(l.Actor, at, ServerDown)
	case "server-restarted":
		if fi, ok := b.crashes[l.Actor]; ok {
			b.t.Faults[fi].To = at
			delete(b.crashes, l.Actor)
		}
		restored := false
		if b.cfg.Servers == 1 {
			b.serverState(l.Actor, at, ServerServing)
			b.trackerStarts(l.Actor, at)
			restored = b.restorations(l.Actor, at, l.Actor+" restarts")
		} else {
			b.serverState(l.Actor, at, ServerLooking)
		}
		if !restored {
			b.event(Event{At: at, Kind: EventFaultEnd, Client: -1, Track: l.Actor, Label: l.Actor + " restarts"})
		}
	case "server-state":
		st, err := serverStateOf(kv)
		if err != nil {
			return err
		}
		b.serverState(l.Actor, at, st)
		switch {
		case st == ServerLeading:
			b.trackerStarts(l.Actor, at)
		case st == ServerLooking && l.Actor == b.tracker:
			b.trackerStops(at)
		}
		if st == ServerLooking && kv["reason"] != "" {
			b.event(Event{At: at, Kind: EventRoleChange, Client: -1, Track: l.Actor, Label: l.Actor + " " + lookingWhy(kv["reason"])})
		}
	case "tracker-started":
		b.restorations(l.Actor, at, "new leader "+l.Actor+" starts its tracker and")
	case "server-paused":
		d, err := num("duration")
		if err != nil {
			return err
		}
		b.t.Faults = append(b.t.Faults, FaultSpan{Kind: FaultServerPause, From: at, To: min(at+d, b.t.Horizon), Track: l.Actor + " pauses",
			Label: "paused " + fmtSeconds(d)})
		b.event(Event{At: at, Kind: EventFaultStart, Client: -1, Track: l.Actor + " pauses",
			Label: fmt.Sprintf("%s freezes for %s: its kernel buffers what arrives, nothing runs, nothing expires", l.Actor, fmtSeconds(d))})
		if i, err := index(l.Actor, "server-"); err == nil && i < len(b.servers) {
			b.servers[i].before = b.servers[i].state
		}
		b.serverState(l.Actor, at, ServerPausedProcess)
	case "server-resumed":
		if i, err := index(l.Actor, "server-"); err == nil && i < len(b.servers) {
			b.serverState(l.Actor, at, b.servers[i].before)
		}
		b.event(Event{At: at, Kind: EventFaultEnd, Client: -1, Track: l.Actor + " pauses",
			Label: fmt.Sprintf("%s resumes (%s): overdue buckets and buffered requests run at once", l.Actor, kv["order"])})
	case "partition-start":
		d, err := num("duration")
		if err != nil {
			return err
		}
		track := "quorum links: servers " + kv["servers"] + " cut off"
		what := "the quorum links between servers " + kv["servers"] + " and the rest are cut"
		if kv["client-paths"] == "cut" {
			track += " (and their clients)"
			what += ", and so are the clients' paths to them"
		}
		b.t.Faults = append(b.t.Faults, FaultSpan{Kind: FaultPartition, From: at, To: min(at+d, b.t.Horizon), Track: track,
			Label: "partition " + fmtSeconds(d)})
		b.event(Event{At: at, Kind: EventFaultStart, Client: -1, Track: track, Label: fmt.Sprintf("partition (%s): %s", fmtSeconds(d), what)})
		if at+d <= b.t.Horizon {
			b.event(Event{At: at + d, Kind: EventFaultEnd, Client: -1, Track: track, Label: "the partition heals"})
		}
	case "rolling-restart-start":
		b.t.Faults = append(b.t.Faults, FaultSpan{Kind: FaultRollingRestart, From: at, To: b.t.Horizon, Track: "operator", Label: "rolling restart"})
		b.event(Event{At: at, Kind: EventFaultStart, Client: -1, Track: "operator",
			Label: "an operator starts a rolling restart: each server in turn, followers first, the leader last"})
	case "rolling-restart-end":
		for i := len(b.t.Faults) - 1; i >= 0; i-- {
			if b.t.Faults[i].Kind == FaultRollingRestart {
				b.t.Faults[i].To = at
				break
			}
		}
		b.event(Event{At: at, Kind: EventFaultEnd, Client: -1, Track: "operator", Label: "the rolling restart is done: every server serves again"})
	case "outage-start":
		d, err := num("duration")
		if err != nil {
			return err
		}
		track := outageTrack(kv["clients"], kv["servers"], kv["direction"])
		f := FaultSpan{Kind: FaultOutage, From: at, To: min(at+d, b.t.Horizon), Track: track, Label: "outage " + fmtSeconds(d)}
		f.Background = f.From == 0 && at+d >= b.t.Horizon
		b.t.Faults = append(b.t.Faults, f)
		if !f.Background {
			b.event(Event{At: at, Kind: EventFaultStart, Client: -1, Track: track, Label: fmt.Sprintf("outage starts (%s): %s", fmtSeconds(d), track)})
			if at+d <= b.t.Horizon {
				b.event(Event{At: at + d, Kind: EventFaultEnd, Client: -1, Track: track, Label: "outage ends: " + track})
			}
		}
	case "session-revalidated":
		// A reconnect's touch, not a late one.
		if n := len(b.t.Events); n > 0 && b.t.Events[n-1].Kind == EventLateTouch && b.t.Events[n-1].At == at && b.t.Events[n-1].Session == kv["session"] {
			b.t.Events = b.t.Events[:n-1]
		}
	case "delivered-late":
		if len(words) > 0 && (words[0] == "ping" || words[0] == "request") && slices.Contains(words, "client-to-server") {
			if conn, err := index(kv["conn"], ""); err == nil {
				if ci, ok := b.conns[conn]; ok {
					b.late[ci] = at
				}
			}
		}
	case "packet-lost":
		conn, err := index(kv["conn"], "")
		if err != nil || len(words) == 0 {
			return fmt.Errorf("no packet kind or connection")
		}
		ci, ok := b.conns[conn]
		if !ok {
			return nil
		}
		lane := &b.t.Clients[ci]
		switch words[0] {
		case "ping", "request":
			lane.Lost = append(lane.Lost, at)
		case "ping-reply", "reply":
			lane.LostBack = append(lane.LostBack, at)
		}
	}
	return nil
}

func (b *timelineBuilder) clientLine(i int, at time.Duration, event string, kv map[string]string, words []string) error {
	c := b.client(i)
	lane := &b.t.Clients[i]
	switch event {
	case "client-started":
		b.setState(i, at, StateConnecting, "")
	case "session-renewed":
		// The application opens a new handle; the lane stays Expired until
		// the new session is connected.
	case "state":
		if len(words) == 0 {
			return fmt.Errorf("no state")
		}
		session := kv["session"]
		switch words[0] {
		case "SyncConnected":
			b.closeConnect(i, at, "connected")
			prev, prevSession := c.state, c.session
			b.setState(i, at, StateConnected, session)
			if prev == StateDisconnected && prevSession == session {
				b.event(Event{At: at, Kind: EventReconnected, Client: i, Session: session,
					Label: fmt.Sprintf("%s reconnects to server %s with the same session %s, %s after it was disconnected",
						lane.Name, kv["server"], session, fmtSeconds(at-c.lastDown))})
			} else if prev == StateExpired || prev == StateConnecting && prevSession != "" {
				b.amendExpiredSeen(i, at, session)
			}
		case "Disconnected":
			c.lastDown = at
			b.setState(i, at, StateDisconnected, session)
			b.lastTouchBefore(session, at)
		case "Expired":
			b.setState(i, at, StateExpired, session)
			b.event(Event{At: at, Kind: EventExpiredSeen, Client: i, Session: session,
				Label: fmt.Sprintf("%s reaches a server and is told session %s expired: Expired", lane.Name, session)})
		default:
			return fmt.Errorf("unknown state %q", words[0])
		}
	case "ping-sent", "request-sent":
		lane.Pings = append(lane.Pings, at)
	case "ping-reply", "reply":
		lane.Replies = append(lane.Replies, at)
	case "connect-attempt":
		b.closeConnect(i, at, "closed")
		server, err := index(kv["server"], "")
		if err != nil {
			return err
		}
		conn, err := index(kv["conn"], "")
		if err != nil {
			return err
		}
		b.conns[conn] = i
		c.connect = len(lane.Connects)
		lane.Connects = append(lane.Connects, ConnectSpan{From: at, To: b.t.Horizon, Server: server, Result: "open"})
	case "connect-refused":
		b.closeConnect(i, at, "refused")
	case "connect-timeout":
		if c.connect >= 0 {
			ct := kv["idle"]
			if d, err := seconds(ct); err == nil {
				ct = fmtSeconds(d)
			}
			s := lane.Connects[c.connect].Server
			b.event(Event{At: at, Kind: EventConnectTimeout, Client: i,
				Label: fmt.Sprintf("%s gives up on server %d: no handshake within the connect timeout (%s)", lane.Name, s, ct)})
		}
		b.closeConnect(i, at, "timeout")
	case "syn-timed-out":
		b.closeConnect(i, at, "timeout")
	case "session-expired-at-server":
		b.closeConnect(i, at, "rejected")
	case "read-timeout", "end-of-stream", "connection-aborted", "client-session-timeout":
		b.closeConnect(i, at, "closed")
		idle := kv["idle"]
		if d, err := seconds(idle); err == nil {
			idle = fmtSeconds(d)
		}
		why := map[string]string{
			"read-timeout":           "read timeout: nothing heard from the server for " + idle,
			"end-of-stream":          "the server closed the connection (EOF)",
			"connection-aborted":     "TCP gave up retransmitting",
			"client-session-timeout": "the client expires its own session after " + idle + " of silence",
		}[event]
		b.event(Event{At: at, Kind: EventConnectionLost, Client: i, Label: lane.Name + ": " + why})
	case "client-crashed", "probe-crash":
		if c.state == StateCrashed {
			return nil // the probe's crash is traced twice
		}
		b.closeConnect(i, at, "closed")
		b.setState(i, at, StateCrashed, c.session)
		b.event(Event{At: at, Kind: EventClientCrashed, Client: i, Session: c.session, Label: lane.Name + " crashes"})
	case "pause-start":
		d, err := seconds(kv["duration"])
		if err != nil {
			return err
		}
		b.t.Faults = append(b.t.Faults, FaultSpan{Kind: FaultClientPause, From: at, To: min(at+d, b.t.Horizon),
			Track: lane.Name + " pauses", Label: "paused " + fmtSeconds(d)})
		b.event(Event{At: at, Kind: EventFaultStart, Client: i, Track: lane.Name + " pauses", Label: fmt.Sprintf("%s freezes for %s (a pause: it sends and reads nothing)", lane.Name, fmtSeconds(d))})
		if at+d <= b.t.Horizon {
			b.event(Event{At: at + d, Kind: EventFaultEnd, Client: i, Track: lane.Name + " pauses", Label: lane.Name + " resumes"})
		}
	}
	return nil
}

// amendExpiredSeen adds the new session to the event of the client learning
// Expired, when the new session connects right after it.
func (b *timelineBuilder) amendExpiredSeen(i int, at time.Duration, session string) {
	for k := len(b.t.Events) - 1; k >= 0; k-- {
		e := &b.t.Events[k]
		if e.Client == i && e.Kind == EventExpiredSeen {
			if at-e.At < time.Second && e.Session != session {
				e.Label += "; at once it opens a new session " + session
			}
			return
		}
	}
}

// lastTouchBefore records the last touch of session before at as decisive.
func (b *timelineBuilder) lastTouchBefore(session string, at time.Duration) {
	si, ok := b.sessions[session]
	if !ok {
		return
	}
	s := &b.t.Sessions[si]
	for k := len(s.Steps) - 1; k >= 0; k-- {
		if s.Steps[k].At <= at {
			b.lastTouch(s, s.Steps[k].At, " before the client is disconnected")
			return
		}
	}
}

func (b *timelineBuilder) lastTouch(s *SessionLine, at time.Duration, why string) {
	for _, e := range b.t.Events {
		if e.Kind == EventLastTouch && e.Session == s.ID && e.At == at {
			return
		}
	}
	var d time.Duration
	for _, st := range s.Steps {
		if st.At <= at {
			d = st.Deadline
		}
	}
	b.event(Event{At: at, Kind: EventLastTouch, Client: s.Client, Session: s.ID, Deadline: d,
		Label: fmt.Sprintf("last touch of session %s%s: the server sets its deadline E = %s", s.ID, why, fmtAt(d))})
}

func (b *timelineBuilder) closeEpoch(at time.Duration) {
	if b.epochPhased && b.t.Rounding {
		b.t.Buckets = append(b.t.Buckets, BucketEpoch{From: b.epochFrom, To: at, Phase: b.epochPhase})
	}
	b.epochPhased = false
}

// trackerStarts begins the tracker of server at at: a restarted standalone
// server, or a new leader that starts serving.
func (b *timelineBuilder) trackerStarts(server string, at time.Duration) {
	if b.tracker != "" {
		b.closeEpoch(at) // an older leader still serving: its tracker is drawn up to here
	}
	b.tracker, b.epochFrom, b.epochPhased = server, at, false
	if b.noLeaderFrom >= 0 {
		if at > b.noLeaderFrom {
			b.t.NoLeader = append(b.t.NoLeader, Interval{From: b.noLeaderFrom, To: at})
		}
		b.noLeaderFrom = -1
	}
}

// trackerStops ends the running tracker: its server crashed or went LOOKING.
func (b *timelineBuilder) trackerStops(at time.Duration) {
	b.closeEpoch(at)
	b.tracker = ""
	if b.noLeaderFrom < 0 {
		b.noLeaderFrom = at
	}
}

// restorations marks the touches server made at at as restorations of a
// starting tracker (not late touches) and adds one event per session.
func (b *timelineBuilder) restorations(server string, at time.Duration, who string) bool {
	restored := false
	b.t.Events = slices.DeleteFunc(b.t.Events, func(e Event) bool { return e.Kind == EventLateTouch && e.At == at })
	for si := range b.t.Sessions {
		s := &b.t.Sessions[si]
		if n := len(s.Steps); n > 0 && s.Steps[n-1].At == at && !s.Expired {
			s.Steps[n-1].Restored, restored = true, true
			if !b.epochPhased && b.t.Tick > 0 {
				b.epochPhase, b.epochPhased = s.Steps[n-1].Deadline%b.t.Tick, true
			}
			b.event(Event{At: at, Kind: EventServerRestarted, Client: s.Client, Session: s.ID, Deadline: s.Steps[n-1].Deadline,
				Label: fmt.Sprintf("%s restores session %s with a fresh deadline E = %s (now + T, rounded up)",
					who, s.ID, fmtAt(s.Steps[n-1].Deadline))})
		}
	}
	return restored
}

// serverState moves server's lane to st at at.
func (b *timelineBuilder) serverState(server string, at time.Duration, st ServerState) {
	i, err := index(server, "server-")
	if err != nil || i >= len(b.servers) {
		return
	}
	sb := &b.servers[i]
	if sb.state == st {
		return
	}
	if at > sb.since {
		b.t.Servers[i].States = append(b.t.Servers[i].States, ServerSpan{From: sb.since, To: at, State: sb.state})
	}
	sb.state, sb.since = st, at
}

// serverStateOf reads a server-state line's role and serving.
func serverStateOf(kv map[string]string) (ServerState, error) {
	serving := kv["serving"] == "true"
	switch kv["role"] {
	case "LOOKING":
		return ServerLooking, nil
	case "LEADING":
		if serving {
			return ServerLeading, nil
		}
		return ServerEstablishing, nil
	case "FOLLOWING":
		if serving {
			return ServerFollowing, nil
		}
		return ServerSyncing, nil
	}
	return "", fmt.Errorf("unknown role %q", kv["role"])
}

// lookingWhy says why a server went LOOKING.
func lookingWhy(reason string) string {
	switch {
	case reason == "leader-closed":
		return "sees its leader's connection close: drops its clients and looks for a leader"
	case reason == "leader-timeout":
		return "hears nothing from its leader for syncLimit ticks: drops its clients and looks for a leader"
	case strings.HasPrefix(reason, "quorum-lost"):
		return "finds too few followers synced at its quorum check: it stops leading and drops its clients"
	case reason == "init-limit":
		return "could not establish the new leadership within initLimit ticks: looks again"
	}
	return "looks for a leader (" + reason + ")"
}

func (b *timelineBuilder) finish() {
	h := b.t.Horizon
	if b.tracker != "" {
		b.closeEpoch(h)
	} else if b.noLeaderFrom >= 0 && h > b.noLeaderFrom {
		b.t.NoLeader = append(b.t.NoLeader, Interval{From: b.noLeaderFrom, To: h})
	}
	for i := range b.servers {
		if sb := &b.servers[i]; h > sb.since {
			b.t.Servers[i].States = append(b.t.Servers[i].States, ServerSpan{From: sb.since, To: h, State: sb.state})
		}
	}
	for i := range b.clients {
		c := &b.clients[i]
		if c.started && h > c.since {
			b.t.Clients[i].States = append(b.t.Clients[i].States, StateSpan{From: c.since, To: h, State: c.state, Session: c.session})
		}
	}
	// Deadlines that passed while no leader was up expire nothing.
	for _, s := range b.t.Sessions {
		for k, st := range s.Steps {
			next := s.End
			if k+1 < len(s.Steps) {
				next = s.Steps[k+1].At
			}
			if st.Deadline >= next || s.Expired && st.Deadline == s.End {
				continue
			}
			for _, d := range b.t.NoLeader {
				if st.Deadline >= d.From && st.Deadline < d.To {
					while := "the server is down"
					if b.cfg.Servers > 1 {
						while = "no leader serves"
					}
					b.event(Event{At: st.Deadline, Kind: EventDeadlinePassed, Client: s.Client, Session: s.ID, Deadline: st.Deadline,
						Label: fmt.Sprintf("deadline E = %s of session %s passes while %s: no expirer runs, nothing expires",
							fmtAt(st.Deadline), s.ID, while)})
				}
			}
		}
	}
	slices.SortStableFunc(b.t.Events, func(x, y Event) int { return cmp.Compare(x.At, y.At) })
	b.outcome()
}

// outcome explains, per session that was disconnected or expired, why it
// expired or survived.
func (b *timelineBuilder) outcome() {
	for _, s := range b.t.Sessions {
		lane := b.t.Clients[s.Client]
		add := func(expired bool, format string, a ...any) {
			b.t.Outcome = append(b.t.Outcome, Outcome{Client: s.Client, Session: s.ID, Expired: expired, Probe: lane.Probe,
				Text: fmt.Sprintf(format, a...)})
		}
		if s.Expired {
			last := s.Created
			for _, st := range s.Steps {
				last = st.At
			}
			crashed := time.Duration(-1)
			for _, sp := range lane.States {
				if sp.State == StateCrashed && sp.Session == s.ID {
					crashed = sp.From
				}
			}
			if lane.Probe && crashed >= 0 {
				add(true, "%s is the dead-client probe: it crashed at %s, and the server expired its session %s %s later, at %s (the dead-client detection time).",
					lane.Name, fmtAt(crashed), s.ID, fmtSeconds(s.End-crashed), fmtAt(s.End))
				continue
			}
			e := s.End
			if n := len(s.Steps); n > 0 {
				e = s.Steps[n-1].Deadline
			}
			if s.End-e > time.Millisecond {
				add(true, "%s's session %s EXPIRED at %s: nothing reached the server between its last touch at %s and its deadline E = %s, which passed while the leader was paused; its expirer ran when it resumed.",
					lane.Name, s.ID, fmtAt(s.End), fmtAt(last), fmtAt(e))
				continue
			}
			add(true, "%s's session %s EXPIRED at %s: nothing reached the server between its last touch at %s and its deadline E = %s.",
				lane.Name, s.ID, fmtAt(s.End), fmtAt(last), fmtAt(s.End))
			continue
		}
		// Disconnected spans of this session that ended in a reconnect.
		for _, sp := range lane.States {
			if sp.State != StateDisconnected || sp.Session != s.ID || sp.To >= b.t.Horizon {
				continue
			}
			why := ""
			for _, e := range b.t.Events {
				if e.Session == s.ID && e.At >= sp.From && e.At <= sp.To {
					switch e.Kind {
					case EventLateTouch:
						why = joinWhy(why, fmt.Sprintf("a ping sent before the disconnection reached the server late, at %s, and moved its deadline to %s", fmtAt(e.At), fmtAt(e.Deadline)))
					case EventDeadlinePassed:
						why = "its deadline passed while the server was down, so nothing expired it"
						if b.cfg.Servers > 1 {
							why = "its deadline passed while no leader served, so nothing expired it"
						}
					case EventServerRestarted:
						restorer := "the restarted server"
						if b.cfg.Servers > 1 {
							restorer = "the new leader's tracker"
						}
						why = joinWhy(why, restorer+" restored it with a fresh deadline")
					}
				}
			}
			if why == "" {
				var e time.Duration
				for _, st := range s.Steps {
					if st.At <= sp.From {
						e = st.Deadline
					}
				}
				add(false, "%s's session %s SURVIVED %s disconnected: the client reconnected at %s, before its deadline E = %s.",
					lane.Name, s.ID, fmtSeconds(sp.To-sp.From), fmtAt(sp.To), fmtAt(e))
				continue
			}
			add(false, "%s's session %s SURVIVED %s disconnected: %s, and the client resumed it at %s.",
				lane.Name, s.ID, fmtSeconds(sp.To-sp.From), why, fmtAt(sp.To))
		}
	}
}

func joinWhy(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// outageTrack names an outage's paths: "client 0 ↔ all servers",
// "all servers → client 0".
func outageTrack(clients, servers, direction string) string {
	c := "client " + clients
	if clients == "all" {
		c = "all clients"
	}
	s := "server " + servers
	if servers == "all" {
		s = "all servers"
	}
	switch direction {
	case "client-to-server":
		return c + " → " + s
	case "server-to-client":
		return s + " → " + c
	}
	return c + " ↔ " + s
}

// fmtAt formats an instant as seconds with at most two decimals ("43.66s").
func fmtAt(t time.Duration) string {
	return strconv.FormatFloat(float64(t.Round(10*time.Millisecond).Milliseconds())/1000, 'f', -1, 64) + "s"
}

// fmtSeconds formats a duration as seconds with at most two decimals
// ("10.67s"), or as minutes and seconds from 100 s on ("30m1s").
func fmtSeconds(d time.Duration) string {
	if d >= 100*time.Second {
		return fmtDur(d.Round(time.Second))
	}
	return strconv.FormatFloat(float64(d.Round(10*time.Millisecond).Milliseconds())/1000, 'f', -1, 64) + "s"
}
