package model

import (
	"math/rand/v2"
	"time"

	"hbsim/clock"
	"hbsim/sim"
)

// serverProc is one ZooKeeper server process (or an absent address of the
// connect string). Its ensemble role lives in the fields below the line;
// ensemble.go drives them.
type serverProc struct {
	name        string
	up          bool
	absent      bool   // no server at this address: connects are refused
	paused      int32  // overlapping pauses in force (the process is frozen)
	crashes     int32  // overlapping crash episodes in force (down until 0)
	pausedInc   uint32 // the incarnation the pauses froze
	incarnation uint32 // bumps at every start and death; connections name it
	theta       time.Duration
	clockRand   *rand.Rand
	syncTime    *Sampler // the sync-time law (ensemble)
	tracker     *Tracker // while a serving leader (or a standalone server)
	expirer     sim.Timer
	deadlines   []sim.Timer  // rounding off: one timer per session
	deferred    []sim.Event  // inputs and timers that came while paused
	touches     []touchEntry // follower: touches to forward at the next ping
	batch       uint32       // follower: number of the touch table being filled

	// The ensemble (zk-semantics §2.8).
	role      Role
	serving   bool       // the ZooKeeperServer runs: clients are answered
	gen       uint32     // bumps at every role change; older events are stale
	leader    int32      // followed leader (itself when leading), -1 when looking
	leaderGen uint32     // the leader's gen when this follower joined it
	epoch     int64      // currentEpoch (persisted)
	zxid      int64      // last logged zxid (persisted)
	elect     Election   // FastLeaderElection
	electGen  uint32     // generation of the election timer
	lastHeard clock.Time // follower: last packet from the leader
	learners  []learner  // leader: by server index
	tick      int64      // leader: ticks since it started leading
	tickSkip  bool       // leader: the next half-tick wake skips the quorum check
	proposals []proposal // leader: outstanding proposals, in zxid order
	counter   int64      // leader: the low 32 bits of its next zxid
	pending   bool       // leader: a quorum joined and the leadership is being established
}

type touchEntry struct {
	session int64
	timeout time.Duration
}

type sessionRec struct {
	alive   bool // committed (createSession applied, no closeSession yet)
	client  int32
	timeout time.Duration // negotiated at creation (persisted)
	conn    int32         // connection it was last established on
	// The follower touch table the session is in: a session is queued once
	// per table (batch number, server).
	batch       uint32
	batchServer int32
}

// startServer starts process s at now: a standalone server serves at once
// with every persisted session re-touched; an ensemble member starts
// LOOKING and elects or joins a leader.
func (w *World) startServer(now clock.Time, s int32, restart bool) {
	srv := &w.servers[s]
	srv.up = true
	srv.incarnation++
	srv.theta = time.Duration(srv.clockRand.Int64N(int64(w.cfg.Server.TickTime)))
	srv.touches = srv.touches[:0]
	srv.deferred = srv.deferred[:0]
	srv.paused = 0
	if w.ensemble() {
		if restart {
			if w.tracer != nil {
				w.tracef(srv.name, "server-restarted", "role=LOOKING epoch=%d zxid=%s", srv.epoch, hexID(srv.zxid))
			}
			w.lookForLeader(now, s)
		}
		return
	}
	srv.role, srv.leader, srv.serving = Leading, s, true
	w.startTracker(now, s)
	if restart {
		if w.tracer != nil {
			w.tracef(srv.name, "server-restarted", "role=leader restored-sessions=%d", w.restored)
		}
	}
	w.servingChanged(now)
}

// startTracker builds server s's session tracker at now from every
// committed session, each touched at now (zk-semantics §2.6, §2.7), and
// starts its expirer.
func (w *World) startTracker(now clock.Time, s int32) {
	srv := &w.servers[s]
	sc := w.cfg.Server
	srv.tracker = recycleTracker(srv.tracker, now, sc.TickTime, srv.theta, sc.MaxSessionTimeout, !sc.NoBucketRounding)
	w.restored = 0
	for id := range w.sessions {
		if w.sessions[id].alive {
			w.trackerTouch(now, s, int64(id), w.sessions[id].timeout, true)
			w.restored++
		}
	}
	if srv.tracker.Rounding() {
		srv.expirer = w.eng.Schedule(sim.Event{At: srv.tracker.NextBoundary(), Kind: evExpirer, A: s, X: uint64(srv.incarnation)})
	}
}

// stopTracker discards server s's tracker and its timers.
func (w *World) stopTracker(s int32) {
	srv := &w.servers[s]
	srv.tracker = nil
	for i := range srv.deadlines {
		w.eng.Stop(srv.deadlines[i])
	}
	srv.deadlines = srv.deadlines[:0]
	w.eng.Stop(srv.expirer)
}

