package zklog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"hbsim/clock"
	"hbsim/model"
)

// Wording is the ZooKeeper version whose log messages are written.
type Wording uint8

// Wordings.
const (
	// V34: 3.4.x ("sessionid", the catch block's INFO lines with ", closing
	// socket connection and attempting reconnect").
	V34 Wording = iota
	// V38: 3.5 to 3.9.2 (WARN lines with the exception on the next lines).
	V38
	// V39: 3.9.3 and later ("Client connection timed out" for the read and
	// connect timeouts, "Client session timed out" for the client's own
	// expiry after 4T/3).
	V39
)

// WordingFor is the wording of a model client version: 3.3's loop logs
// like 3.4 does.
func WordingFor(v model.Version) Wording {
	switch v {
	case model.V33:
		return V34
	case model.V39:
		return V39
	}
	return V38
}

// Epoch is the wall-clock time of virtual time zero.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one log.
type File struct {
	Name string // "client-0.log", "client-0.gc.log", "server-0.log"
	Data []byte
}

// Writer collects the logs of one run.
type Writer struct {
	wording   Wording
	requested time.Duration // the session timeout the clients ask for
	clients   map[string]*clientLog
	servers   map[string]*strings.Builder
	conns     map[string]int   // the latest connection serial, by client ("client-3") and by "server-conn:3"
	timeouts  map[string]int64 // negotiated timeout by session ("0x1"), ms
}

var _ model.Tracer = (*Writer)(nil)

type clientLog struct {
	b       strings.Builder
	server  int
	session string // hex without 0x; "0" before the first
	live    bool   // a session is open (established and neither expired nor closed)
	crashed bool
	hosts   string
	pauses  []pause
}

type pause struct{ start, length time.Duration }

// New returns a Writer in wording w for clients that request timeout.
func New(w Wording, timeout time.Duration) *Writer {
	return &Writer{wording: w, requested: timeout, clients: map[string]*clientLog{},
		servers: map[string]*strings.Builder{}, conns: map[string]int{}, timeouts: map[string]int64{}}
}

// stamp is the log4j/logback ISO 8601 timestamp of virtual time t.
func (w *Writer) stamp(t clock.Time) string {
	ms := time.Duration(t) / time.Millisecond * time.Millisecond
	s := Epoch.Add(ms).Format("2006-01-02 15:04:05.000")
	s = s[:19] + "," + s[20:]
	if w.wording != V34 { // logback's ISO8601 has the T
		s = s[:10] + "T" + s[11:]
	}
	return s
}

// line writes one log4j line: "%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n".
func (w *Writer) line(b *strings.Builder, t clock.Time, myid, level, thread, class string, msg string) {
	fmt.Fprintf(b, "%s [myid:%s] - %-5s [%s:%s] - %s\n", w.stamp(t), myid, level, thread, class, msg)
}

func serverAddr(s int) string { return fmt.Sprintf("zk-%d/10.0.0.%d:2181", s, s+1) }
func serverHost(s int) string { return fmt.Sprintf("zk-%d:2181", s) }

func clientAddr(client string, conn int) string {
	i, _ := strconv.Atoi(strings.TrimPrefix(client, "client-"))
	return fmt.Sprintf("/10.1.%d.%d:%d", i/250, i%250+1, 40000+conn%20000)
}

