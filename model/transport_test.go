package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// The SYN schedules of zk-semantics §1.6: when each retransmission leaves
// after the first SYN, and when the kernel gives up (the entry after the
// last retransmission).
func TestSYNOffsets(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name string
		net  NetworkConfig
		want []time.Duration // retransmissions, then the give-up
	}{
		{"classic", NetworkConfig{SYN: SYNClassic}, []time.Duration{1 * s, 3 * s, 7 * s, 15 * s, 31 * s, 63 * s, 127 * s}},
		{"linear", NetworkConfig{SYN: SYNLinear}, []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s, 11 * s, 19 * s, 35 * s, 67 * s, 131 * s}},
		{"linear-1", NetworkConfig{SYN: SYNLinear, SYNLinearTimeouts: 1}, []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s}},
		{"classic-retries-2", NetworkConfig{SYN: SYNClassic, SYNRetries: 2}, []time.Duration{1 * s, 3 * s, 7 * s}},
		{"linear-retries-1", NetworkConfig{SYN: SYNLinear, SYNRetries: 1, SYNLinearTimeouts: 2}, []time.Duration{1 * s, 2 * s, 3 * s, 5 * s}},
		{"classic-rto-max-10s", NetworkConfig{SYN: SYNClassic, RTOMax: 10 * s}, []time.Duration{1 * s, 3 * s, 7 * s, 15 * s, 25 * s, 35 * s, 45 * s}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := Config{Network: tc.net}.Defaults().Network
			require.Equal(t, len(tc.want)-1, n.synBudget())
			var got []time.Duration
			for i := 1; i <= n.synBudget()+1; i++ {
				got = append(got, n.synOffset(i))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// lan is the LAN latency of the scenarios and the tests below: one way
// 0.1 ms, so SRTT is 0.2 ms and a data RTO SRTT + rto_min = 200.2 ms.
const lanDelay = 100 * time.Microsecond

var lan = Fixed(lanDelay)

// blackHole is a config in which client 0 loses its only server from 40 s
// for the rest of the run: every connect attempt is black-holed.
func blackHole(timeout time.Duration, syn SYNSchedule) Config {
	return Config{
		Seed: 1, Horizon: 5 * time.Minute, Clients: 1, Servers: 1,
		Server:  ServerConfig{MaxSessionTimeout: 10 * time.Minute},
		Client:  ClientConfig{SessionTimeout: timeout},
		Network: NetworkConfig{Latency: &lan, SYN: syn},
		Faults: []Fault{{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: Both},
			Arrival: Scripted, At: []time.Duration{40 * time.Second}, Duration: Fixed(long)}},
	}
}

// synSends returns, per connection serial, the SYN retransmissions'
// offsets from the connect attempt, read from the trace, and when the
// attempt ended (connect timeout or SYN timeout) as an offset too.
func synSends(t *testing.T, c *capture) (attempts []string, sends map[string][]time.Duration, ends map[string]rec) {
	t.Helper()
	started := map[string]clock.Time{}
	sends, ends = map[string][]time.Duration{}, map[string]rec{}
	current := ""
	for _, r := range c.recs {
		if r.actor != "client-0" {
			continue
		}
		switch r.event {
		case "connect-attempt":
			current = r.field("conn")
			attempts = append(attempts, current)
			started[current] = r.at
		case "syn-sent":
			conn := r.field("conn")
			require.Equal(t, strconv.Itoa(len(sends[conn])+1), r.field("retry"), "conn %s", conn)
			sends[conn] = append(sends[conn], r.at.Sub(started[conn]))
		case "connect-timeout", "syn-timed-out":
			if _, done := ends[current]; !done {
				ends[current] = rec{at: clock.Time(r.at.Sub(started[current])), event: r.event}
			}
		}
	}
	return attempts, sends, ends
}

// During a long outage every connect attempt of a 30 s session (ct = 30 s)
// sends the schedule's SYNs up to ct, read from the trace: the linear one is
// still sending at +19 s; the classic one stops after +15 s.
func TestSYNScheduleInTrace(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		timeout time.Duration
		syn     SYNSchedule
		want    []time.Duration
	}{
		{"T=30s/linear", 30 * s, SYNLinear, []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s, 11 * s, 19 * s}},
		{"T=30s/classic", 30 * s, SYNClassic, []time.Duration{1 * s, 3 * s, 7 * s, 15 * s}},
		{"T=10s/linear", 10 * s, SYNLinear, []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s}},
		{"T=10s/classic", 10 * s, SYNClassic, []time.Duration{1 * s, 3 * s, 7 * s}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := runCaptured(t, blackHole(tc.timeout, tc.syn))
			attempts, sends, ends := synSends(t, c)
			require.Greater(t, len(attempts), 3, "attempts during the outage")
			for _, conn := range attempts[1 : len(attempts)-1] { // the first connected; the last may be cut by the horizon
				assert.Equal(t, tc.want, sends[conn], "conn %s", conn)
				end := ends[conn]
				assert.Equal(t, "connect-timeout", end.event, "conn %s", conn)
				assert.InDelta(t, tc.timeout.Seconds(), time.Duration(end.at).Seconds(), 0.0015, "conn %s abandoned at ct", conn)
			}
		})
	}
}

