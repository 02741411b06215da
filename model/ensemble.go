package model

import (
	"strconv"
	"strings"
	"time"

	"hbsim/clock"
	"hbsim/sim"
)

// This file: the ensemble as ZooKeeper 3.8 runs it (zk-semantics §2.5-2.8):
// roles, FastLeaderElection wired to the quorum links, a new leader's
// establishment (followers join, sync, serve), the leader's half-tick loop
// (pings that collect the followers' touches, the once-per-tick quorum
// check), the followers' leader-silence check, proposals and commits, and
// the shutdown that takes a server back to LOOKING.

// learner is a leader's view of one follower (its LearnerHandler).
type learner struct {
	joined      bool       // connected to this leadership
	serving     bool       // synced: UPTODATE sent
	gen         uint32     // the follower's role generation when it joined
	ackDeadline int64      // tick after which it no longer counts as synced
	lastRecv    clock.Time // the handler's last read (its socket timeout)
}

// proposal is an outstanding transaction of a leader.
type proposal struct {
	zxid    int64
	create  bool  // createSession (else closeSession)
	session int64 // the session created or closed
	conn    int32 // createSession: the connection to answer
	acks    int   // the leader's own ack included
}

// leaderConnectDelay is Learner's pause between attempts to connect to a
// leader that is not accepting yet (leaderConnectDelayDuringRetryMs).
const leaderConnectDelay = 100 * time.Millisecond

func (w *World) ensemble() bool { return w.cfg.Servers > 1 }

func (w *World) quorum() int { return w.cfg.Servers/2 + 1 }

func (w *World) syncLimit() time.Duration {
	return time.Duration(w.cfg.Server.SyncLimit) * w.cfg.Server.TickTime
}

// initEnsemble puts the ensemble in its steady state at time zero: the
// configured leader serving in epoch 1, every other server following it.
func (w *World) initEnsemble() {
	sc := w.cfg.Server
	l := int32(w.cfg.Leader)
	vote := Vote{Leader: l, Zxid: 1 << 32, Epoch: 1}
	for i := range w.cfg.Servers {
		srv := &w.servers[i]
		s := int32(i)
		srv.epoch, srv.zxid, srv.leader, srv.serving, srv.gen = 1, 1<<32, l, true, 1
		srv.role = Following
		if s == l {
			srv.role = Leading
		}
		srv.elect.init(s, w.cfg.Servers, sc.FinalizeWait, sc.MaxNotificationInterval, srv.role, vote, 1)
		srv.learners = resize(srv.learners, w.cfg.Servers, 0)
		if s != l {
			srv.leaderGen = 1
			w.eng.Post(sim.Event{At: clock.Zero.Add(w.syncLimit()), Kind: evFollowerCheck, A: s, X: uint64(srv.gen)})
		}
	}
	ld := &w.servers[l]
	for i := range ld.learners {
		if int32(i) != l {
			ld.learners[i] = learner{joined: true, serving: true, gen: 1, ackDeadline: int64(sc.SyncLimit)}
		}
	}
	ld.tickSkip = true
	w.startTracker(0, l)
	w.eng.Post(sim.Event{At: clock.Zero.Add(sc.TickTime / 2), Kind: evLeadTick, A: l, X: uint64(ld.gen)})
}

// leading reports whether s is a serving leader.
func (w *World) leading(s int32) bool {
	srv := &w.servers[s]
	return srv.up && srv.serving && (srv.role == Leading || !w.ensemble())
}

// currentLeader is the server that leads now: the serving leader of the
// highest epoch, else a leader still establishing itself, else the
// configured one.
func (w *World) currentLeader() int32 {
	best := int32(-1)
	for i := range w.cfg.Servers {
		s := int32(i)
		srv := &w.servers[s]
		if !srv.up || (srv.role != Leading && w.ensemble()) {
			continue
		}
		if best < 0 || (srv.serving && !w.servers[best].serving) ||
			(srv.serving == w.servers[best].serving && srv.epoch > w.servers[best].epoch) {
			best = s
		}
	}
	if best < 0 {
		return int32(w.cfg.Leader)
	}
	return best
}

