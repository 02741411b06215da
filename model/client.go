package model

import (
	"math"
	"math/rand/v2"
	"time"

	"hbsim/clock"
)

// Client is one ZooKeeper client process: the ClientCnxn SendThread loop
// (zk-semantics §1) as a pure state machine. Every input is one wakeup of the
// loop (a select timeout, a packet, a connect completing or failing, the end
// of a sleep); every wakeup runs what the real loop runs at that point, then
// sets the next wakeup. Times inside the loop are whole milliseconds, as the
// Java clock gives them.
//
// The loop, in the seed's words (3.8 profile; 3.3 and 3.9 differ as noted):
//
//	while alive:
//	    if not connected:                     // after an error: cleanup slept 100 ms
//	        addr = hosts.next(1000)           // sleeps 1 s when wrapping to the last good host
//	        sleep U[0,1000) unless first connect
//	        connect(addr); lastSend = lastHeard = now
//	    to = (connected ? rt : ct) - idleRecv
//	    if to <= 0: raise SessionTimeout      // -> Disconnected, reconnect
//	    if connected and idleSend is past rt/2 (-1 s tweak) or > 10 s: send ping; lastSend = now
//	    select(min(to, timeToNextPing)); now = clock()
//	    on readable packet: lastHeard = now   // ConnectResponse(0) -> Expired
//	on error: close socket, sleep 100 ms, queue Disconnected (once per episode)
type Client struct {
	// The fields an idle connected loop touches on every wakeup come first,
	// so that they share one cache line.
	phase     clientPhase
	version   Version
	traced    bool       // emit EffNote effects (only the trace reads them)
	lastState State      // the event thread's last delivered state (dedup)
	conn      int32      // number of the current socket; sockets are numbered 1, 2, ...
	lastSend  int64      // ms
	lastHeard int64      // ms
	rt, ct    int64      // read and connect timeouts, ms
	wakeAt    clock.Time // the loop timer last set; clock.Never: none
	sessionID int64      // 0 until the first handshake
	outp      *[]Effect  // effects of the current call; valid until the next call

	ID     int32
	treq   time.Duration // requested session timeout T_req
	fixedR time.Duration // closed-form oracle: no sleeps, no connect timeout
	rng    *rand.Rand    // the U[0,1000) sleeps
	hosts  []int32       // the connect string after the one-time shuffle

	// StaticHostProvider (3.4+): currentIndex and lastIndex; for 3.3,
	// lastIndex is the last TCP-connected index.
	current, last int32

	connHost       int32 // host index of the current socket
	firstConnect   bool  // isFirstConnect: no TCP connect has succeeded yet
	everAttempted  bool  // 3.3: the very first attempt skips the random sleep
	negotiated     time.Duration
	expiration     int64 // 3.9: 4T/3, ms
	pendingReplies int32 // application requests awaiting a reply
}

type clientPhase uint8

const (
	phaseStart      clientPhase = iota // not started
	phaseCleanup                       // Thread.sleep(100) in cleanup after an error
	phaseSpin                          // hostProvider.next sleeping the spin delay
	phaseJitter                        // startConnect sleeping U[0,1000)
	phaseConnecting                    // SYN sent, waiting for TCP connect
	phaseHandshake                     // TCP up, ConnectRequest sent, state CONNECTING
	phaseConnected                     // state CONNECTED
	phaseClosed                        // Expired: the handle is dead
	phaseCrashed                       // the process died (dead-client probe)
)

const (
	cleanupSleep   = 100 * time.Millisecond // ClientCnxnSocketNIO.cleanup
	spinDelay      = 1000 * time.Millisecond
	maxPingSilence = 10000 // ms, MAX_SEND_PING_INTERVAL (3.4.6+)
	pingEarlyBy    = 1000  // ms, the ZOOKEEPER-1751 tweak
)

// ClientParams configures a Client.
type ClientParams struct {
	ID             int32
	Version        Version
	SessionTimeout time.Duration // T_req
	Hosts          []int32       // server indices in connect-string order
	KeepHostOrder  bool
	FixedReconnect time.Duration
	Rand           *rand.Rand // the client's own stream: shuffle and sleeps
	Traced         bool       // emit EffNote effects for the trace
	// HostsBuf, when it has room, holds the shuffled host list (the wiring
	// packs every client's list into one array).
	HostsBuf []int32
	// Effects, when set, is a buffer shared by clients whose effects are
	// consumed before the next client call (the wiring's case).
	Effects *[]Effect
}

// NewClient returns a client that has not started.
func NewClient(p ClientParams) *Client {
	c := &Client{}
	c.init(p)
	return c
}

