package fit

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Reading ZooKeeper Java client logs (3.4 to 3.9 wording, log4j or logback
// layouts with an ISO 8601 timestamp). What the client logs, at INFO and
// WARN, around a disconnection (ClientCnxn.java; zk-semantics §1):
//
//	Client session timed out, have not heard from server in 6669ms for session id 0x1...
//	    the read timeout: nothing heard for rt = 2T/3 (3.4 writes "sessionid";
//	    3.9.3+ writes "Client connection timed out" and keeps "Client session
//	    timed out" for its own expiry after 4T/3). Also the connect timeout
//	    of an attempt that hears nothing.
//	Opening socket connection to server zk1/10.0.0.1:2181.   an attempt starts (SYN)
//	Socket connection established ...                        TCP connected
//	Session establishment complete on server ..., session id = 0x1..., negotiated timeout = 10000
//	Unable to reconnect to ZooKeeper service, session 0x1... has expired
//	Unable to read additional data from server sessionid 0x1..., likely server has closed socket
//	Session: 0x1... closed                                   the application closed the handle
//
// Lines without a timestamp (exception lines, stack traces) carry the time
// of the line before them; the exception lines of 3.8+ repeat the messages
// above and are read as repeats.

// Transport is how the reader dates the end of an outage from a
// reconnection (a SYN sent during the outage).
type Transport uint8

// Transports.
const (
	// TransportTCP: a SYN lost to the outage is retransmitted on the
	// kernel's schedule (SYNSchedule), so the connection completes at the
	// first retransmission after the outage: its end lies between the
	// previous SYN and that one.
	TransportTCP Transport = iota
	// TransportIdeal: the SYN completes the instant the outage ends (the
	// simulator's network.transport = "ideal"), which dates it exactly.
	TransportIdeal
)

// SYNSchedule is the offsets (seconds) of a connect attempt's SYN and its
// retransmissions.
type SYNSchedule []float64

// The SYN schedules of zk-semantics §1.6.
var (
	// SYNClassic is Linux before 6.5: gaps of 1, 2, 4, 8, 16, 32 s.
	SYNClassic = SYNSchedule{0, 1, 3, 7, 15, 31, 63, 127}
	// SYNLinear is Linux >= 6.5 with tcp_syn_linear_timeouts=4.
	SYNLinear = SYNSchedule{0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67, 131}
)

// Options tune how logs are read.
type Options struct {
	Transport Transport
	SYN       SYNSchedule // TransportTCP only; default SYNClassic
	// RTO is the first retransmission timeout of a lost ping, seconds
	// (TransportTCP only; default 0.2: Linux's rto_min and a LAN round
	// trip), and NoTLP says the kernel sends no tail loss probe: together
	// they place the retransmissions that decide which outages the client
	// notices (DetectTCP).
	RTO   float64
	NoTLP bool
}

// detect is the client's detection threshold under o (see Episode).
func (o Options) detect(rt, p float64) float64 {
	if o.Transport == TransportIdeal {
		return rt
	}
	rto := o.RTO
	if rto <= 0 {
		rto = 0.2
	}
	return DetectTCP(rt, p, Retransmits(rto, !o.NoTLP))
}

// Message fragments.
const (
	zkSessionTimedOut = "Client session timed out, have not heard from server in "
	zkConnTimedOut    = "Client connection timed out, have not heard from server in "
	zkOpening         = "Opening socket connection to server "
	zkSocketUp        = "Socket connection established"
	zkComplete        = "Session establishment complete on server "
	zkExpired         = "Unable to reconnect to ZooKeeper service, session 0x"
	zkEOF             = "Unable to read additional data from server session"
	zkRefused         = "Connection refused"
	zkInitiating      = "Initiating client connection"
	zkServerExpiring  = "Expiring session 0x"
)

var (
	reTimedOut = regexp.MustCompile(`^(\d+)ms for session ?id 0x([0-9a-fA-F]+)`)
	reComplete = regexp.MustCompile(`session ?id = 0x([0-9a-fA-F]+), negotiated timeout = (\d+)`)
	reExpired  = regexp.MustCompile(`^([0-9a-fA-F]+) has expired`)
	reEOF      = regexp.MustCompile(`^ ?id:? 0x([0-9a-fA-F]+)`)
	reClosed   = regexp.MustCompile(`Session: 0x([0-9a-fA-F]+) closed`)
)

// zkClientLine reports whether a line holds ZooKeeper client wording.
func zkClientLine(s string) bool {
	for _, f := range []string{zkSessionTimedOut, zkConnTimedOut, zkOpening, zkComplete, zkExpired, zkEOF} {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}

// Timestamps.

var levels = []string{"TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL"}

// logStamp splits a log line into its timestamp (milliseconds since the
// Unix epoch, the zone ignored) and the rest. A line that starts like a
// date but is not one is malformed (a truncated line); a line that does
// not start like one has no timestamp (a continuation line).
func logStamp(line string) (ms int64, rest string, has bool, malformed string) {
	s := line
	if strings.HasPrefix(s, "[") { // "[INFO ] 2022-03-14 14:53:45,044 ..."
		if i := strings.IndexByte(s, ']'); i > 0 && isLevel(strings.TrimSpace(s[1:i])) {
			s = strings.TrimLeft(s[i+1:], " ")
		}
	} else if f := strings.Fields(s); len(f) > 1 && isLevel(f[0]) { // "INFO 2022-..."
		s = strings.TrimLeft(s[len(f[0]):], " ")
	}
	if len(s) < 5 || !isDigits(s[:4]) || s[4] != '-' {
		return 0, "", false, ""
	}
	const layout = "2006-01-02 15:04:05.000" // 23 characters
	if len(s) < len(layout) {
		return 0, "", false, fmt.Sprintf("truncated timestamp %q", s)
	}
	b := []byte(s[:len(layout)])
	if b[10] == 'T' {
		b[10] = ' '
	}
	if b[19] == ',' {
		b[19] = '.'
	}
	t, err := time.Parse(layout, string(b))
	if err != nil {
		return 0, "", false, fmt.Sprintf("malformed timestamp %q (want 2006-01-02 15:04:05,000)", s[:len(layout)])
	}
	return t.UnixMilli(), s[len(layout):], true, ""
}

func isLevel(s string) bool {
	for _, l := range levels {
		if s == l {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// The reader's state machine, one per file (one client handle at a time).

type zkState uint8

const (
	zkIdle         zkState = iota // no session: before the first, after an expiry or close
	zkConnected                   // SyncConnected
	zkDisconnected                // after a read timeout or an EOF, reconnecting
)

type attemptEnd uint8

const (
	attemptOpen attemptEnd = iota
	attemptConnected
	attemptTimedOut
	attemptFailed // refused or closed: the path was up, the server was not
)

type zkAttempt struct {
	open, conn, end int64 // ms; conn, end = -1 until known
	how             attemptEnd
}

type zkEpisode struct {
	line          int
	session       string
	detected      int64 // the read timeout's line
	idle          int64 // "have not heard from server in N ms"
	timeout       int64 // negotiated T, ms
	attempts      []zkAttempt
	end           int64 // reconnection or expiry, ms; -1 while open
	expired       bool
	byEOF         bool // started by an end of stream, not a read timeout
	clientExpired bool // 3.9.3+: the client gave up after 4T/3
}

type zkReader struct {
	name string
	opts Options

	last     int64 // the latest timestamp
	lastLine int
	hasTime  bool

	state       zkState
	session     string
	sessionLine int
	timeout     int64 // negotiated T of the session, ms
	connectedAt int64
	ep          *zkEpisode
	expired     map[string]bool
	open        int64 // an attempt outside an episode (a first connect): its start, or -1

	gaps     []int64 // SYN-to-connected times of every attempt, ms
	episodes []*zkEpisode
	exposure []Exposure
	lines    int // ZooKeeper client lines seen
	server   int // the first ZooKeeper server line, 0 if none
}

// ReadZK reads one ZooKeeper client log: every disconnection noticed by a
// read timeout becomes an Episode, and connected time becomes Exposure.
// The file must hold one client (one handle at a time); lines of two live
// sessions are an error, and so are truncated or malformed lines with
// ZooKeeper's wording, naming the file and the line.
func ReadZK(name string, data []byte, opts Options) (*Data, error) {
	if opts.Transport == TransportTCP && len(opts.SYN) == 0 {
		opts.SYN = SYNClassic
	}
	r := &zkReader{name: name, opts: opts, expired: map[string]bool{}, open: -1}
	for i, line := range strings.Split(strings.TrimPrefix(string(data), "\ufeff"), "\n") {
		if err := r.line(i+1, strings.TrimRight(line, "\r")); err != nil {
			return nil, err
		}
	}
	if r.lines == 0 {
		if r.server > 0 {
			return nil, fmt.Errorf("%s:%d: a ZooKeeper server log (%q): fit reads the clients' logs, which show their disconnections", name, r.server, zkServerExpiring+"...")
		}
		return nil, fmt.Errorf("%s: no line in ZooKeeper client wording (%q, %q, ...)", name, strings.TrimSpace(zkSessionTimedOut), strings.TrimSpace(zkComplete))
	}
	return r.finish(), nil
}

func (r *zkReader) errf(line int, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", r.name, line, fmt.Sprintf(format, a...))
}

func (r *zkReader) line(n int, line string) error {
	if strings.TrimSpace(line) == "" {
		return nil
	}
	ms, msg, has, bad := logStamp(line)
	if bad != "" {
		return r.errf(n, "%s", bad)
	}
	if has {
		if r.hasTime && ms < r.last-1000 {
			return r.errf(n, "time goes back from %s (line %d) to %s: lines of several logs mixed?",
				fmtMs(r.last), r.lastLine, fmtMs(ms))
		}
		r.last, r.lastLine, r.hasTime = max(ms, r.last), n, true
	} else {
		msg = line // a continuation line: the time of the line before
	}
	if strings.Contains(msg, zkServerExpiring) && r.server == 0 {
		r.server = n
	}
	if !zkClientLine(msg) && !strings.Contains(msg, zkSocketUp) && !strings.Contains(msg, zkRefused) &&
		!reClosed.MatchString(msg) && !strings.Contains(msg, zkInitiating) {
		return nil
	}
	if !r.hasTime {
		return r.errf(n, "ZooKeeper message before any timestamped line")
	}
	if zkClientLine(msg) {
		r.lines++
	}
	t := r.last
	switch {
	case strings.Contains(msg, zkSessionTimedOut) || strings.Contains(msg, zkConnTimedOut):
		frag := zkSessionTimedOut
		if !strings.Contains(msg, frag) {
			frag = zkConnTimedOut
		}
		m := reTimedOut.FindStringSubmatch(msg[strings.Index(msg, frag)+len(frag):])
		if m == nil {
			return r.errf(n, "truncated or malformed line: %q without \"Nms for session id 0x...\"", strings.TrimSpace(frag))
		}
		idle, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || idle > 1<<40 {
			return r.errf(n, "idle time %q: %v", m[1], err)
		}
		return r.timedOut(n, t, idle, strings.ToLower(m[2]), frag == zkSessionTimedOut)
	case strings.Contains(msg, zkComplete):
		m := reComplete.FindStringSubmatch(msg)
		if m == nil {
			return r.errf(n, "truncated or malformed line: %q without \"session id = 0x..., negotiated timeout = T\"", strings.TrimSpace(zkComplete))
		}
		timeout, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil || timeout < 3 || timeout > 1<<31 {
			return r.errf(n, "negotiated timeout %q is not a session timeout in milliseconds (3 to 2^31)", m[2])
		}
		return r.established(n, t, strings.ToLower(m[1]), timeout)
	case strings.Contains(msg, zkExpired):
		m := reExpired.FindStringSubmatch(msg[strings.Index(msg, zkExpired)+len(zkExpired):])
		if m == nil {
			return r.errf(n, "truncated or malformed line: %q without \"... has expired\"", strings.TrimSpace(zkExpired))
		}
		return r.expiredLine(n, t, strings.ToLower(m[1]))
	case strings.Contains(msg, zkEOF):
		m := reEOF.FindStringSubmatch(msg[strings.Index(msg, zkEOF)+len(zkEOF):])
		if m == nil {
			return r.errf(n, "truncated or malformed line: %q without a session id", zkEOF)
		}
		return r.endOfStream(n, t, strings.ToLower(m[1]))
	case strings.Contains(msg, zkOpening):
		r.opening(t)
	case strings.Contains(msg, zkSocketUp):
		r.socketUp(t)
	case strings.Contains(msg, zkRefused):
		r.refused(t)
	case strings.Contains(msg, zkInitiating):
		r.initiating(t)
	default:
		if m := reClosed.FindStringSubmatch(msg); m != nil {
			return r.closed(n, t, strings.ToLower(m[1]))
		}
	}
	return nil
}

// mixed is the error for a line naming another session than the open one.
func (r *zkReader) mixed(n int, sid string) error {
	return r.errf(n, "lines of two sessions mixed: session 0x%s here while session 0x%s (line %d) is open; fit reads one ZooKeeper client per file: split the log by process or handle",
		sid, r.session, r.sessionLine)
}

func (r *zkReader) timedOut(n int, t, idle int64, sid string, sessionWording bool) error {
	switch r.state {
	case zkConnected:
		if sid != r.session && sid != "0" {
			return r.mixed(n, sid)
		}
		r.addExposure(float64(t-r.connectedAt) / 1000)
		r.ep = &zkEpisode{line: n, session: r.session, detected: t, idle: idle, timeout: r.timeout, end: -1}
		r.state = zkDisconnected
	case zkDisconnected:
		if sid != r.session && sid != "0" {
			return r.mixed(n, sid)
		}
		// 3.9.3+: "Client session timed out" after 4T/3 of silence is the
		// client's own expiry; every other repeat ends an attempt (the
		// connect timeout) or repeats the read timeout's line.
		if sessionWording && idle >= r.timeout*4/3 && r.ep.idle < r.timeout*4/3 {
			r.ep.clientExpired, r.ep.expired, r.ep.end = true, true, t
			r.finishEpisode()
			r.state = zkIdle
			return nil
		}
		if a := r.lastAttempt(); a != nil && a.how == attemptOpen {
			a.how, a.end = attemptTimedOut, t
		}
	}
	return nil
}

func (r *zkReader) lastAttempt() *zkAttempt {
	if r.ep == nil || len(r.ep.attempts) == 0 {
		return nil
	}
	return &r.ep.attempts[len(r.ep.attempts)-1]
}

func (r *zkReader) opening(t int64) {
	if r.state == zkDisconnected {
		if a := r.lastAttempt(); a != nil && a.how == attemptOpen {
			a.how, a.end = attemptFailed, t // ended without a line of its own
		}
		r.ep.attempts = append(r.ep.attempts, zkAttempt{open: t, conn: -1, end: -1})
		return
	}
	r.open = t
}

func (r *zkReader) socketUp(t int64) {
	if r.state == zkDisconnected {
		if a := r.lastAttempt(); a != nil && a.how == attemptOpen {
			a.how, a.conn = attemptConnected, t
			r.gaps = append(r.gaps, t-a.open)
		}
		return
	}
	if r.open >= 0 {
		r.gaps = append(r.gaps, t-r.open)
		r.open = -1
	}
}

func (r *zkReader) refused(t int64) {
	if a := r.lastAttempt(); r.state == zkDisconnected && a != nil && (a.how == attemptOpen || a.how == attemptConnected) {
		a.how, a.end = attemptFailed, t
	}
}

func (r *zkReader) established(n int, t int64, sid string, timeout int64) error {
	switch r.state {
	case zkConnected:
		if sid != r.session {
			return r.mixed(n, sid)
		}
		return nil // a repeat
	case zkDisconnected:
		if sid != r.session {
			return r.mixed(n, sid)
		}
		r.ep.end = t
		r.finishEpisode()
	}
	r.state, r.session, r.sessionLine, r.timeout, r.connectedAt = zkConnected, sid, n, timeout, t
	return nil
}

func (r *zkReader) expiredLine(n int, t int64, sid string) error {
	if r.expired[sid] {
		return nil // the repeat in the exception line
	}
	if r.state != zkDisconnected || sid != r.session {
		if r.state == zkIdle {
			r.expired[sid] = true // an expiry of a session the file did not see open
			return nil
		}
		return r.mixed(n, sid)
	}
	r.expired[sid] = true
	r.ep.expired, r.ep.end = true, t
	r.finishEpisode()
	r.state = zkIdle
	return nil
}

func (r *zkReader) endOfStream(n int, t int64, sid string) error {
	switch r.state {
	case zkConnected:
		if sid != r.session && sid != "0" {
			return r.mixed(n, sid)
		}
		r.addExposure(float64(t-r.connectedAt) / 1000)
		r.ep = &zkEpisode{line: n, session: r.session, detected: t, timeout: r.timeout, end: -1, byEOF: true}
		r.state = zkDisconnected
	case zkDisconnected:
		if a := r.lastAttempt(); a != nil && (a.how == attemptOpen || a.how == attemptConnected) {
			a.how, a.end = attemptFailed, t
		}
	}
	return nil
}

func (r *zkReader) closed(n int, t int64, sid string) error {
	switch r.state {
	case zkConnected:
		if sid != r.session {
			return r.mixed(n, sid)
		}
		r.addExposure(float64(t-r.connectedAt) / 1000)
	case zkDisconnected:
		if sid != r.session {
			return r.mixed(n, sid)
		}
		r.finishEpisode() // still open: right-censored
	}
	r.state = zkIdle
	return nil
}

func (r *zkReader) initiating(t int64) {
	if r.state == zkConnected { // a new handle without a close line: the old one ends here
		r.addExposure(float64(t-r.connectedAt) / 1000)
	}
	if r.state == zkDisconnected {
		r.finishEpisode()
	}
	r.state = zkIdle
	r.open = -1
}

func (r *zkReader) finishEpisode() {
	r.episodes = append(r.episodes, r.ep)
	r.ep = nil
}

// finish turns the episodes into observations once the file's usual
// connect time (the baseline for dating a held SYN) is known.
func (r *zkReader) finish() *Data {
	switch r.state {
	case zkConnected:
		r.addExposure(float64(r.last-r.connectedAt) / 1000)
	case zkDisconnected:
		r.finishEpisode() // right-censored at the end of the file
	}
	d := &Data{Source: SourceZK, Files: []string{r.name}, Exposure: r.exposure}
	base := int64(0)
	if len(r.gaps) > 0 {
		base = r.gaps[0]
		for _, g := range r.gaps {
			base = min(base, g)
		}
	}
	var byEOF, failed, undated int
	for _, e := range r.episodes {
		switch {
		case e.byEOF:
			byEOF++
			continue
		case e.failedAttempt():
			failed++
			continue
		}
		ep, ok := r.observe(e, base)
		if !ok {
			undated++
		}
		d.Episodes = append(d.Episodes, ep)
	}
	if byEOF > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%s: %d disconnections began with the server closing the connection (end of stream), not with a read timeout: not outages the client noticed, left out", r.name, byEOF))
	}
	if failed > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%s: %d disconnections had a refused or closed connection attempt (a server down, not a network outage): left out", r.name, failed))
	}
	if undated > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%s: %d disconnections had no \"Opening socket connection\" lines: their outage end is only known to lie before the reconnection", r.name, undated))
	}
	return d
}