// Tracker returns the session tracker of the current leader, nil while no
// leader serves.
func (w *World) Tracker() *Tracker { return w.servers[w.currentLeader()].tracker }

// traceState writes server s's role change.
func (w *World) traceState(s int32, reason string) {
	if w.tracer == nil {
		return
	}
	srv := &w.servers[s]
	var b strings.Builder
	b.WriteString("role=")
	b.WriteString(srv.role.String())
	switch srv.role {
	case Looking:
	case Leading:
		b.WriteString(" serving=" + strconv.FormatBool(srv.serving) + " epoch=" + strconv.FormatInt(srv.epoch, 10))
	case Following:
		b.WriteString(" leader=" + strconv.Itoa(int(srv.leader)) + " serving=" + strconv.FormatBool(srv.serving))
	}
	if reason != "" {
		b.WriteString(" reason=" + reason)
	}
	w.trace(srv.name, "server-state", b.String())
}

// ---------------------------------------------------------------- election

// lookForLeader starts an election round at server s.
func (w *World) lookForLeader(now clock.Time, s int32) {
	srv := &w.servers[s]
	effs := srv.elect.Start(now, Vote{Leader: s, Zxid: srv.zxid, Epoch: srv.epoch})
	if w.tracer != nil {
		w.tracef(srv.name, "election-started", "round=%d", srv.elect.Round())
	}
	w.electionEffects(s, effs)
}

func (w *World) electionEffects(s int32, effs []ElectionEffect) {
	srv := &w.servers[s]
	now := w.eng.Now()
	for _, e := range effs {
		switch e.Kind {
		case ElectNotify:
			if e.To >= 0 {
				w.quorumSend(s, e.To, qmsg{kind: qNotify, n: e.N})
				continue
			}
			if w.tracer != nil {
				w.tracef(srv.name, "votes-sent", "round=%d vote=%s", e.N.Round, e.N.Vote)
			}
			for j := range w.cfg.Servers {
				w.quorumSend(s, int32(j), qmsg{kind: qNotify, n: e.N})
			}
		case ElectWake:
			srv.electGen++
			w.eng.Post(sim.Event{At: e.At, Kind: evElectWake, A: s, X: uint64(srv.electGen)})
		case ElectDecided:
			w.decided(now, s, e.N)
		}
	}
}

func (w *World) onElectWake(s int32, gen uint32) {
	srv := &w.servers[s]
	if !srv.up || srv.electGen != gen || srv.role != Looking {
		return
	}
	w.electionEffects(s, srv.elect.OnWake(w.eng.Now()))
}

// decided ends server s's election: it leads, or follows and connects to
// its leader. Either way it must serve within initLimit ticks.
func (w *World) decided(now clock.Time, s int32, n Notification) {
	srv := &w.servers[s]
	srv.role, srv.leader, srv.serving = n.State, n.Vote.Leader, false
	srv.gen++
	srv.pending = false
	srv.learners = resize(srv.learners, w.cfg.Servers, 0)
	if w.tracer != nil {
		w.tracef(srv.name, "elected", "leader=%d round=%d vote=%s", n.Vote.Leader, n.Round, n.Vote)
	}
	w.traceState(s, "")
	limit := time.Duration(w.cfg.Server.InitLimit) * w.cfg.Server.TickTime
	w.eng.Post(sim.Event{At: now.Add(limit), Kind: evInitLimit, A: s, X: uint64(srv.gen)})
	if srv.role == Following {
		w.quorumSend(s, srv.leader, qmsg{kind: qJoin})
	}
}

// ---------------------------------------------------------------- establishing a leader