// The SYN retry budget: tcp_syn_retries retransmissions for classic,
// tcp_syn_retries + tcp_syn_linear_timeouts for linear; one RTO after the
// last one connect fails with ETIMEDOUT, and the client moves on before ct.
func TestSYNBudgetInTrace(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		timeout time.Duration
		net     NetworkConfig
		want    []time.Duration
		giveUp  time.Duration
	}{
		// ct = 180 s: the default budgets end before it.
		{"classic", 180 * s, NetworkConfig{SYN: SYNClassic}, []time.Duration{1 * s, 3 * s, 7 * s, 15 * s, 31 * s, 63 * s}, 127 * s},
		{"linear", 180 * s, NetworkConfig{SYN: SYNLinear}, []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s, 11 * s, 19 * s, 35 * s, 67 * s}, 131 * s},
		// tcp_syn_retries = 2 fails a connect after 7 s, well inside ct = 30 s.
		{"classic-retries-2", 30 * s, NetworkConfig{SYN: SYNClassic, SYNRetries: 2}, []time.Duration{1 * s, 3 * s}, 7 * s},
		{"linear-retries-2", 30 * s, NetworkConfig{SYN: SYNLinear, SYNRetries: 2}, []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s}, 11 * s},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := blackHole(tc.timeout, tc.net.SYN)
			cfg.Horizon = 15 * time.Minute
			cfg.Network.SYNRetries = tc.net.SYNRetries
			c, _ := runCaptured(t, cfg)
			attempts, sends, ends := synSends(t, c)
			require.Greater(t, len(attempts), 2, "attempts during the outage")
			for _, conn := range attempts[1 : len(attempts)-1] {
				assert.Equal(t, tc.want, sends[conn], "conn %s", conn)
				assert.Equal(t, rec{at: clock.Time(tc.giveUp), event: "syn-timed-out"}, ends[conn], "conn %s", conn)
			}
		})
	}
}

// dataRetransmits returns the offsets of conn 1's client-to-server
// retransmissions from the lost ping, with their words and tries.
func dataRetransmits(t *testing.T, c *capture) (lost clock.Time, offs []time.Duration, words, tries []string) {
	t.Helper()
	lost = -1
	for _, r := range c.recs {
		if r.actor != "network" || r.field("conn") != "1" || !slices.Contains(strings.Fields(r.detail), "client-to-server") {
			continue
		}
		switch r.event {
		case "packet-lost":
			if lost < 0 {
				lost = r.at.Add(-lanDelay) // sent one latency earlier
			}
		case "retransmit", "orphan-retransmit":
			offs = append(offs, r.at.Sub(lost))
			words = append(words, r.event)
			tries = append(tries, r.field("try"))
		}
	}
	require.GreaterOrEqual(t, int64(lost), int64(0), "a ping was lost")
	return lost, offs, words, tries
}