func (e *zkEpisode) failedAttempt() bool {
	for _, a := range e.attempts {
		if a.how == attemptFailed {
			return true
		}
	}
	return false
}

// addExposure adds connected time in seconds at the session's timeout.
func (r *zkReader) addExposure(s float64) {
	r.exposure = addExposure(r.exposure, r.opts.detect(rtOf(r.timeout), periodOf(r.timeout)), periodOf(r.timeout), s)
}

// rtOf and periodOf are the client's read timeout rt = 2T/3 and ping
// period rt/2 (Java int division, zk-semantics §1.1), in seconds.
func rtOf(timeout int64) float64     { return float64(timeout*2/3) / 1000 }
func periodOf(timeout int64) float64 { return float64(timeout*2/3/2) / 1000 }

// heldTolerance is how much longer than the file's quickest connect an
// attempt must take to count as a SYN held by the outage.
const heldTolerance = 10 // ms

// synJitter is how much later than its schedule a retransmitted SYN may
// connect (round trips, scheduling), in seconds.
const synJitter = 0.05

// observe turns one disconnection into what it shows of the outage. ok is
// false when the attempts were not logged and the interval is the widest
// one.
func (r *zkReader) observe(e *zkEpisode, base int64) (Episode, bool) {
	rt, p := rtOf(e.timeout), periodOf(e.timeout)
	th := e.detected - e.idle // the client last heard from the server
	sec := func(ms int64) float64 { return float64(ms-th) / 1000 }
	ep := Episode{File: r.name, Line: e.line, Session: "0x" + e.session, Detect: r.opts.detect(rt, p), Period: p, Expired: e.expired}
	if e.end >= 0 {
		ep.Raw = float64(e.end-e.detected) / 1000
	}
	// The latest moment the outage is known to have lasted to: the end of
	// the last attempt that timed out (its SYN was held), else the
	// detection threshold.
	known := ep.Detect
	var conn *zkAttempt
	for i := range e.attempts {
		a := &e.attempts[i]
		switch a.how {
		case attemptTimedOut:
			known = math.Max(known, sec(a.end))
		case attemptConnected:
			conn = a
		}
	}
	switch {
	case conn != nil:
		gap := conn.conn - conn.open
		hi := sec(conn.conn - base)
		if gap <= base+heldTolerance {
			// The SYN went through at once: the outage had ended before
			// the attempt started.
			hi = sec(conn.open)
		} else if r.opts.Transport == TransportTCP {
			// The SYN was retransmitted: the connection came with the
			// retransmission at offset s_j (the latest at or before the
			// connect delay, give or take synJitter), so the outage ended
			// after the one before it, s_{j-1}.
			off := float64(gap-base)/1000 + synJitter
			prev := 0.0
			for i, s := range r.opts.SYN {
				if i > 0 && s <= off {
					prev = r.opts.SYN[i-1]
				}
			}
			known = math.Max(known, sec(conn.open)+prev)
		} else {
			known = hi // ideal: the SYN completed as the outage ended
		}
		ep.Lo, ep.Hi = known, math.Max(hi, known)
	case e.end >= 0 && !e.clientExpired:
		// Reconnected, but no attempt lines: somewhere before the end.
		ep.Lo, ep.Hi = known, math.Max(sec(e.end), known)
		return clampEpisode(ep), false
	default:
		// Still out at the end of the file, or given up by the client:
		// the outage lasted past the last moment known.
		ep.Lo, ep.Hi = known, math.Inf(1)
	}
	return clampEpisode(ep), true
}

// clampEpisode keeps an observation inside (Detect, ∞): a reconnection
// dated a millisecond early by the log's resolution still means X > Detect.
func clampEpisode(e Episode) Episode {
	const ms = 0.001
	if e.Lo <= e.Detect {
		if e.Exact() {
			e.Lo, e.Hi = e.Detect+ms, e.Detect+ms
		} else {
			e.Lo = e.Detect
		}
	}
	if e.Hi < e.Lo+ms && !e.Exact() {
		e.Hi = e.Lo + ms
	}
	return e
}

// fmtMs formats epoch milliseconds as a log timestamp.
func fmtMs(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
}