// crashServer kills server s: its kernel resets every connection (the
// clients read end-of-stream, the quorum peers see the socket close), and
// everything in memory is lost; the persisted epoch, zxid and sessions stay.
func (w *World) crashServer(s int32, down time.Duration) {
	srv := &w.servers[s]
	now := w.eng.Now()
	if w.tracer != nil {
		w.tracef(srv.name, "server-crashed", "restart-in=%s", Duration(down))
	}
	w.closeClientConns(s, "")
	if w.ensemble() {
		w.leaveRole(now, s)
		srv.elect.Stop()
	}
	srv.up = false
	srv.incarnation++
	srv.paused = 0
	w.dropDeferred(srv.deferred) // what its kernel buffered dies with it
	srv.deferred = srv.deferred[:0]
	w.stopTracker(s)
	w.servingChanged(now)
}

// closeClientConns closes every client connection server s holds: a crash
// (why empty: the kernel resets them) or a shutdown (the process closes
// them, reason why). Both count as dropped connections.
func (w *World) closeClientConns(s int32, why string) {
	srv := &w.servers[s]
	for id := range w.conns {
		cn := &w.conns[id]
		if cn.server != s || !cn.serverOpen || cn.serverIncarnation != srv.incarnation {
			continue
		}
		if cn.session != 0 {
			w.dropped()
		}
		if why == "" {
			cn.serverOpen = false
			w.send(int32(id), s2c, Message{Kind: MsgClose})
		} else {
			w.closeServerConn(int32(id), why)
		}
	}
}

// trackerTouch touches (or, with add, tracks) a session at leader l, whose
// tracker must be running.
func (w *World) trackerTouch(now clock.Time, l int32, id int64, timeout time.Duration, add bool) bool {
	srv := &w.servers[l]
	if w.check && (srv.tracker == nil || !srv.serving || srv.paused > 0) {
		w.fail("%s touched session %s while not a serving leader", srv.name, hexID(id))
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
		srv.deadlines[id] = w.eng.Schedule(sim.Event{At: d, Kind: evDeadline, A: l, X: uint64(id)})
	}
	w.touched(now, id)
	return true
}

// serverReceive is a server's kernel receiving packet x on connection id
// (cn = &w.conns[id]); the process reads it now, or when it resumes.
func (w *World) serverReceive(id int32, cn *connRec, x wire) {
	srv := &w.servers[cn.server]
	if !srv.up || !cn.serverOpen || cn.serverIncarnation != srv.incarnation {
		return // the process died or closed the connection: a reset
	}
	if MsgKind(x&^wireRejected) == MsgConnectRequest {
		w.connectSeen(cn.server, w.eng.Now())
	}
	if srv.paused > 0 {
		cn.refs++ // the buffered packet pins the connection
		srv.deferred = append(srv.deferred, sim.Event{Kind: evServerRead, A: id, B: int32(x)})
		return
	}
	w.serverRead(id, cn, x)
}