// onJoin is leader l reading a follower's FOLLOWERINFO.
func (w *World) onJoin(l int32, m *qmsg) {
	srv := &w.servers[l]
	if srv.role != Leading {
		w.quorumSend(l, m.from, qmsg{kind: qRefused, toGen: m.gen})
		return
	}
	lr := &srv.learners[m.from]
	*lr = learner{joined: true, gen: m.gen, ackDeadline: srv.tick + int64(w.cfg.Server.InitLimit+w.cfg.Server.SyncLimit), lastRecv: w.eng.Now()}
	if w.tracer != nil {
		w.tracef(srv.name, "learner-joined", "follower=%d", m.from)
	}
	sync := 4*w.cfg.Server.QuorumLatency + srv.syncTime.Draw() // epoch and NEWLEADER round trips, DIFF/SNAP
	if srv.serving {
		w.eng.Post(sim.Event{At: w.eng.Now().Add(sync), Kind: evLearnerSync, A: l, B: m.from, X: uint64(srv.gen)})
		return
	}
	if !srv.pending && w.joined(l) >= w.quorum() {
		srv.pending = true
		w.eng.Post(sim.Event{At: w.eng.Now().Add(sync), Kind: evLeaderServe, A: l, X: uint64(srv.gen)})
	}
}

// joined counts leader l and the followers connected to it.
func (w *World) joined(l int32) int {
	n := 1
	for i := range w.servers[l].learners {
		if w.servers[l].learners[i].joined {
			n++
		}
	}
	return n
}

func (w *World) onJoinRetry(s int32, gen uint32) {
	srv := &w.servers[s]
	if srv.up && srv.gen == gen && srv.role == Following && !srv.serving {
		w.quorumSend(s, srv.leader, qmsg{kind: qJoin})
	}
}

// onLeaderServe is leader l done establishing its epoch with the followers
// that joined: it starts its ZooKeeperServer (a fresh tracker touching every
// session) and sends them UPTODATE.
func (w *World) onLeaderServe(l int32, gen uint32) {
	srv := &w.servers[l]
	if !srv.up || srv.gen != gen || srv.role != Leading || srv.serving {
		return
	}
	srv.pending = false
	if w.joined(l) < w.quorum() {
		return // a follower left meanwhile: wait for joins until initLimit
	}
	epoch := srv.epoch
	for i := range srv.learners {
		if srv.learners[i].joined {
			epoch = max(epoch, w.servers[i].epoch)
		}
	}
	now := w.eng.Now()
	srv.epoch = epoch + 1
	srv.counter = 0
	srv.zxid = srv.epoch << 32
	srv.serving = true
	srv.tick, srv.tickSkip = 0, true
	if w.check {
		for i := range w.servers {
			o := &w.servers[i]
			if int32(i) != l && o.up && o.serving && o.role == Leading && o.epoch == srv.epoch {
				w.fail("%s and %s both serve as leaders of epoch %d", o.name, srv.name, srv.epoch)
			}
		}
	}
	w.traceState(l, "")
	w.startTracker(now, l)
	if w.tracer != nil {
		w.tracef(srv.name, "tracker-started", "restored-sessions=%d", w.restored)
	}
	for i := range srv.learners {
		if lr := &srv.learners[i]; lr.joined {
			lr.serving, lr.lastRecv = true, now
			lr.ackDeadline = int64(w.cfg.Server.InitLimit + w.cfg.Server.SyncLimit)
			w.quorumSend(l, int32(i), qmsg{kind: qUptodate, toGen: lr.gen, zxid: srv.zxid})
		}
	}
	w.eng.Post(sim.Event{At: now.Add(w.cfg.Server.TickTime / 2), Kind: evLeadTick, A: l, X: uint64(srv.gen)})
	w.servingChanged(now)
	w.serverServing(l)
}

