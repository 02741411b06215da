package model

import (
	"strconv"
	"time"

	"hbsim/clock"
	"hbsim/sim"
)

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
	inTCPTimedOut                   // OnTCPTimedOut
	inAborted                       // OnAborted
	inRequest                       // OnRequest
)

type deferredInput struct {
	kind  inputKind
	local int32
	msg   Message
}

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
	case inTCPTimedOut:
		effs = cl.c.OnTCPTimedOut(now, in.local)
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