func (c *Client) init(p ClientParams) {
	hosts := append(p.HostsBuf[:0], p.Hosts...)
	if !p.KeepHostOrder {
		p.Rand.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	}
	*c = Client{
		ID: p.ID, version: p.Version, treq: p.SessionTimeout, fixedR: p.FixedReconnect,
		rng: p.Rand, hosts: hosts, current: -1, last: -1, firstConnect: true, traced: p.Traced,
		outp: p.Effects, wakeAt: clock.Never,
	}
	if c.outp == nil {
		c.outp = new([]Effect)
	}
	c.setTimeouts(p.SessionTimeout)
}

// begin starts a call: the effect list is emptied.
func (c *Client) begin() []Effect {
	*c.outp = (*c.outp)[:0]
	return *c.outp
}

// ReadTimeoutFor is the client's readTimeout for session timeout t:
// rt = T*2/3 in Java int milliseconds (zk-semantics §1.1).
func ReadTimeoutFor(t time.Duration) time.Duration {
	return time.Duration(t.Milliseconds()*2/3) * time.Millisecond
}

// PingPeriod is an idle client's ping period for session timeout t:
// rt/2 in whole milliseconds, in every version (zk-semantics §1.4).
func PingPeriod(t time.Duration) time.Duration {
	return time.Duration(ReadTimeoutFor(t).Milliseconds()/2) * time.Millisecond
}

// setTimeouts applies the readTimeout/connectTimeout formulas of §1.1 to T.
func (c *Client) setTimeouts(t time.Duration) {
	ms := t.Milliseconds()
	c.rt = ReadTimeoutFor(t).Milliseconds()
	c.ct = ms / int64(len(c.hosts))
	c.expiration = ms * 4 / 3
	if c.fixedR > 0 {
		c.ct = math.MaxInt32 // the oracle's attempts never time out
	}
}

// Hosts is the host list after the shuffle.
func (c *Client) Hosts() []int32 { return c.hosts }

// SessionID is the current session (0 before the first handshake).
func (c *Client) SessionID() int64 { return c.sessionID }

// Negotiated is the timeout the server granted at the last handshake.
func (c *Client) Negotiated() time.Duration { return c.negotiated }

// Connected reports whether the client is in state CONNECTED.
func (c *Client) Connected() bool { return c.phase == phaseConnected }

// Alive reports whether the handle still runs its loop.
func (c *Client) Alive() bool { return c.phase != phaseClosed && c.phase != phaseCrashed }

// Conn is the number of the client's current socket, 0 if none.
func (c *Client) Conn() int32 {
	if c.phase == phaseConnecting || c.phase == phaseHandshake || c.phase == phaseConnected {
		return c.conn
	}
	return 0
}

// Start runs the first loop iteration: pick the first host and connect.
func (c *Client) Start(now clock.Time) []Effect {
	c.begin()
	c.nextHost(now)
	return *c.outp
}

// Renew makes the handle a fresh one after Expired, as an application does
// (a new ZooKeeper object: new session, first-connect rules again).
func (c *Client) Renew(now clock.Time) []Effect {
	c.begin()
	c.sessionID, c.negotiated = 0, 0
	c.firstConnect, c.everAttempted = true, false
	c.current, c.last = -1, -1
	c.lastState = StateNone
	c.setTimeouts(c.treq)
	c.nextHost(now)
	return *c.outp
}

// Crash kills the process: its sockets close (the kernel sends FIN) and the
// loop never runs again.
func (c *Client) Crash(now clock.Time) []Effect {
	c.begin()
	if conn := c.Conn(); conn != 0 {
		c.emit(EffClose).Conn = conn
	}
	c.phase = phaseCrashed
	c.setWake(now, clock.Never)
	c.note(noteClientCrashed, 0)
	return *c.outp
}

// OnWake is the loop timer firing: a select timeout or the end of a sleep.
func (c *Client) OnWake(now clock.Time) []Effect {
	c.begin()
	switch c.phase {
	case phaseCleanup:
		c.afterCleanup(now)
	case phaseSpin:
		c.startConnect(now)
	case phaseJitter:
		if c.version == V33 {
			c.startConnect(now) // 3.3 sleeps before choosing the address
		} else {
			c.connect(now)
		}
	case phaseConnecting, phaseHandshake, phaseConnected:
		c.iterate(now)
	}
	return *c.outp
}

// OnTCPConnected is finishConnect succeeding on socket conn.
func (c *Client) OnTCPConnected(now clock.Time, conn int32) []Effect {
	c.begin()
	if conn != c.conn || c.phase != phaseConnecting {
		return *c.outp
	}
	ms := now.Millis()
	c.lastHeard, c.lastSend = ms, ms
	c.firstConnect = false
	if c.version == V33 {
		c.last = c.connHost // lastConnectIndex is set at TCP connect in 3.3
	}
	c.phase = phaseHandshake
	c.note(noteTCPConnected, 0)
	c.send(conn, Message{Kind: MsgConnectRequest, Session: c.sessionID, Timeout: c.treq})
	c.iterate(now)
	return *c.outp
}