// A lost ping is retransmitted on Linux's schedule, read from the trace
// (zk-semantics §1.6): with the tail loss probe at +r, +2r, +4r, ... (the
// probe, then one RTO later without backoff, then doubling); without it at
// +r, +3r, +7r, ... (plain doubling). r = SRTT + rto_min = 200.2 ms on this
// LAN. The client closes the socket at its read timeout, after which the
// same schedule goes on as orphan retransmissions until the orphan's eight
// RTO retransmissions are spent (the probe is not one of them).
func TestDataRetransmitSchedule(t *testing.T) {
	r := 200*time.Millisecond + 2*lanDelay
	tests := []struct {
		name  string
		tlp   bool
		mults []int64 // offsets in units of r
		tries []string
	}{
		{"tail-loss-probe", true, []int64{1, 2, 4, 8, 16, 32, 64, 128, 256}, []string{"probe", "1", "2", "3", "4", "5", "6", "7", "8"}},
		{"plain-doubling", false, []int64{1, 3, 7, 15, 31, 63, 127, 255}, []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := blackHole(10*time.Second, SYNClassic)
			cfg.Network.NoTailLossProbe = !tc.tlp
			c, _ := runCaptured(t, cfg)
			lost, offs, words, tries := dataRetransmits(t, c)
			want := make([]time.Duration, len(tc.mults))
			for i, m := range tc.mults {
				want[i] = time.Duration(m) * r
			}
			assert.Equal(t, want, offs)
			assert.Equal(t, tc.tries, tries)
			// Retransmissions while the client's socket is open, then orphan
			// ones after its read timeout closed it.
			timeout := c.filter("client-0", "read-timeout")
			require.NotEmpty(t, timeout)
			closed := timeout[0].at.Sub(lost)
			for i, off := range offs {
				wantWord := "retransmit"
				if off > closed {
					wantWord = "orphan-retransmit"
				}
				assert.Equal(t, wantWord, words[i], "retransmission %d at +%v (socket closed at +%v)", i, off, closed)
			}
			assert.Contains(t, words, "retransmit")
			assert.Contains(t, words, "orphan-retransmit")
		})
	}
}

// tcp_retries2 counts RTO retransmissions on an open connection; when they
// are spent the connection is aborted one RTO after the last one.
func TestDataRetriesAbort(t *testing.T) {
	r := 200*time.Millisecond + 2*lanDelay
	for _, tc := range []struct {
		tlp     bool
		mults   []int64
		abortAt int64
	}{
		{true, []int64{1, 2, 4}, 8}, // probe, retries 1 and 2, abort
		{false, []int64{1, 3}, 7},   // retries 1 and 2, abort
	} {
		name := fmt.Sprintf("tlp=%v", tc.tlp)
		cfg := blackHole(10*time.Second, SYNClassic)
		cfg.Network.NoTailLossProbe = !tc.tlp
		cfg.Network.DataRetries = 2
		c, _ := runCaptured(t, cfg)
		lost, offs, words, _ := dataRetransmits(t, c)
		want := make([]time.Duration, len(tc.mults))
		for i, m := range tc.mults {
			want[i] = time.Duration(m) * r
		}
		assert.Equal(t, want, offs, name)
		assert.NotContains(t, words, "orphan-retransmit", "%s: an aborted connection is not orphaned", name)
		aborted := c.filter("client-0", "connection-aborted")
		require.NotEmpty(t, aborted, name)
		assert.Equal(t, time.Duration(tc.abortAt)*r, aborted[0].at.Sub(lost), name)
	}
}

