package fit

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// A 3.8 log: a short outage (censored before the first attempt), a long
// one whose SYN was held (dated by the connection), a connect timeout, an
// expiry and a new session, and the close that ends the exposure.
func TestReadZK38(t *testing.T) {
	t.Parallel()
	data := readTestdata(t, "zk38.log")
	ideal, err := ReadZK("zk38.log", data, Options{Transport: TransportIdeal})
	require.NoError(t, err)
	require.Len(t, ideal.Episodes, 3)
	want := []Episode{
		{Line: 5, Session: "0x100a", Lo: 6.666, Hi: 8.166, Raw: 1.504},
		{Line: 12, Session: "0x100a", Lo: 11.914, Hi: 11.914, Raw: 5.252, Expired: true},
		{Line: 24, Session: "0x100b", Lo: 17.866, Hi: 19.466, Raw: 12.804},
	}
	for i, w := range want {
		got := ideal.Episodes[i]
		assert.Equal(t, w.Line, got.Line, "episode %d", i)
		assert.Equal(t, w.Session, got.Session, "episode %d", i)
		assert.InDelta(t, 6.666, got.Detect, 1e-9)
		assert.InDelta(t, 3.333, got.Period, 1e-9)
		assert.InDelta(t, w.Lo, got.Lo, 1e-9, "episode %d", i)
		assert.InDelta(t, w.Hi, got.Hi, 1e-9, "episode %d", i)
		assert.InDelta(t, w.Raw, got.Raw, 1e-9, "episode %d", i)
		assert.Equal(t, w.Expired, got.Expired, "episode %d", i)
	}
	require.Len(t, ideal.Exposure, 1)
	assert.InDelta(t, 599.986+598.496+594.741+1787.196, ideal.Exposure[0].Seconds, 1e-9)

	// Over TCP the SYN held at +1.9 s connected 3.35 s later, carried by
	// the retransmission at +3 s: the outage ended after the one at +1 s.
	tcp, err := ReadZK("zk38.log", data, Options{Transport: TransportTCP, SYN: SYNClassic})
	require.NoError(t, err)
	assert.InDelta(t, 1.9+1+6.666, tcp.Episodes[1].Lo, 1e-9)
	assert.InDelta(t, 11.914, tcp.Episodes[1].Hi, 1e-9)
}

// 3.4 wording: "sessionid", the catch block's INFO line, no close line.
func TestReadZK34(t *testing.T) {
	t.Parallel()
	data := readTestdata(t, "zk34.log")
	d, err := ReadZK("zk34.log", data, Options{Transport: TransportTCP})
	require.NoError(t, err)
	require.Len(t, d.Episodes, 1)
	e := d.Episodes[0]
	// rt = 20 s, p = 10 s: the ping lost at +10 s is resent at +10.2,
	// 10.4, ..., 16.4, 22.8 s (tail loss probe, RTO 0.2 s): an outage
	// ending after 16.4 s is heard of too late.
	assert.InDelta(t, 16.4, e.Detect, 1e-9)
	assert.InDelta(t, 10.0, e.Period, 1e-9)
	// The SYN went out at +1.7 s and connected 3.001 s later: carried by
	// the retransmission at +3 s, so the outage ended after the one at +1 s.
	assert.InDelta(t, 1.7+1+20.001, e.Lo, 1e-9)
	assert.InDelta(t, 24.701, e.Hi, 1e-9)
	assert.InDelta(t, 4.71, e.Raw, 1e-9)
	require.Len(t, d.Exposure, 1)
	assert.InDelta(t, 3599.88, d.Exposure[0].Seconds, 1e-9)
}