// OnTCPFailed is finishConnect throwing: the SYN was refused (RST).
func (c *Client) OnTCPFailed(now clock.Time, conn int32) []Effect {
	c.begin()
	if conn != c.conn || c.phase != phaseConnecting {
		return *c.outp
	}
	c.note(noteConnectRefused, 0)
	c.fail(now)
	return *c.outp
}

// OnTCPTimedOut is finishConnect throwing ETIMEDOUT: the kernel spent its
// SYN retransmissions without an answer.
func (c *Client) OnTCPTimedOut(now clock.Time, conn int32) []Effect {
	c.begin()
	if conn != c.conn || c.phase != phaseConnecting {
		return *c.outp
	}
	c.note(noteSYNTimedOut, 0)
	c.fail(now)
	return *c.outp
}

// OnAborted is the kernel giving up on an established connection
// (retransmissions exhausted): the next read fails.
func (c *Client) OnAborted(now clock.Time, conn int32) []Effect {
	c.begin()
	if conn != c.Conn() {
		return *c.outp
	}
	c.note(noteConnectionAborted, 0)
	c.fail(now)
	return *c.outp
}

// OnMessage is a packet read from socket conn.
func (c *Client) OnMessage(now clock.Time, conn int32, m Message) []Effect {
	c.begin()
	if conn != c.Conn() || c.phase == phaseConnecting {
		return *c.outp // a late packet on a socket the client already closed
	}
	ms := now.Millis()
	switch m.Kind {
	case MsgClose:
		c.note(noteEndOfStream, 0)
		c.fail(now)
		return *c.outp
	case MsgConnectResponse:
		c.lastHeard = ms
		if c.phase != phaseHandshake {
			return *c.outp
		}
		c.onConnected(now, m)
		if c.phase == phaseClosed {
			return *c.outp
		}
	case MsgPingReply:
		c.lastHeard = ms
		c.note(notePingReply, 0)
	case MsgReply:
		c.lastHeard = ms
		if c.pendingReplies > 0 {
			c.pendingReplies--
		}
		c.note(noteReply, 0)
	}
	c.iterate(now)
	return *c.outp
}

// OnRequest is the application issuing a request (it wakes the loop).
func (c *Client) OnRequest(now clock.Time) []Effect {
	c.begin()
	if c.phase != phaseConnected {
		c.note(noteRequestFailed, 0) // CONNECTIONLOSS while not connected
		return *c.outp
	}
	c.send(c.conn, Message{Kind: MsgRequest, Session: c.sessionID})
	c.lastSend = now.Millis()
	c.pendingReplies++
	c.note(noteRequestSent, 0)
	c.iterate(now)
	return *c.outp
}

// onConnected is ClientCnxn.onConnected for a ConnectResponse.
func (c *Client) onConnected(now clock.Time, m Message) {
	if m.Timeout <= 0 {
		c.note(noteSessionExpiredAtServer, 0)
		c.phase = phaseClosed
		c.emit(EffClose).Conn = c.conn
		c.setWake(now, clock.Never)
		c.deliver(Expired)
		return
	}
	c.sessionID = m.Session
	c.negotiated = m.Timeout
	c.setTimeouts(m.Timeout)
	if c.version != V33 {
		c.last = c.current // hostProvider.onConnected
	}
	c.phase = phaseConnected
	c.deliver(SyncConnected)
}

// iterate is the top of the loop while a socket exists (§1.3 steps 2-4).
func (c *Client) iterate(now clock.Time) {
	ms := now.Millis()
	idleRecv := ms - c.lastHeard
	idleSend := ms - c.lastSend
	var to int64
	switch {
	case c.phase == phaseConnected:
		to = c.rt - idleRecv
	case c.version == V39:
		to = c.ct - idleSend
	default:
		to = c.ct - idleRecv
	}
	if c.version == V39 && c.sessionID != 0 && c.expiration-idleRecv <= 0 {
		c.note(noteClientSessionTimeout, time.Duration(idleRecv)*time.Millisecond)
		c.phase = phaseClosed
		c.emit(EffClose).Conn = c.conn
		c.setWake(now, clock.Never)
		c.deliver(Expired)
		return
	}
	if to <= 0 {
		if c.phase == phaseConnected {
			c.note(noteReadTimeout, time.Duration(idleRecv)*time.Millisecond)
		} else {
			c.note(noteConnectTimeout, time.Duration(idleRecv)*time.Millisecond)
		}
		c.fail(now)
		return
	}
	if c.phase == phaseConnected {
		next := c.rt/2 - idleSend
		due := next <= 0
		if c.version != V33 {
			if idleSend > pingEarlyBy {
				next -= pingEarlyBy
			}
			due = next <= 0 || idleSend > maxPingSilence
		}
		if due {
			c.send(c.conn, Message{Kind: MsgPing, Session: c.sessionID})
			c.note(notePingSent, 0)
			c.lastSend = ms
			next = c.rt / 2 // the queued ping wakes the loop, which finds idleSend = 0
		}
		to = min(to, next)
	}
	c.setWake(now, now.Add(time.Duration(to)*time.Millisecond))
}

