package model

import (
	"math/rand/v2"
	"time"

	"hbsim/clock"
	"hbsim/sim"
)

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
