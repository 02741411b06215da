package model

import (
	"hbsim/clock"
	"hbsim/sim"
)

// This file: the links between servers. Election notifications travel on
// the election port and are simply lost on a cut link (the election sends
// them again). Everything else travels on the leader-follower connection,
// a TCP stream: what a cut link drops is held and retransmitted, in order,
// at the first retransmission after the link heals. A connection that one
// side closed discards what is still in flight or held for it: every
// connection between two servers has a number, bumped when one of them
// leaves its role or the leader drops the follower, and a message of an
// older number is dropped (a close travels regardless).

// qkind is the type of a message between servers.
type qkind uint8

const (
	qNotify          qkind = iota + 1 // election notification
	qJoin                             // FOLLOWERINFO: a follower connects to the leader it elected
	qRefused                          // the peer is not leading: the connect is refused
	qUptodate                         // sync done (NEWLEADER acked, UPTODATE): the follower serves
	qPing                             // the leader's half-tick PING
	qAck                              // the follower's ping reply, with its session touches
	qPropose                          // a proposal: createSession or closeSession
	qPropAck                          // a follower logged a proposal
	qCommit                           // a proposal committed
	qRevalidate                       // a follower asks the leader to create or revalidate a session
	qRevalidateReply                  // the leader's answer
	qClose                            // the connection closed: the peer died or shut down
)

var qkindNames = [...]string{"", "notification", "join", "refused", "uptodate", "ping", "ack",
	"propose", "propose-ack", "commit", "revalidate", "revalidate-reply", "close"}

func (k qkind) String() string { return qkindNames[k] }

// qmsg is one message between servers. Messages live in World.qmsgs while
// in flight; events name them by index.
type qmsg struct {
	kind     qkind
	from, to int32
	gen      uint32 // the sender's role generation
	qc       uint32 // the number of the connection it was sent on
	toGen    uint32 // a reply: the receiver's generation it answers
	sent     clock.Time
	n        Notification // qNotify
	session  int64
	zxid     int64
	conn     int32 // qRevalidate*: the client connection (pinned while in flight)
	ok       bool
	create   bool
	touches  []touchEntry // qAck
	deferred bool         // buffered by a paused receiver's kernel
}

// linkUp reports whether the quorum link a<->b is up.
func (w *World) linkUp(a, b int32) bool {
	return w.qcutN == 0 || w.qcut[int(a)*w.cfg.Servers+int(b)] == 0
}

// cutLinks cuts (delta=+1) or heals (delta=-1) every link between a server
// of set and a server outside it.
func (w *World) cutLinks(set []int32, delta int32) {
	n := w.cfg.Servers
	in := make([]bool, n)
	for _, s := range set {
		in[s] = true
	}
	for a := range n {
		for b := range n {
			if in[a] != in[b] {
				w.qcut[a*n+b] += delta
				w.qcutN += delta
			}
		}
	}
	if delta < 0 {
		w.releaseHeld()
	}
}

// quorumSend sends m from server from to server to.
func (w *World) quorumSend(from, to int32, m qmsg) {
	if to < 0 || from == to {
		return
	}
	m.from, m.to, m.gen, m.sent = from, to, w.servers[from].gen, w.eng.Now()
	m.qc = w.qconn[int(from)*w.cfg.Servers+int(to)]
	if m.kind == qNotify && !w.linkUp(from, to) {
		return // the election port's connection fails; nothing is queued
	}
	i := w.newQmsg(m)
	pair := int(from)*w.cfg.Servers + int(to)
	if m.kind != qNotify && (len(w.qheld[pair]) > 0 || !w.linkUp(from, to)) {
		w.holdQ(pair, i, m.sent)
		return
	}
	w.postQ(i, m.sent.Add(w.cfg.Server.QuorumLatency))
}

// postQ schedules message i's arrival at at. The messages one event sends
// share one arrival event (a leader's pings to every follower, their
// replies), which then hands each to onQuorum in the order sent: the same
// order as one event each, in fewer events.
func (w *World) postQ(i int32, at clock.Time) {
	if k := w.qbOpen; k >= 0 && w.qbatches[k].at == at {
		w.qbatches[k].msgs = append(w.qbatches[k].msgs, i)
		return
	}
	var k int32
	if n := len(w.qbfree); n > 0 {
		k = w.qbfree[n-1]
		w.qbfree = w.qbfree[:n-1]
	} else {
		k = int32(len(w.qbatches))
		w.qbatches = append(w.qbatches, qbatch{})
	}
	w.qbatches[k].at = at
	w.qbatches[k].msgs = append(w.qbatches[k].msgs[:0], i)
	w.qbOpen = k
	w.eng.Post(sim.Event{At: at, Kind: evQuorum, X: uint64(k)})
}