// 3.9.3+ wording: the read timeout is "Client connection timed out" (in
// the exception line), and "Client session timed out" after 4T/3 is the
// client's own expiry: the outage outlasted the log's knowledge.
func TestReadZK39(t *testing.T) {
	t.Parallel()
	log := strings.Join([]string{
		"2025-01-01T00:00:00,000 [myid:zk1:2181] - INFO  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1453] - Session establishment complete on server zk1/10.0.0.1:2181, session id = 0x7, negotiated timeout = 9000",
		"2025-01-01T00:05:00,000 [myid:zk1:2181] - WARN  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1300] - Session 0x7 for server zk1/10.0.0.1:2181, Closing socket connection. Attempting reconnect except it is a SessionExpiredException.",
		"org.apache.zookeeper.ClientCnxn$ConnectionTimeoutException: Client connection timed out, have not heard from server in 6000ms for session id 0x7",
		"2025-01-01T00:05:01,500 [myid:zk1:2181] - INFO  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1171] - Opening socket connection to server zk1/10.0.0.1:2181.",
		"2025-01-01T00:05:04,500 [myid:zk1:2181] - WARN  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1241] - Client connection timed out, have not heard from server in 9000ms for session id 0x7",
		"2025-01-01T00:05:06,000 [myid:zk1:2181] - WARN  [main-SendThread(zk1:2181):ClientCnxn$SendThread@1236] - Client session timed out, have not heard from server in 12000ms for session id 0x7",
		"",
	}, "\n")
	d, err := ReadZK("zk39.log", []byte(log), Options{Transport: TransportIdeal})
	require.NoError(t, err)
	require.Len(t, d.Episodes, 1)
	e := d.Episodes[0]
	assert.True(t, e.Expired)
	assert.InDelta(t, 6.0, e.Detect, 1e-9)
	assert.InDelta(t, 4.5+6.0, e.Lo, 1e-9, "the connect timeout at +4.5 s: the outage lasted at least that")
	assert.True(t, math.IsInf(e.Hi, 1), "right-censored")
}

func TestReadGC(t *testing.T) {
	t.Parallel()
	d, err := ReadGC("gc-unified.log", readTestdata(t, "gc-unified.log"))
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{0.003456, 0.0012, 0.12}, d.Durations, 1e-12)
	require.Len(t, d.Arrivals, 1)
	assert.Equal(t, 3, d.Arrivals[0].Count)
	assert.InDelta(t, 5.5-1.254, d.Arrivals[0].Span, 1e-9)

	d, err = ReadGC("gc-jdk8.log", readTestdata(t, "gc-jdk8.log"))
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{0.01, 0.013, 0.2}, d.Durations, 1e-12)
	assert.InDelta(t, 5.0, d.Arrivals[0].Span, 1e-9)
}

func TestReadCSVStartTimes(t *testing.T) {
	t.Parallel()
	d, err := ReadCSV("o.csv", []byte("seconds,start\n2.5,2024-05-01T12:00:00Z\n3s,2024-05-01T12:10:00.5Z\n1,2024-05-01 12:20:00\n"))
	require.NoError(t, err)
	assert.Equal(t, []float64{2.5, 3, 1}, d.Durations)
	require.Len(t, d.Arrivals, 1)
	assert.Equal(t, 3, d.Arrivals[0].Count)
	assert.InDelta(t, 1200.0, d.Arrivals[0].Span, 1e-9)

	d, err = ReadCSV("o.csv", []byte("1\n2\n"))
	require.NoError(t, err)
	assert.Empty(t, d.Arrivals, "no start times, no rate")

	_, err = ReadCSV("o.csv", []byte("1,100\n2\n"))
	assert.EqualError(t, err, "o.csv:2: no start time in the second column, although other lines have one")
	_, err = ReadCSV("o.csv", []byte("1,yesterday\n"))
	assert.ErrorContains(t, err, `o.csv:1: second column "yesterday": not a start time`)
}