// field returns the value of key=value in a trace detail.
func field(detail, key string) string {
	for f := range strings.FieldsSeq(detail) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

// millis parses a trace duration ("6.666s") as whole milliseconds.
func millis(s string) int64 {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	if err != nil {
		return 0
	}
	return int64(v*1000 + 0.5)
}

// Trace implements model.Tracer.
func (w *Writer) Trace(at clock.Time, actor, event, detail string) {
	switch {
	case strings.HasPrefix(actor, "client-"):
		w.client(at, actor, event, detail)
	case strings.HasPrefix(actor, "server-"):
		w.server(at, actor, event, detail)
	}
}

func (w *Writer) clientOf(actor string) *clientLog {
	c, ok := w.clients[actor]
	if !ok {
		c = &clientLog{session: "0"}
		w.clients[actor] = c
	}
	return c
}

// The client's threads and classes (%t:%C{1}@%L, line numbers of 3.8.0).
const (
	thMain      = "main"
	thEvent     = "main-EventThread"
	clsZK       = "ZooKeeper@637"
	clsZKClose  = "ZooKeeper@1232"
	clsSend     = "ClientCnxn$SendThread@1171"
	clsPrime    = "ClientCnxn$SendThread@1013"
	clsComplete = "ClientCnxn$SendThread@1453"
	clsTimeout  = "ClientCnxn$SendThread@1256"
	clsCatch    = "ClientCnxn$SendThread@1300"
	clsExpired  = "ClientCnxn$SendThread@1427"
	clsEvent    = "ClientCnxn$EventThread@569"
)

func (w *Writer) client(at clock.Time, actor, event, detail string) {
	c := w.clientOf(actor)
	if c.crashed {
		return
	}
	if event == "pause-start" {
		if d, err := strconv.ParseFloat(strings.TrimSuffix(field(detail, "duration"), "s"), 64); err == nil {
			c.pauses = append(c.pauses, pause{start: time.Duration(at), length: time.Duration(d*1e9 + 0.5)})
		}
		return
	}
	b := &c.b
	send := "main-SendThread(" + serverHost(c.server) + ")"
	myid := ""
	if w.wording != V34 {
		myid = serverHost(c.server)
	}
	sid := "0x" + c.session
	sessKey := "session id"
	if w.wording == V34 {
		sessKey = "sessionid"
	}
	switch event {
	case "client-started", "session-renewed":
		hosts := field(detail, "hosts")
		if hosts != "" {
			c.hosts = hosts
		}
		var hs []string
		for h := range strings.SplitSeq(c.hosts, ",") {
			hs = append(hs, serverHost(atoi(h)))
		}
		w.line(b, at, "", "INFO", thMain, clsZK, fmt.Sprintf("Initiating client connection, connectString=%s sessionTimeout=%d watcher=hbsim.Watcher@1",
			strings.Join(hs, ","), w.requested.Milliseconds()))
		c.session, c.live = "0", false
	case "connect-attempt":
		c.server = atoi(field(detail, "server"))
		w.conns[actor] = atoi(field(detail, "conn"))
		send = "main-SendThread(" + serverHost(c.server) + ")"
		if w.wording != V34 {
			myid = serverHost(c.server)
		}
		msg := "Opening socket connection to server " + serverAddr(c.server) + "."
		if w.wording == V34 {
			msg += " Will not attempt to authenticate using SASL (unknown error)"
		}
		w.line(b, at, myid, "INFO", send, clsSend, msg)
	case "tcp-connected":
		msg := fmt.Sprintf("Socket connection established, initiating session, client: %s, server: %s", clientAddr(actor, w.conns[actor]), serverAddr(c.server))
		if w.wording == V34 {
			msg = "Socket connection established to " + serverAddr(c.server) + ", initiating session"
		}
		w.line(b, at, myid, "INFO", send, clsPrime, msg)
	case "state":
		if strings.HasPrefix(detail, "SyncConnected") {
			c.session = strings.TrimPrefix(field(detail, "session"), "0x")
			c.live = true
			key := "session id"
			if w.wording == V34 {
				key = "sessionid"
			}
			w.line(b, at, myid, "INFO", send, clsComplete, fmt.Sprintf("Session establishment complete on server %s, %s = 0x%s, negotiated timeout = %d",
				serverAddr(atoi(field(detail, "server"))), key, c.session, millis(field(detail, "timeout"))))
		}
	case "read-timeout", "connect-timeout":
		idle := millis(field(detail, "idle"))
		msg := fmt.Sprintf("Client session timed out, have not heard from server in %dms for %s %s", idle, sessKey, sid)
		switch w.wording {
		case V34:
			w.line(b, at, myid, "INFO", send, clsCatch, msg+", closing socket connection and attempting reconnect")
		case V38:
			w.line(b, at, myid, "WARN", send, clsTimeout, msg)
			w.catchBlock(b, at, c, myid, send, "org.apache.zookeeper.ClientCnxn$SessionTimeoutException: "+msg)
		case V39:
			msg = strings.Replace(msg, "Client session timed out", "Client connection timed out", 1)
			w.catchBlock(b, at, c, myid, send, "org.apache.zookeeper.ClientCnxn$ConnectionTimeoutException: "+msg)
		}
	case "client-session-timeout":
		msg := fmt.Sprintf("Client session timed out, have not heard from server in %dms for session id %s", millis(field(detail, "idle")), sid)
		w.line(b, at, myid, "WARN", send, clsTimeout, msg)
		w.catchBlock(b, at, c, myid, send, "org.apache.zookeeper.ClientCnxn$SessionTimeoutException: "+msg)
		c.live = false
	case "end-of-stream":
		msg := fmt.Sprintf("Unable to read additional data from server sessionid %s, likely server has closed socket", sid)
		if w.wording == V34 {
			w.line(b, at, myid, "INFO", send, clsCatch, msg+", closing socket connection and attempting reconnect")
		} else {
			w.catchBlock(b, at, c, myid, send, "org.apache.zookeeper.ClientCnxn$EndOfStreamException: "+msg)
		}
	case "connect-refused":
		if w.wording == V34 {
			w.line(b, at, myid, "WARN", send, clsCatch, "Session "+sid+" for server null, unexpected error, closing socket connection and attempting reconnect")
			b.WriteString("java.net.ConnectException: Connection refused\n\tat sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)\n")
		} else {
			w.catchBlock(b, at, c, myid, send, "java.net.ConnectException: Connection refused")
		}
	case "session-expired-at-server":
		msg := "Unable to reconnect to ZooKeeper service, session " + sid + " has expired"
		w.line(b, at, myid, "WARN", send, clsExpired, msg)
		if w.wording == V34 {
			w.line(b, at, myid, "INFO", send, clsCatch, msg+", closing socket connection")
		} else {
			w.catchBlock(b, at, c, myid, send, "org.apache.zookeeper.ClientCnxn$SessionExpiredException: "+msg)
		}
		w.line(b, at, "", "INFO", thEvent, clsEvent, "EventThread shut down for session: "+sid)
		c.live = false
	case "client-crashed", "probe-crash":
		c.crashed = true
	}
}

// catchBlock is the WARN line of SendThread's catch block (3.5+) followed by
// the exception and one stack frame.
func (w *Writer) catchBlock(b *strings.Builder, at clock.Time, c *clientLog, myid, thread, exception string) {
	w.line(b, at, myid, "WARN", thread, clsCatch, fmt.Sprintf("Session 0x%s for server %s, Closing socket connection. Attempting reconnect except it is a SessionExpiredException.",
		c.session, serverAddr(c.server)))
	b.WriteString(exception + "\n\tat org.apache.zookeeper.ClientCnxn$SendThread.run(ClientCnxn.java:1258)\n")
}

func (w *Writer) server(at clock.Time, actor, event, detail string) {
	b, ok := w.servers[actor]
	if !ok {
		b = &strings.Builder{}
		w.servers[actor] = b
	}
	myid := strings.TrimPrefix(actor, "server-")
	switch event {
	case "connect-request":
		w.conns["server-conn:"+field(detail, "client")] = atoi(field(detail, "conn"))
	case "session-created", "session-revalidated":
		client := field(detail, "client")
		if client == "" { // revalidation names the connection, not the client
			client = w.clientOfConn(atoi(field(detail, "conn")))
		}
		sess := field(detail, "session")
		timeout := millis(field(detail, "timeout"))
		if timeout > 0 {
			w.timeouts[sess] = timeout
		} else {
			timeout = w.timeouts[sess]
		}
		w.line(b, at, myid, "INFO", "SyncThread:"+myid, "ZooKeeperServer@1022", fmt.Sprintf("Established session %s with negotiated timeout %d for client %s",
			sess, timeout, clientAddr("client-"+client, w.conns["server-conn:"+client])))
	case "session-rejected":
		client := w.clientOfConn(atoi(field(detail, "conn")))
		w.line(b, at, myid, "INFO", "NIOWorkerThread-1", "ZooKeeperServer@1077", fmt.Sprintf("Invalid session %s for client %s, probably expired",
			field(detail, "session"), clientAddr("client-"+client, atoi(field(detail, "conn")))))
	case "session-expired":
		w.line(b, at, myid, "INFO", "SessionTracker", "ZooKeeperServer@630", fmt.Sprintf("Expiring session %s, timeout of %dms exceeded",
			field(detail, "session"), millis(field(detail, "timeout"))))
	case "server-restarted":
		w.line(b, at, myid, "INFO", "main", "ZooKeeperServerMain@152", "Starting server")
	}
}

// clientOfConn finds the client index whose latest connection is conn.
func (w *Writer) clientOfConn(conn int) string {
	keys := make([]string, 0, len(w.conns))
	for k := range w.conns {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if c, ok := strings.CutPrefix(k, "server-conn:"); ok && w.conns[k] == conn {
			return c
		}
	}
	return "0"
}

// Close ends the run at virtual time at: every client whose handle is
// still open closes it, as an application does on shutdown (the line that
// tells a reader how long the client was observed).
func (w *Writer) Close(at clock.Time) {
	for _, name := range sortedKeys(w.clients) {
		c := w.clients[name]
		if c.crashed || !c.live {
			continue
		}
		w.line(&c.b, at, "", "INFO", thMain, clsZKClose, "Session: 0x"+c.session+" closed")
		w.line(&c.b, at, "", "INFO", thEvent, clsEvent, "EventThread shut down for session: 0x"+c.session)
		c.live = false
	}
}

// Files returns the logs, sorted by name: client-N.log, client-N.gc.log
// (clients that paused) and server-N.log.
func (w *Writer) Files() []File {
	var out []File
	for _, name := range sortedKeys(w.clients) {
		c := w.clients[name]
		if c.b.Len() > 0 {
			out = append(out, File{Name: name + ".log", Data: []byte(c.b.String())})
		}
		if len(c.pauses) > 0 {
			out = append(out, File{Name: name + ".gc.log", Data: gcLog(c.pauses)})
		}
	}
	for _, name := range sortedKeys(w.servers) {
		if b := w.servers[name]; b.Len() > 0 {
			out = append(out, File{Name: name + ".log", Data: []byte(b.String())})
		}
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// gcLog writes pauses as JDK unified-logging lines, each at the end of its
// pause (when the JVM logs it), in time order, the uptime counted from the
// start of the run.
func gcLog(ps []pause) []byte {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b pause) int {
		ea, eb := a.start+a.length, b.start+b.length
		switch {
		case ea < eb:
			return -1
		case ea > eb:
			return 1
		}
		return 0
	})
	var b strings.Builder
	for i, p := range ps {
		end := p.start + p.length
		fmt.Fprintf(&b, "[%.3fs][info][gc] GC(%d) Pause Full (System.gc()) 120M->80M(256M) %.3fms\n",
			end.Seconds(), i, float64(p.length)/float64(time.Millisecond))
	}
	return []byte(b.String())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		// client-2 before client-10
		na, nb := numSuffix(a), numSuffix(b)
		if na != nb {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	return keys
}

func numSuffix(s string) int {
	i := strings.LastIndexByte(s, '-')
	return atoi(s[i+1:])
}