// onLearnerSync is serving leader l done syncing follower f, which joined
// late: UPTODATE.
func (w *World) onLearnerSync(l, f int32, gen uint32) {
	srv := &w.servers[l]
	if !srv.up || srv.gen != gen || !srv.serving {
		return
	}
	lr := &srv.learners[f]
	if !lr.joined || lr.serving {
		return
	}
	lr.serving, lr.lastRecv = true, w.eng.Now()
	lr.ackDeadline = srv.tick + int64(w.cfg.Server.SyncLimit)
	w.quorumSend(l, f, qmsg{kind: qUptodate, toGen: lr.gen, zxid: srv.zxid})
}

// onUptodate is follower f starting to serve.
func (w *World) onUptodate(f int32, m *qmsg) {
	srv := &w.servers[f]
	if srv.role != Following || srv.leader != m.from || srv.gen != m.toGen || srv.serving {
		return
	}
	now := w.eng.Now()
	srv.serving = true
	srv.leaderGen = m.gen
	srv.epoch = m.zxid >> 32
	srv.zxid = max(srv.zxid, m.zxid)
	srv.lastHeard = now
	w.traceState(f, "")
	w.eng.Post(sim.Event{At: now.Add(w.syncLimit()), Kind: evFollowerCheck, A: f, X: uint64(srv.gen)})
	w.serverServing(f)
}

// onInitLimit abandons a leadership that is not serving initLimit ticks
// after its election.
func (w *World) onInitLimit(s int32, gen uint32) {
	srv := &w.servers[s]
	if srv.up && srv.gen == gen && srv.role != Looking && !srv.serving {
		w.shutdown(s, "init-limit")
	}
}

// ---------------------------------------------------------------- serving

// onLeadTick is one half-tick iteration of leader l's loop (Leader.lead):
// every other one advances the tick and checks that a quorum is synced;
// each one pings every follower.
func (w *World) onLeadTick(l int32, gen uint32) {
	srv := &w.servers[l]
	if !srv.up || srv.gen != gen || !srv.serving {
		return
	}
	now := w.eng.Now()
	if !srv.tickSkip {
		srv.tick++
	}
	synced := 1
	for i := range srv.learners {
		lr := &srv.learners[i]
		if !lr.joined {
			continue
		}
		if lr.serving && now.Sub(lr.lastRecv) > w.syncLimit() {
			// The handler's socket read timed out: it closes the connection.
			w.quorumSend(l, int32(i), qmsg{kind: qClose})
			w.learnerLost(l, int32(i), "timeout")
			continue
		}
		if srv.tick <= lr.ackDeadline {
			synced++
		}
	}
	if !srv.tickSkip && synced < w.quorum() {
		w.shutdown(l, "quorum-lost synced="+strconv.Itoa(synced))
		return
	}
	srv.tickSkip = !srv.tickSkip
	for i := range srv.learners {
		if srv.learners[i].joined {
			w.quorumSend(l, int32(i), qmsg{kind: qPing})
		}
	}
	w.eng.Post(sim.Event{At: now.Add(w.cfg.Server.TickTime / 2), Kind: evLeadTick, A: l, X: uint64(gen)})
}

func (w *World) learnerLost(l, f int32, why string) {
	w.servers[l].learners[f] = learner{}
	w.closeConn(l, f)
	if w.tracer != nil {
		w.tracef(w.servers[l].name, "learner-lost", "follower=%d reason=%s", f, why)
	}
}

// onFollowerCheck is follower f's socket read timeout: syncLimit ticks
// without a packet from the leader.
func (w *World) onFollowerCheck(f int32, gen uint32) {
	srv := &w.servers[f]
	if !srv.up || srv.gen != gen || srv.role != Following || !srv.serving {
		return
	}
	now := w.eng.Now()
	if due := srv.lastHeard.Add(w.syncLimit()); now < due {
		w.eng.Post(sim.Event{At: due, Kind: evFollowerCheck, A: f, X: uint64(gen)})
		return
	}
	w.shutdown(f, "leader-timeout")
}

