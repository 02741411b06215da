package model

import (
	"fmt"
	"time"

	"hbsim/clock"
)

// MsgKind is the type of a packet on a client<->server connection.
type MsgKind uint8

// Packets. Client->server: ConnectRequest, Ping, Request. Server->client:
// ConnectResponse, PingReply, Reply. Either way: Close (a FIN: the sender
// closed the connection, the receiver reads end-of-stream).
const (
	MsgConnectRequest MsgKind = iota + 1
	MsgConnectResponse
	MsgPing
	MsgPingReply
	MsgRequest
	MsgReply
	MsgClose
)

var msgNames = [...]string{"", "connect-request", "connect-response", "ping", "ping-reply", "request", "reply", "close"}

func (k MsgKind) String() string {
	if int(k) < len(msgNames) && k > 0 {
		return msgNames[k]
	}
	return fmt.Sprintf("MsgKind(%d)", k)
}

// Message is one packet. Session and Timeout are meaningful for connect
// requests (the session to resume, 0 for a new one, and the requested T) and
// responses (the session and the negotiated T, or 0 when the session is
// expired or unknown).
type Message struct {
	Kind    MsgKind
	Session int64
	Timeout time.Duration
}

// State is a session state as the client's watcher sees it (KeeperState).
type State uint8

// Watcher states.
const (
	StateNone State = iota
	Disconnected
	SyncConnected
	Expired
)

var stateNames = [...]string{"none", "Disconnected", "SyncConnected", "Expired"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// EffectKind says what an Effect asks the wiring to do.
type EffectKind uint8

// Effects a Client returns.
const (
	// EffConnect opens TCP connection Conn (the client's own number) to
	// Server: a SYN, retransmitted on the SYN schedule until it is answered or
	// the client closes the socket.
	EffConnect EffectKind = iota + 1
	// EffSend writes Msg on connection Conn.
	EffSend
	// EffClose closes connection Conn (the kernel still flushes or
	// retransmits what was written: the orphaned-socket path).
	EffClose
	// EffWake sets the client's single loop timer (select timeout or sleep)
	// to At, replacing any earlier one. At == clock.Never clears it.
	EffWake
	// EffRequestTimer sets the application's next request time.
	EffRequestTimer
	// EffState delivers a watcher event (State) to the application.
	EffState
	// EffNote is a trace line only (Note, with Server/Conn/Dur as details).
	EffNote
)

// Effect is one output of a state machine. It is a plain struct (not an
// interface) so that returning effects allocates nothing; 56 bytes.
type Effect struct {
	At     clock.Time    // EffWake
	Dur    time.Duration // a detail for notes (a sleep, an idle time)
	Msg    Message       // EffSend
	Conn   int32
	Server int32
	Kind   EffectKind
	State  State // EffState
	Note   Note  // EffNote: a trace vocabulary word
}

// Note is a trace word a Client emits with EffNote (see Vocabulary).
type Note uint8

// The Client's trace words.
const (
	noteNone Note = iota
	noteClientCrashed
	noteClientSessionTimeout
	noteConnectRefused
	noteConnectTimeout
	noteConnectionAborted
	noteEndOfStream
	notePingReply
	notePingSent
	noteReadTimeout
	noteReconnectDelay
	noteReply
	noteRequestFailed
	noteRequestSent
	noteSessionExpiredAtServer
	noteSpinDelay
	noteSYNTimedOut
	noteTCPConnected
)

var noteWords = [...]string{"", "client-crashed", "client-session-timeout", "connect-refused",
	"connect-timeout", "connection-aborted", "end-of-stream", "ping-reply", "ping-sent",
	"read-timeout", "reconnect-delay", "reply", "request-failed", "request-sent",
	"session-expired-at-server", "spin-delay", "syn-timed-out", "tcp-connected"}

// String is the note's trace word.
func (n Note) String() string {
	if int(n) < len(noteWords) {
		return noteWords[n]
	}
	return fmt.Sprintf("Note(%d)", n)
}
