package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"hbsim/clock"
)

// Tracer receives one line per state change, message, touch, bucket expiry
// and fault, with its virtual time. Actor is "client-3", "server-0",
// "network" or "operator"; Event is a word of the stable kebab-case vocabulary (see
// Vocabulary); Detail is "key=value" pairs.
type Tracer interface {
	Trace(at clock.Time, actor, event, detail string)
}

// Vocabulary lists every trace event word with its meaning. Words are never
// renamed: golden files and users' scripts depend on them.
var Vocabulary = map[string]string{
	"client-started":            "the client process started (first handle)",
	"session-renewed":           "the application created a new handle after Expired",
	"connect-attempt":           "the client sent a SYN to a host",
	"spin-delay":                "the host provider slept 1 s before returning to the last good host",
	"reconnect-delay":           "the client slept U[0,1000) ms before connecting",
	"tcp-connected":             "TCP connected; the ConnectRequest is queued",
	"connect-refused":           "the SYN was answered by a reset (server process down)",
	"connect-timeout":           "no handshake within the connect timeout ct; the attempt is abandoned",
	"syn-timed-out":             "the kernel spent its SYN retransmissions unanswered (ETIMEDOUT); the attempt fails",
	"read-timeout":              "nothing heard for the read timeout rt while connected",
	"end-of-stream":             "the client read EOF: the server closed the connection or died",
	"connection-aborted":        "the kernel gave up retransmitting on an open connection",
	"ping-sent":                 "the client queued a ping",
	"ping-reply":                "the client read a ping reply",
	"request-sent":              "the application sent a request",
	"request-failed":            "an application request failed with CONNECTIONLOSS",
	"reply":                     "the client read a reply to a request",
	"state":                     "a watcher event reached the application (Disconnected, SyncConnected, Expired)",
	"session-expired-at-server": "the ConnectResponse carried timeout 0: the session is gone",
	"client-session-timeout":    "a 3.9 client expired its own session after 4T/3 of silence",
	"client-crashed":            "the client process died",
	"syn-sent":                  "a SYN left the client (first or retransmitted)",
	"packet-lost":               "a packet was dropped by an outage",
	"retransmit":                "TCP retransmitted unacknowledged data: the tail loss probe (try=probe), then after each RTO",
	"orphan-retransmit":         "the kernel retransmitted data of a socket the client had closed",
	"delivered-late":            "data held back by an outage reached the receiver",
	"connect-request":           "a server read a ConnectRequest",
	"session-created":           "the tracker created a session",
	"session-revalidated":       "the tracker accepted a reconnect for a live session",
	"session-rejected":          "a reconnect named an expired or unknown session: ConnectResponse(0)",
	"touch":                     "the tracker touched a session (new deadline E)",
	"touch-failed":              "a touch hit a closing or unknown session; the request is dropped",
	"touch-queued":              "a follower recorded a touch for the leader",
	"touches-forwarded":         "the leader applied a follower's batch of touches",
	"bucket-expired":            "the expirer drained a bucket boundary holding sessions",
	"session-expired":           "the tracker expired a session (closeSession)",
	"connection-closed":         "a server closed a client connection",
	"connection-reaped":         "the server's connection reaper had closed an idle connection",
	"server-crashed":            "a server process died; its connections reset",
	"server-restarted":          "a server process started; restored sessions re-touched",
	"outage-start":              "packets on the listed paths start being dropped",
	"outage-end":                "the listed paths deliver again",
	"pause-start":               "a client process froze (GC, VM migration)",
	"pause-end":                 "a client process resumed",
	"probe-crash":               "the dead-client probe's process died",
	"server-state":              "a server's role changed (LOOKING, FOLLOWING, LEADING) or it started serving clients",
	"election-started":          "a LOOKING server began an election round (FastLeaderElection)",
	"votes-sent":                "a LOOKING server sent its vote to every voter (a new or better proposal, or a resend after silence)",
	"elected":                   "a server's election ended: it leads, or follows the leader named",
	"learner-joined":            "a leader accepted a follower's connection (FOLLOWERINFO)",
	"learner-lost":              "a leader dropped a follower: its connection closed, or nothing came for syncLimit ticks",
	"tracker-started":           "a new leader started its session tracker, touching every committed session",
	"proposals-lost":            "a leader stopped with proposals no quorum had logged; they never commit",
	"server-paused":             "a server process froze (GC, VM freeze); its kernel keeps buffering",
	"server-resumed":            "a paused server process resumed; its expirer and request threads run what came due",
	"partition-start":           "the quorum links between the listed servers and the rest are cut",
	"partition-end":             "the quorum links heal",
	"rolling-restart-start":     "an operator began restarting every server in turn",
	"rolling-restart-end":       "every server was restarted and serves again",
	"rolling-restart-skipped":   "a rolling restart was due while the previous one still ran",
}

// WriterTracer formats trace lines as fixed columns on w:
//
//	12.345678  client-0   ping-sent            conn=2 session=0x1
type WriterTracer struct{ W io.Writer }

// Trace implements Tracer.
func (t WriterTracer) Trace(at clock.Time, actor, event, detail string) {
	fmt.Fprintf(t.W, "%12s  %-9s  %-26s %s\n", Seconds(at), actor, event, detail)
}

// Seconds formats t as seconds with microsecond precision ("12.345678").
func Seconds(t clock.Time) string {
	return strconv.FormatFloat(float64(t)/float64(time.Second), 'f', 6, 64)
}

// Duration formats d as seconds with up to microsecond precision ("6.667s").
func Duration(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Microsecond).Seconds(), 'f', -1, 64) + "s"
}

func hexID(id int64) string { return "0x" + strconv.FormatInt(id, 16) }