// fail is the catch block: close the socket, fail pending requests, then
// sleep 100 ms in cleanup before Disconnected is queued.
func (c *Client) fail(now clock.Time) {
	c.emit(EffClose).Conn = c.conn
	c.pendingReplies = 0
	if c.fixedR > 0 {
		c.afterCleanup(now)
		return
	}
	c.phase = phaseCleanup
	c.setWake(now, now.Add(cleanupSleep))
}

func (c *Client) afterCleanup(now clock.Time) {
	if c.phase == phaseClosed {
		return
	}
	c.deliver(Disconnected)
	if c.version != V39 {
		ms := now.Millis()
		c.lastHeard, c.lastSend = ms, ms
	}
	c.nextHost(now)
}

// nextHost chooses the next address: StaticHostProvider.next(1000) for 3.4+,
// the 3.3 rotation otherwise. The 3.3 loop sleeps U[0,1000) first.
func (c *Client) nextHost(now clock.Time) {
	if c.version == V33 {
		if c.everAttempted && c.fixedR == 0 {
			c.sleep(now, phaseJitter, time.Duration(c.rng.IntN(1000))*time.Millisecond, noteReconnectDelay)
			return
		}
		c.everAttempted = true
		c.startConnect(now)
		return
	}
	c.startConnect(now)
}

// startConnect advances the host index and applies the spin delay, then the
// random sleep (3.4+) before the SYN.
func (c *Client) startConnect(now clock.Time) {
	if c.phase != phaseSpin {
		c.current = (c.current + 1) % int32(len(c.hosts))
		spin := c.current == c.last && c.fixedR == 0
		if c.last == -1 && c.version != V33 {
			c.last = 0
		}
		if spin {
			c.sleep(now, phaseSpin, spinDelay, noteSpinDelay)
			return
		}
	}
	c.connHost = c.current
	if c.version != V33 && !c.firstConnect && c.fixedR == 0 {
		c.sleep(now, phaseJitter, time.Duration(c.rng.IntN(1000))*time.Millisecond, noteReconnectDelay)
		return
	}
	c.connect(now)
}

func (c *Client) sleep(now clock.Time, p clientPhase, d time.Duration, note Note) {
	c.phase = p
	c.note(note, d)
	c.setWake(now, now.Add(d))
}

// connect issues the non-blocking connect and resets lastSend/lastHeard.
func (c *Client) connect(now clock.Time) {
	c.conn++
	c.phase = phaseConnecting
	e := c.emit(EffConnect)
	e.Conn, e.Server = c.conn, c.hosts[c.connHost]
	ms := now.Millis()
	c.lastSend = ms
	if c.version != V39 {
		c.lastHeard = ms
	}
	c.iterate(now)
}

// deliver queues a watcher event; the event thread drops a repeat of the
// state it delivered last.
func (c *Client) deliver(s State) {
	if s == c.lastState {
		return
	}
	c.lastState = s
	c.emit(EffState).State = s
}

// emit appends an effect of kind k and returns it to be filled in (no
// temporary copy of the struct).
func (c *Client) emit(k EffectKind) *Effect {
	out := *c.outp
	n := len(out)
	if n == cap(out) {
		out = append(out, Effect{})
	}
	out = out[:n+1]
	*c.outp = out
	e := &out[n]
	*e = Effect{}
	e.Kind = k
	return e
}

// send writes m on socket conn.
func (c *Client) send(conn int32, m Message) {
	e := c.emit(EffSend)
	e.Conn, e.Msg = conn, m
}

// setWake sets the loop's timer to at. Setting it again to the same future
// instant changes nothing, so no effect is emitted (a reply that leaves the
// select timeout where it was is the common case).
func (c *Client) setWake(now, at clock.Time) {
	if at == c.wakeAt && at > now {
		return
	}
	c.wakeAt = at
	c.emit(EffWake).At = at
}

func (c *Client) note(n Note, d time.Duration) {
	if c.traced {
		e := c.emit(EffNote)
		e.Note, e.Dur, e.Conn = n, d, c.conn
	}
}