// fromLeader reports whether m comes from the leader follower f follows,
// on the connection it joined.
func (w *World) fromLeader(f int32, m *qmsg) bool {
	srv := &w.servers[f]
	return srv.role == Following && srv.leader == m.from && srv.serving && srv.leaderGen == m.gen
}

// fromLearner reports whether m comes from a follower joined to leader l.
func (w *World) fromLearner(l int32, m *qmsg) bool {
	srv := &w.servers[l]
	return srv.role == Leading && srv.learners[m.from].joined && srv.learners[m.from].gen == m.gen
}

// quorumReceive is server m.to reading message m.
func (w *World) quorumReceive(m *qmsg) {
	s := m.to
	srv := &w.servers[s]
	now := w.eng.Now()
	switch m.kind {
	case qNotify:
		w.electionEffects(s, srv.elect.OnNotification(now, m.n))
	case qJoin:
		w.onJoin(s, m)
	case qRefused:
		if srv.role == Following && srv.gen == m.toGen && !srv.serving {
			w.eng.Post(sim.Event{At: now.Add(leaderConnectDelay), Kind: evJoinRetry, A: s, X: uint64(srv.gen)})
		}
	case qUptodate:
		w.onUptodate(s, m)
	case qPing:
		if !w.fromLeader(s, m) {
			return
		}
		srv.lastHeard = now
		batch := srv.touches
		srv.touches = w.takeTouchBuf()
		srv.batch++
		w.quorumSend(s, m.from, qmsg{kind: qAck, touches: batch})
	case qAck:
		if !w.fromLearner(s, m) {
			return
		}
		lr := &srv.learners[m.from]
		lr.lastRecv = now
		lr.ackDeadline = srv.tick + int64(w.cfg.Server.SyncLimit)
		if srv.serving && len(m.touches) > 0 {
			if w.tracer != nil {
				w.tracef(srv.name, "touches-forwarded", "from=%s sessions=%d", w.servers[m.from].name, len(m.touches))
			}
			for _, t := range m.touches {
				w.trackerTouch(now, s, t.session, t.timeout, false)
			}
		}
	case qPropose:
		if w.fromLeader(s, m) {
			srv.lastHeard = now
			srv.zxid = max(srv.zxid, m.zxid)
			w.quorumSend(s, m.from, qmsg{kind: qPropAck, zxid: m.zxid})
		}
	case qPropAck:
		if w.fromLearner(s, m) {
			srv.learners[m.from].lastRecv = now
			for i := range srv.proposals {
				if srv.proposals[i].zxid == m.zxid {
					srv.proposals[i].acks++
				}
			}
			w.tryCommit(s)
		}
	case qCommit:
		if w.fromLeader(s, m) && !m.create {
			srv.lastHeard = now
			if rec := &w.sessions[m.session]; rec.conn != 0 && w.conns[rec.conn].server == s {
				w.closeServerConn(rec.conn, "session-expired")
			}
		}
	case qRevalidate:
		if w.fromLearner(s, m) && srv.serving {
			w.leaderConnect(s, m.conn, m.session)
		}
	case qRevalidateReply:
		if w.fromLeader(s, m) {
			w.answerConnect(m.conn, m.session, m.ok)
		}
	case qClose:
		switch {
		case srv.role == Following && srv.leader == m.from && (srv.leaderGen == m.gen || !srv.serving):
			// Its leader's connection, or the one it is still syncing on.
			w.shutdown(s, "leader-closed")
		case w.fromLearner(s, m):
			w.learnerLost(s, m.from, "closed")
		}
	}
}

func (w *World) takeTouchBuf() []touchEntry {
	if n := len(w.touchPool); n > 0 {
		b := w.touchPool[n-1]
		w.touchPool = w.touchPool[:n-1]
		return b
	}
	return nil
}

// ---------------------------------------------------------------- proposals