// qbatch is the messages that arrive together at one event.
type qbatch struct {
	at   clock.Time
	msgs []int32
}

// onQuorumBatch hands every message of batch k to onQuorum.
func (w *World) onQuorumBatch(k int32) {
	// Batch k takes no new message meanwhile: it is neither free nor open
	// (every event opens its own).
	for _, i := range w.qbatches[k].msgs {
		w.onQuorum(i)
	}
	w.qbatches[k].msgs = w.qbatches[k].msgs[:0]
	w.qbfree = append(w.qbfree, k)
}

func (w *World) newQmsg(m qmsg) int32 {
	if m.conn != 0 {
		w.conns[m.conn].refs++
	}
	if n := len(w.qfree); n > 0 {
		i := w.qfree[n-1]
		w.qfree = w.qfree[:n-1]
		w.qmsgs[i] = m
		return i
	}
	w.qmsgs = append(w.qmsgs, m)
	return int32(len(w.qmsgs) - 1)
}

func (w *World) freeQmsg(i int32) {
	m := &w.qmsgs[i]
	if m.touches != nil {
		w.touchPool = append(w.touchPool, m.touches[:0])
	}
	conn := m.conn
	*m = qmsg{}
	w.qfree = append(w.qfree, i)
	if conn != 0 {
		w.unref(conn)
	}
}

// holdQ queues message i on the directed link pair behind what is held.
func (w *World) holdQ(pair int, i int32, since clock.Time) {
	if len(w.qheld[pair]) == 0 {
		w.qheldSince[pair] = since
	}
	w.qheld[pair] = append(w.qheld[pair], i)
}

// onQuorum is message i reaching its receiver's kernel.
func (w *World) onQuorum(i int32) {
	m := &w.qmsgs[i]
	if m.kind != qNotify && m.kind != qClose && m.qc != w.qconn[int(m.from)*w.cfg.Servers+int(m.to)] {
		w.freeQmsg(i) // the connection it was sent on is gone
		return
	}
	if !m.deferred && !w.linkUp(m.from, m.to) {
		if m.kind == qNotify {
			w.freeQmsg(i)
			return
		}
		w.holdQ(int(m.from)*w.cfg.Servers+int(m.to), i, m.sent)
		return
	}
	srv := &w.servers[m.to]
	if !srv.up {
		w.freeQmsg(i) // a reset: the process is gone
		return
	}
	if srv.paused > 0 {
		m.deferred = true
		srv.deferred = append(srv.deferred, sim.Event{Kind: evQuorumRead, X: uint64(i)})
		return
	}
	w.quorumReceive(m)
	w.freeQmsg(i)
}

// closeConn ends the connection between servers a and b: what is in flight
// or held on it is dropped.
func (w *World) closeConn(a, b int32) {
	n := w.cfg.Servers
	for _, pair := range [2]int{int(a)*n + int(b), int(b)*n + int(a)} {
		w.qconn[pair]++
		for _, i := range w.qheld[pair] {
			w.freeQmsg(i)
		}
		w.qheld[pair] = w.qheld[pair][:0]
	}
}

// releaseHeld schedules, for every healed link with held messages, their
// retransmission: the first retransmission time after now, counted from the
// first loss.
func (w *World) releaseHeld() {
	n := w.cfg.Servers
	for pair := range w.qheld {
		if len(w.qheld[pair]) == 0 || !w.linkUp(int32(pair/n), int32(pair%n)) {
			continue
		}
		at := w.retransmitAt(w.qheldSince[pair], w.eng.Now(), 2*w.cfg.Server.QuorumLatency)
		w.eng.Post(sim.Event{At: at, Kind: evQuorumRelease, A: int32(pair)})
	}
}

// onQuorumRelease retransmits what link pair holds, if it is still up.
func (w *World) onQuorumRelease(pair int32) {
	n := int32(w.cfg.Servers)
	if len(w.qheld[pair]) == 0 || !w.linkUp(pair/n, pair%n) {
		return
	}
	now := w.eng.Now()
	for _, i := range w.qheld[pair] {
		w.qmsgs[i].sent = now
		w.postQ(i, now.Add(w.cfg.Server.QuorumLatency))
	}
	w.qheld[pair] = w.qheld[pair][:0]
}
