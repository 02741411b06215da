package model

import (
	"fmt"
	"time"

	"hbsim/clock"
	"hbsim/sim"
)

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
	retries     int32         // RTO retransmissions of this loss episode (the probe not counted)
	waiting     bool          // ideal transport: held until the outage ends
	probed      bool          // this loss episode's tail loss probe is spent (or TLP is off)
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
// from the first SYN; i = synBudget()+1 is when the kernel gives up. The RTO
// starts at 1 s; after each retransmission it doubles (capped at RTOMax),
// except after the first SYNLinearTimeouts of the linear schedule, which
// leave it alone (Linux tcp_retransmit_timer backs off once total_rto exceeds
// tcp_syn_linear_timeouts).
func (n *NetworkConfig) synOffset(i int) time.Duration {
	linear := 0
	if n.SYN == SYNLinear {
		linear = n.SYNLinearTimeouts
	}
	var at time.Duration
	rto := min(synInitialRTO, n.RTOMax)
	for k := 1; k <= i; k++ {
		at += rto
		if k > linear {
			rto = min(2*rto, n.RTOMax)
		}
	}
	return at
}

// synBudget is how many SYN retransmissions the kernel makes before connect
// fails with ETIMEDOUT: tcp_syn_retries, plus tcp_syn_linear_timeouts for the
// linear schedule (Linux tcp_write_timeout).
func (n *NetworkConfig) synBudget() int {
	if n.SYN == SYNLinear {
		return n.SYNRetries + n.SYNLinearTimeouts
	}
	return n.SYNRetries
}

func (w *World) sendSYN(id int32) {
	cn := &w.conns[id]
	now := w.eng.Now()
	cn.refs += 2 // the SYN, and its retry timer or (ideal) nothing
	w.post(sim.Event{At: now.Add(w.net.delay()), Kind: evSYNArrive, A: id, X: uint64(now)})
	if w.cfg.Network.Transport == TCP {
		// The next retransmission, or after the last one the timeout that
		// fails the connect.
		cn.synTimer = w.eng.Schedule(sim.Event{At: cn.synFirst.Add(w.cfg.Network.synOffset(int(cn.synTries) + 1)), Kind: evSYNRetry, A: id})
	} else {
		cn.refs--
	}
}

func (w *World) onSYNRetry(id int32) {
	cn := &w.conns[id]
	if cn.state != connSYN || !cn.clientOpen {
		return
	}
	if int(cn.synTries) >= w.cfg.Network.synBudget() {
		// ETIMEDOUT: finishConnect throws, as for a refused connect.
		cn.state = connFailed
		w.clientInput(cn.client, deferredInput{kind: inTCPTimedOut, local: cn.local})
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
		if (st.retries > 0 || st.probed) && w.tracer != nil {
			w.tracef("network", "delivered-late", "%s conn=%d %s", MsgKind(x&^wireRejected), w.conns[id].serial, dirName(d))
		}
		st.rto, st.retries, st.probed = 0, 0, false
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

// A lost data segment comes back on Linux's schedule (zk-semantics §1.6):
// with the tail loss probe (tcp_early_retrans=3, the default) the kernel
// first resends it PTO after the original, then one RTO after the probe
// without backoff, then after an RTO that doubles every time up to RTOMax;
// without it, after the RTO, doubling from the first retransmission. On a LAN
// that is +0.2, +0.4, +0.8, +1.6, +3.2 s against +0.2, +0.6, +1.4, +3.0 s.
// The retry limits (DataRetries, OrphanRetries) count the RTO retransmissions.

// dataRTO is the first RTO of a loss episode. Linux sets RTO = SRTT +
// max(4·mdev, rto_min); the model holds the variance term at its floor,
// rto_min, which is right while the round trip's mean deviation stays under
// rto_min/4 (50 ms). SRTT is the latency law's mean round trip.
func (w *World) dataRTO() time.Duration { return w.rtoFor(w.net.meanRTT()) }

// rtoFor is the first RTO of a link whose smoothed round trip is srtt.
func (w *World) rtoFor(srtt time.Duration) time.Duration {
	n := &w.cfg.Network
	return min(min(srtt, n.RTOMax)+n.RTOMin, n.RTOMax)
}

// probeTimeout is the tail loss probe's PTO for a lone unacknowledged
// segment: 2·SRTT plus rto_min (the peer may delay its ACK), and never later
// than the RTO would fire (Linux tcp_schedule_loss_probe). With the RTO's
// variance term at its floor the cap binds, so PTO = RTO.
func (w *World) probeTimeout(rto time.Duration) time.Duration { return w.ptoFor(w.net.meanRTT(), rto) }

// ptoFor is the probe timeout of a link whose smoothed round trip is srtt.
func (w *World) ptoFor(srtt, rto time.Duration) time.Duration {
	n := &w.cfg.Network
	return min(2*min(srtt, n.RTOMax)+n.RTOMin, rto)
}

// retransmitAt is the first retransmission at or after now of data first
// lost at since, on the schedule armRetransmit and onRetransmit follow for
// a link whose smoothed round trip is srtt: the probe, one RTO, then an
// RTO doubling up to RTOMax (without the probe: the RTO, doubling). The
// quorum links use it for what a partition held.
func (w *World) retransmitAt(since, now clock.Time, srtt time.Duration) clock.Time {
	n := &w.cfg.Network
	rto := w.rtoFor(srtt)
	t, step := since.Add(rto), 2*rto
	if !n.NoTailLossProbe {
		t, step = since.Add(w.ptoFor(srtt, rto)), rto
	}
	for t < now {
		t = t.Add(step)
		step = min(2*step, n.RTOMax)
	}
	return t
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
	wait := st.rto
	if st.rto == 0 { // the episode's first loss
		st.rto = w.dataRTO()
		st.probed = w.cfg.Network.NoTailLossProbe
		wait = st.rto
		if !st.probed {
			wait = w.probeTimeout(st.rto)
		}
	}
	w.conns[id].refs++
	st.timer = w.eng.Schedule(sim.Event{At: max(w.eng.Now(), sent.Add(wait)), Kind: evRetransmit, A: id, B: int32(d)})
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
	word := "retransmit"
	if !senderOpen {
		word = "orphan-retransmit"
	}
	if !st.probed {
		// The tail loss probe: no backoff, and not a retry.
		st.probed = true
		if w.tracer != nil {
			w.tracef("network", word, "conn=%d %s packets=%d try=probe", w.conns[id].serial, dirName(d), len(st.lost))
		}
		w.resend(id, d)
		return
	}
	limit := int32(w.cfg.Network.DataRetries)
	if !senderOpen {
		limit = int32(w.cfg.Network.OrphanRetries)
	}
	st.retries++
	if st.retries > limit {
		w.drop(st)
		st.rto, st.probed = 0, false
		if senderOpen {
			if d == c2s {
				// The kernel has closed the socket (ETIMEDOUT): the
				// application's close sends nothing more.
				cn.state = connFailed
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
		// The handshake never completed: a server that got the SYN holds
		// the connection half-open in its kernel (SYN_RECV) until the
		// client's reset or its SYN-ACK retries end it; the process never
		// accepted it.
		w.stopConnTimer(id, cn.synTimer)
		cn.state = connFailed
		cn.serverOpen = false
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