// propose starts transaction p at leader l; a standalone server commits it
// at once, an ensemble leader once a quorum has logged it.
func (w *World) propose(l int32, p proposal) {
	srv := &w.servers[l]
	srv.counter++
	p.zxid = srv.epoch<<32 | srv.counter
	srv.zxid = p.zxid
	if !w.ensemble() {
		w.commit(l, p)
		return
	}
	p.acks = 1
	srv.proposals = append(srv.proposals, p)
	for i := range srv.learners {
		if lr := &srv.learners[i]; lr.joined && lr.serving {
			w.quorumSend(l, int32(i), qmsg{kind: qPropose, zxid: p.zxid, session: p.session, create: p.create})
		}
	}
	w.tryCommit(l)
}

// tryCommit commits, in zxid order, every proposal a quorum has logged.
func (w *World) tryCommit(l int32) {
	srv := &w.servers[l]
	for len(srv.proposals) > 0 && srv.proposals[0].acks >= w.quorum() {
		p := srv.proposals[0]
		srv.proposals = srv.proposals[1:]
		for i := range srv.learners {
			if lr := &srv.learners[i]; lr.joined && lr.serving {
				w.quorumSend(l, int32(i), qmsg{kind: qCommit, zxid: p.zxid, session: p.session, create: p.create})
			}
		}
		w.commit(l, p)
	}
}

func (w *World) commit(l int32, p proposal) {
	if p.create {
		w.sessions[p.session].alive = true
		w.connectAnswer(l, p.conn, p.session, true)
		w.unref(p.conn)
		return
	}
	w.commitClose(l, p.session)
}

// ---------------------------------------------------------------- leaving a role

// shutdown is server s abandoning its role (quorum lost, leader lost,
// initLimit passed): it closes every client connection and looks for a
// leader again.
func (w *World) shutdown(s int32, reason string) {
	now := w.eng.Now()
	w.closeClientConns(s, "server-shutdown")
	w.leaveRole(now, s)
	w.traceState(s, reason)
	w.lookForLeader(now, s)
}

// leaveRole closes server s's quorum connections, discards what its role
// held in memory (tracker, outstanding proposals, queued touches) and makes
// it LOOKING.
func (w *World) leaveRole(now clock.Time, s int32) {
	srv := &w.servers[s]
	switch srv.role {
	case Leading:
		for i := range srv.learners {
			if srv.learners[i].joined {
				w.quorumSend(s, int32(i), qmsg{kind: qClose})
			}
		}
		if len(srv.proposals) > 0 && w.tracer != nil {
			w.tracef(srv.name, "proposals-lost", "count=%d", len(srv.proposals))
		}
		for _, p := range srv.proposals {
			if p.create {
				w.unref(p.conn)
			}
		}
		srv.proposals = srv.proposals[:0]
		w.stopTracker(s)
	case Following:
		w.quorumSend(s, srv.leader, qmsg{kind: qClose})
	}
	for j := range w.cfg.Servers {
		if int32(j) != s {
			w.closeConn(s, int32(j))
		}
	}
	srv.role, srv.serving, srv.leader, srv.pending = Looking, false, -1, false
	srv.gen++
	srv.touches = srv.touches[:0]
	clear(srv.learners)
	w.servingChanged(now)
}

// ---------------------------------------------------------------- pauses

// pauseServer freezes server s: its kernel still accepts connections and
// buffers what arrives; its threads and timers stop.
func (w *World) pauseServer(s int32, d time.Duration) {
	srv := &w.servers[s]
	if !srv.up {
		return
	}
	srv.paused++
	if srv.paused > 1 {
		return
	}
	srv.pausedInc = srv.incarnation
	if w.tracer != nil {
		w.tracef(srv.name, "server-paused", "duration=%s", Duration(d))
	}
	w.servingChanged(w.eng.Now())
}