// TestReconnectAtNextSYN: a 30 s session (ct = 30 s) loses its server for
// 20-35 s at fixed phases. The first TCP connection after the heal is the
// attempt in progress, at its next SYN of the schedule, whenever that SYN
// leaves before the attempt's ct runs out; otherwise it is a new attempt,
// after ct. With no attempt in progress at the heal, it is the next attempt's
// first SYN. Read from the traces, for both schedules.
func TestReconnectAtNextSYN(t *testing.T) {
	const timeout = 30 * time.Second
	ct := timeout // one host
	rtt := 2 * lanDelay
	seeds := uint64(3)
	if testing.Short() {
		seeds = 1
	}
	s := time.Second
	for _, tc := range []struct {
		syn      SYNSchedule
		schedule []time.Duration // zk-semantics §1.6
	}{
		{SYNLinear, []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s, 11 * s, 19 * s, 35 * s, 67 * s}},
		{SYNClassic, []time.Duration{1 * s, 3 * s, 7 * s, 15 * s, 31 * s, 63 * s}},
	} {
		syn, schedule := tc.syn, tc.schedule
		atNextSYN, newAttempt, fresh := 0, 0, 0
		for _, phi := range []float64{0.5, 3, 6, 9} {
			for _, d := range []float64{20, 22.5, 25, 27.5, 30, 32.5, 35} {
				for seed := range seeds {
					name := fmt.Sprintf("%s phi=%v D=%v seed=%d", syn, phi, d, seed)
					cfg := Config{
						Seed: seed, Horizon: 3 * time.Minute, Clients: 1, Servers: 1,
						Client:  ClientConfig{SessionTimeout: timeout},
						Network: NetworkConfig{Latency: &lan, SYN: syn},
						Faults: []Fault{{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: Both},
							Arrival: Scripted, At: []time.Duration{40 * time.Second}, Phase: secs(phi), PhaseSet: true,
							Duration: Fixed(secs(d))}},
					}
					c, _ := runCaptured(t, cfg)
					heal := c.filter("network", "outage-end")
					require.Len(t, heal, 1, name)
					healAt := heal[0].at
					// The attempt in progress at the heal, if any.
					var inProgress *rec
					for _, a := range c.filter("client-0", "connect-attempt") {
						if a.at <= healAt && healAt.Sub(a.at) < ct {
							inProgress = &a
						}
					}
					var first *rec
					for _, r := range c.filter("client-0", "tcp-connected") {
						if r.at > healAt {
							first = &r
							break
						}
					}
					require.NotNil(t, first, "%s: no connection after the heal", name)
					// The server hears the ConnectRequest one way later.
					req := slices.IndexFunc(c.filter("server-0", "connect-request"), func(r rec) bool { return r.at > healAt })
					require.GreaterOrEqual(t, req, 0, name)
					got := c.filter("server-0", "connect-request")[req]
					assert.Equal(t, first.field("conn"), got.field("conn"), name)
					assert.Equal(t, first.at.Add(lanDelay), got.at, name)
					if inProgress == nil {
						var next *rec
						for _, a := range c.filter("client-0", "connect-attempt") {
							if a.at >= healAt {
								next = &a
								break
							}
						}
						require.NotNil(t, next, name)
						assert.Equal(t, next.field("conn"), first.field("conn"), name)
						assert.Equal(t, next.at.Add(rtt), first.at, "%s: connected at the new attempt's first SYN", name)
						fresh++
						continue
					}
					since := healAt.Sub(inProgress.at)
					i := slices.IndexFunc(schedule, func(o time.Duration) bool { return o > since })
					if i >= 0 && schedule[i] < ct {
						assert.Equal(t, inProgress.field("conn"), first.field("conn"), "%s: the attempt in progress connects", name)
						assert.Equal(t, inProgress.at.Add(schedule[i]+rtt), first.at,
							"%s: heal %v into the attempt; next SYN at +%v", name, since, schedule[i])
						atNextSYN++
					} else {
						assert.NotEqual(t, inProgress.field("conn"), first.field("conn"), "%s: the attempt has no SYN left inside ct", name)
						assert.Greater(t, first.at, inProgress.at.Add(ct), name)
						newAttempt++
					}
				}
			}
		}
		t.Logf("%s: %d heals reached at the next SYN, %d by a new attempt after ct, %d before any attempt", syn, atNextSYN, newAttempt, fresh)
		assert.Positive(t, atNextSYN, syn.String())
		assert.Positive(t, newAttempt, syn.String())
	}
}

// A connect attempt abandoned before its handshake completes leaves
// nothing behind: with 5 s one way every attempt times out in SYN state,
// and an hour of them reuses two connection records instead of keeping one
// per attempt (the server's half-open entry is its kernel's, never an
// accepted connection).
func TestAbandonedConnectsAreFreed(t *testing.T) {
	lat := Fixed(5 * time.Second)
	w, err := NewWorld(Config{Seed: 1, Horizon: time.Hour, Clients: 1, Servers: 1, Network: NetworkConfig{Latency: &lat}}, Options{Check: true})
	require.NoError(t, err)
	_, err = w.Run()
	require.NoError(t, err)
	require.Greater(t, w.serials, int32(300), "the client kept trying")
	live := 0
	for id := 1; id < len(w.conns); id++ {
		if w.conns[id].serial != 0 {
			live++
		}
	}
	assert.LessOrEqual(t, live, 2, "%d attempts, %d records still held", w.serials, live)
}