// Bad input names the file and the line, never panics, and reads nothing.
func TestReadErrors(t *testing.T) {
	t.Parallel()
	zk := string(readTestdata(t, "zk38.log"))
	lines := strings.Split(zk, "\n")
	tests := []struct {
		name, data, want string
		f                Format
	}{
		{"truncated timestamp", strings.Join(lines[:4], "\n") + "\n2024-03-01 10:0", "z.log:5: truncated timestamp", FormatAuto},
		{"malformed timestamp", strings.Join(lines[:4], "\n") + "\n2024-03-01 10:00:0x,000 x", "z.log:5: malformed timestamp", FormatAuto},
		{"truncated timed-out line", strings.Join(lines[:4], "\n") + "\n2024-03-01 10:10:00,000 [myid:] - WARN  [x] - Client session timed out, have not heard from server in 66",
			`z.log:5: truncated or malformed line: "Client session timed out, have not heard from server in" without`, FormatAuto},
		{"truncated establishment", "2024-03-01 10:00:00,014 [myid:] - INFO  [x] - Session establishment complete on server zk1/10.0.0.1:2181, session id = 0x1",
			"z.log:1: truncated or malformed line", FormatAuto},
		{"mixed sessions", strings.Join(lines[:4], "\n") + "\n" + strings.ReplaceAll(lines[3], "0x100a", "0x200b"),
			"z.log:5: lines of two sessions mixed: session 0x200b here while session 0x100a (line 4) is open", FormatAuto},
		{"mixed sessions in a timeout", strings.Join(lines[:4], "\n") + "\n" + strings.ReplaceAll(lines[4], "0x100a", "0x200b"),
			"z.log:5: lines of two sessions mixed", FormatAuto},
		{"time goes back", strings.Join(lines[:5], "\n") + "\n" + strings.Replace(lines[8], "10:10:01", "09:10:01", 1),
			"z.log:6: time goes back", FormatAuto},
		{"a server log", "2024-03-01 10:00:00,000 [myid:1] - INFO  [SessionTracker:ZooKeeperServer@630] - Expiring session 0x1, timeout of 10000ms exceeded\n",
			"z.log:1: a ZooKeeper server log", FormatAuto},
		{"another log format", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\n",
			"z.log:1: not a ZooKeeper client log, a JVM GC log or a CSV of durations", FormatAuto},
		{"no matching lines, as zk", "2024-03-01 10:00:00,000 INFO app started\n", "z.log: no line in ZooKeeper client wording", FormatZK},
		{"no matching lines, as gc", "[0.005s][info][gc] Using G1\n", "z.log: no GC pause line", FormatGC},
		{"truncated GC line", "[1.254s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.4",
			"z.log:1: truncated or malformed GC line", FormatAuto},
		{"truncated safepoint line", "1.000: Total time for which application threads were stopped: 0.01",
			"z.log:1: truncated or malformed line", FormatAuto},
		{"empty", "", "z.log: no values", FormatCSV},
		{"empty, detected", "\n\n", "z.log: empty", FormatAuto},
		{"header only", "# comment\nMar 14 10:00:00 host sshd[12]: Accepted\n", "z.log:2: not a ZooKeeper client log, a JVM GC log or a CSV of durations", FormatAuto},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := Read("z.log", []byte(tc.data), tc.f, Options{})
			require.Error(t, err)
			assert.Nil(t, d)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	assert.Equal(t, FormatZK, Detect(readTestdata(t, "zk38.log")))
	assert.Equal(t, FormatGC, Detect(readTestdata(t, "gc-unified.log")))
	assert.Equal(t, FormatGC, Detect(readTestdata(t, "gc-jdk8.log")))
	assert.Equal(t, FormatCSV, Detect([]byte("seconds\n1.5\n")))
}

func TestMergeRefusesMixedSources(t *testing.T) {
	t.Parallel()
	a, err := Read("a.log", readTestdata(t, "zk38.log"), FormatAuto, Options{})
	require.NoError(t, err)
	b, err := Read("b.csv", []byte("1\n2\n"), FormatAuto, Options{})
	require.NoError(t, err)
	_, err = Merge([]*Data{a, b})
	assert.EqualError(t, err, "fit: b.csv is a CSV of durations but a.log is a ZooKeeper client log: fit one kind of input at a time")
}

// The detection threshold over TCP is the last retransmission of the
// lost ping before the read timeout (zk-semantics §1.6).
func TestDetectTCP(t *testing.T) {
	t.Parallel()
	assert.InDeltaSlice(t, []float64{0.2, 0.4, 0.8, 1.6, 3.2}, Retransmits(0.2, true)[:5], 1e-12)
	assert.InDeltaSlice(t, []float64{0.2, 0.6, 1.4, 3.0, 6.2}, Retransmits(0.2, false)[:5], 1e-12)
	assert.InDelta(t, 3.333+3.2, DetectTCP(6.666, 3.333, Retransmits(0.2, true)), 1e-12)
	assert.InDelta(t, 3.333+3.0, DetectTCP(6.666, 3.333, Retransmits(0.2, false)), 1e-12)
	assert.InDelta(t, 10+6.4, DetectTCP(20, 10, Retransmits(0.2, true)), 1e-12)
	assert.InDelta(t, 0.5, DetectTCP(0.6, 0.5, Retransmits(0.2, true)), 1e-12, "no retransmission before rt: every outage past the ping")
	ideal := Options{Transport: TransportIdeal}
	assert.Equal(t, 6.666, ideal.detect(6.666, 3.333))
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	d, err := ParseDuration("1.5d")
	require.NoError(t, err)
	assert.Equal(t, "36h0m0s", d.String())
	_, err = ParseDuration("3")
	assert.ErrorIs(t, err, ErrMissingUnit)
}