// resumeServer ends one pause of server s; when the last ends, the expirer
// and the request threads run what came due, in the configured order.
func (w *World) resumeServer(s int32) {
	srv := &w.servers[s]
	if !srv.up || srv.paused == 0 || srv.pausedInc != srv.incarnation {
		return
	}
	srv.paused--
	if srv.paused > 0 {
		return
	}
	if w.tracer != nil {
		w.tracef(srv.name, "server-resumed", "order=%s buffered=%d", w.cfg.Server.ResumeOrder, len(srv.deferred))
	}
	w.servingChanged(w.eng.Now())
	evs := srv.deferred
	srv.deferred = w.spareEvents[:0]
	expirerDue := false
	if w.cfg.Server.ResumeOrder == ExpirerFirst {
		w.drainBuckets(s)
	}
	for i := range evs {
		if !srv.up || srv.paused > 0 {
			// A replayed input crashed or paused it again: the rest waits
			// in the kernel again (or is lost with the process).
			if srv.up {
				srv.deferred = append(srv.deferred, evs[i:]...)
			} else {
				w.dropDeferred(evs[i:])
			}
			break
		}
		if evs[i].Kind == evExpirer {
			expirerDue = true
			continue
		}
		w.Handle(&evs[i])
	}
	w.spareEvents = evs[:0]
	if srv.up && srv.paused == 0 && w.cfg.Server.ResumeOrder == RequestsFirst {
		w.drainBuckets(s)
	}
	if expirerDue && srv.up && srv.tracker != nil && srv.tracker.Rounding() {
		srv.expirer = w.eng.Schedule(sim.Event{At: max(srv.tracker.NextBoundary(), w.eng.Now()), Kind: evExpirer, A: s, X: uint64(srv.incarnation)})
	}
}

// dropDeferred releases what a dead process had buffered.
func (w *World) dropDeferred(evs []sim.Event) {
	for i := range evs {
		switch evs[i].Kind {
		case evServerRead:
			w.unref(evs[i].A)
		case evQuorumRead:
			w.freeQmsg(int32(evs[i].X))
		}
	}
}

// ---------------------------------------------------------------- availability

// servingChanged keeps the time without a serving leader: whenever no
// server leads and serves (a paused one does not), time accrues to the
// latest server-side fault episode.
func (w *World) servingChanged(now clock.Time) {
	n := 0
	for i := range w.cfg.Servers {
		if w.leading(int32(i)) && w.servers[i].paused == 0 {
			n++
		}
	}
	switch {
	case n == 0 && w.leaderlessSince == clock.Never:
		w.leaderlessSince = now
	case n > 0 && w.leaderlessSince != clock.Never:
		w.accrueLeaderless(now)
		w.leaderlessSince = clock.Never
	}
}

func (w *World) accrueLeaderless(now clock.Time) {
	if w.curEpisode < 0 {
		return
	}
	ep := &w.stats.ServerEpisodes[w.curEpisode]
	from := max(w.leaderlessSince, w.epStart)
	if now > from {
		ep.NoLeader += now.Sub(from)
	}
}

// dropped counts a client connection with a session that a server closed
// or reset (crash, shutdown).
func (w *World) dropped() {
	if w.curEpisode >= 0 {
		w.stats.ServerEpisodes[w.curEpisode].Dropped++
	}
}

// connectSeen counts a ConnectRequest reaching server s for the reconnect
// storm: the peak number any server receives within one second.
func (w *World) connectSeen(s int32, now clock.Time) {
	sec := int64(now) / int64(time.Second)
	if w.rateSec[s] != sec {
		w.rateSec[s], w.rateN[s] = sec, 0
	}
	w.rateN[s]++
	w.stats.PeakConnectRate = max(w.stats.PeakConnectRate, int(w.rateN[s]))
}

// serverServing runs when server s starts serving: a rolling restart
// waiting for it goes on.
func (w *World) serverServing(s int32) {
	for _, pi := range w.rolls {
		p := &w.faults[pi]
		if p.roll.active && p.roll.waiting && p.roll.current == s {
			p.roll.waiting = false
			w.eng.Post(sim.Event{At: w.eng.Now().Add(p.f.Gap), Kind: evRollNext, A: pi})
		}
	}
}