// serverRead is the server process reading packet x on connection id.
func (w *World) serverRead(id int32, cn *connRec, x wire) {
	srv := &w.servers[cn.server]
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
	switch m := MsgKind(x &^ wireRejected); m {
	case MsgConnectRequest:
		m := w.message(cn, x)
		t := w.cfg.Server.Negotiate(m.Timeout)
		cn.timeout = t
		if w.tracer != nil {
			w.tracef(srv.name, "connect-request", "conn=%d client=%d session=%s requested=%s", w.conns[id].serial, cn.client, hexID(m.Session), Duration(m.Timeout))
		}
		switch {
		case !srv.serving:
			// ZooKeeperServer not running: LOOKING or still syncing.
			w.closeServerConn(id, "not-serving")
		case srv.role == Leading:
			w.leaderConnect(cn.server, id, m.Session)
		default:
			w.quorumSend(cn.server, srv.leader, qmsg{kind: qRevalidate, conn: id, session: m.Session})
		}
	case MsgPing, MsgRequest:
		if cn.session == 0 || !srv.serving {
			return
		}
		reply := MsgPingReply
		if m == MsgRequest {
			reply = MsgReply
		}
		if srv.role == Leading {
			if !w.trackerTouch(now, cn.server, cn.session, cn.timeout, false) {
				return // MissingSessionException: dropped
			}
		} else if rec := &w.sessions[cn.session]; rec.batch != srv.batch || rec.batchServer != cn.server {
			// LearnerSessionTracker's touchTable: one entry per session
			// until the next ping takes the table.
			rec.batch, rec.batchServer = srv.batch, cn.server
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

// leaderConnect is serving leader l's side of a ConnectRequest on
// connection id (held by l or by a follower): create a session (answered
// once its createSession commits) or revalidate one (answered at once).
func (w *World) leaderConnect(l, id int32, session int64) {
	cn := &w.conns[id]
	srv := &w.servers[l]
	now := w.eng.Now()
	if session == 0 {
		session = int64(len(w.sessions))
		w.sessions = append(w.sessions, sessionRec{client: cn.client, timeout: cn.timeout})
		if w.tracer != nil {
			w.tracef(srv.name, "session-created", "session=%s client=%d timeout=%s", hexID(session), cn.client, Duration(cn.timeout))
		}
		w.trackerTouch(now, l, session, cn.timeout, true)
		cn.refs++ // the proposal answers on the connection when it commits
		w.propose(l, proposal{create: true, session: session, conn: id})
		return
	}
	ok := w.trackerTouch(now, l, session, cn.timeout, false)
	if ok && w.tracer != nil {
		w.tracef(srv.name, "session-revalidated", "session=%s conn=%d", hexID(session), w.conns[id].serial)
	}
	w.connectAnswer(l, id, session, ok)
}

// connectAnswer sends leader l's verdict on a ConnectRequest to the server
// holding connection id: itself, or a follower over the quorum link.
func (w *World) connectAnswer(l, id int32, session int64, ok bool) {
	cn := &w.conns[id]
	if cn.server == l {
		w.answerConnect(id, session, ok)
		return
	}
	w.quorumSend(l, cn.server, qmsg{kind: qRevalidateReply, conn: id, session: session, ok: ok})
}

// answerConnect is the server holding connection id answering its
// ConnectRequest: ConnectResponse(session, T), or ConnectResponse(0) and close.
func (w *World) answerConnect(id int32, session int64, ok bool) {
	cn := &w.conns[id]
	srv := &w.servers[cn.server]
	if !srv.up || !cn.serverOpen || cn.serverIncarnation != srv.incarnation || !srv.serving {
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

// onExpirer is server s's expirer thread at a bucket boundary.
func (w *World) onExpirer(s int32, incarnation uint32) {
	srv := &w.servers[s]
	if !srv.up || srv.incarnation != incarnation || srv.tracker == nil {
		return
	}
	w.drainBuckets(s)
	srv.expirer = w.eng.Schedule(sim.Event{At: srv.tracker.NextBoundary(), Kind: evExpirer, A: s, X: uint64(incarnation)})
}

// drainBuckets expires every bucket whose boundary has come: one at a
// boundary, back to back after a pause (zk-semantics §2.2).
func (w *World) drainBuckets(s int32) {
	srv := &w.servers[s]
	now := w.eng.Now()
	for srv.tracker != nil && srv.tracker.NextBoundary() <= now {
		boundary := srv.tracker.NextBoundary()
		w.expired = srv.tracker.Expire(boundary, w.expired[:0])
		if len(w.expired) > 0 {
			if w.tracer != nil {
				w.tracef(srv.name, "bucket-expired", "boundary=%s sessions=%d", Seconds(boundary), len(w.expired))
			}
		}
		for _, id := range w.expired {
			w.expireSession(s, id, boundary)
		}
	}
}

func (w *World) onDeadline(s int32, id int64) {
	srv := &w.servers[s]
	if !srv.up || srv.tracker == nil {
		return
	}
	if srv.tracker.ExpireAt(w.eng.Now(), id) {
		w.expireSession(s, id, srv.tracker.Deadline(id))
	}
}

// expireSession is leader l's tracker expiring session id, due at deadline:
// the session is closing at once, and its closeSession is proposed.
func (w *World) expireSession(l int32, id int64, deadline clock.Time) {
	now := w.eng.Now()
	srv := &w.servers[l]
	tr := srv.tracker
	rec := &w.sessions[id]
	last, timeout := tr.LastTouch(id), tr.Timeout(id)
	if w.tracer != nil {
		w.tracef(srv.name, "session-expired", "session=%s client=%d timeout=%s last-touch=%s idle=%s",
			hexID(id), rec.client, Duration(timeout), Seconds(last), Duration(now.Sub(last)))
	}
	if w.check {
		// The deadline lies in (T, T+k] after the last touch; a paused
		// expirer may run later than its deadline, never earlier.
		idle := deadline.Sub(last)
		k := time.Duration(0)
		if tr.Rounding() {
			k = w.cfg.Server.TickTime
		}
		if now < deadline || idle < timeout || idle > timeout+k+time.Millisecond || (tr.Rounding() && idle == timeout) {
			w.fail("session %s expired %v after its last touch (deadline %v after), outside (T, T+k] with T=%v", hexID(id), now.Sub(last), idle, timeout)
		}
		if !srv.serving {
			w.fail("session %s expired by %s, which is not a serving leader", hexID(id), srv.name)
		}
	}
	w.trackerExpiries++
	w.propose(l, proposal{session: id})
}

// commitClose applies a committed closeSession at leader l: the session
// leaves the ensemble, and the server holding its connection closes it.
func (w *World) commitClose(l int32, id int64) {
	now := w.eng.Now()
	srv := &w.servers[l]
	if srv.tracker != nil {
		srv.tracker.Remove(id)
	}
	rec := &w.sessions[id]
	if !rec.alive {
		return
	}
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
	if rec.conn != 0 && w.conns[rec.conn].server == l {
		w.closeServerConn(rec.conn, "session-expired")
	}
}
