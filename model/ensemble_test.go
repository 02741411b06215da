package model

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// ensembleConfig is three servers on a LAN (0.1 ms one way, 0.5 ms quorum
// links), leader 0, one client with the given connect string, in order.
func ensembleConfig(t time.Duration, hosts []int, faults ...Fault) Config {
	lan := Fixed(100 * time.Microsecond)
	return Config{Seed: 1, Horizon: 2 * time.Minute, Clients: 1, Servers: 3, Leader: 0,
		Client:  ClientConfig{SessionTimeout: t, Hosts: hosts, KeepHostOrder: true},
		Network: NetworkConfig{Latency: &lan}, Faults: faults}
}

func scripted(k FaultKind, server int, at, d time.Duration) Fault {
	return Fault{Kind: k, Target: Target{Client: AllClients, Server: server}, Arrival: Scripted,
		At: []time.Duration{at}, Duration: Fixed(d)}
}

// first returns the first record of actor's event at or after from whose
// detail contains every part, or fails.
func (c *capture) first(t *testing.T, actor, event string, from clock.Time, parts ...string) rec {
	t.Helper()
	r, ok := c.find(actor, event, from, parts...)
	require.True(t, ok, "no %s %s %v after %v", actor, event, parts, from)
	return r
}

func (c *capture) find(actor, event string, from clock.Time, parts ...string) (rec, bool) {
	for _, r := range c.recs {
		if r.at < from || (actor != "" && r.actor != actor) || r.event != event {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(r.detail, p)
		}
		if ok {
			return r, true
		}
	}
	return rec{}, false
}

func at(s float64) clock.Time { return clock.Zero.Add(secs(s)) }

// Acceptance 1: the leader dies under a client attached to a follower.
func TestLeaderCrash(t *testing.T) {
	s := scenario(t, "leader-crash")
	c, st := runCaptured(t, s.Config)
	assert.Equal(t, []string{"SyncConnected", "Disconnected", "SyncConnected"}, c.states("client-0"))
	for _, r := range c.filter("client-0", "state") {
		assert.Equal(t, "0x1", r.field("session"), "the same session throughout")
	}
	assert.Zero(t, st.Expiries)

	kill := at(30)
	q := 500 * time.Microsecond
	// The follower sees the leader's socket close one quorum hop after the
	// kill, goes LOOKING and drops its client: end-of-stream, not a timeout.
	for _, f := range []string{"server-1", "server-2"} {
		r := c.first(t, f, "server-state", kill, "role=LOOKING")
		assert.Equal(t, kill.Add(q), r.at, "%s noticed the dead leader at once", f)
		assert.Equal(t, "leader-closed", r.field("reason"))
	}
	eos := c.first(t, "client-0", "end-of-stream", kill)
	assert.Equal(t, kill.Add(q+100*time.Microsecond), eos.at, "EOF through the follower")
	_, timedOut := c.find("client-0", "read-timeout", kill)
	assert.False(t, timedOut)

	// Server 2 (same zxid as server 1, higher id) leads; its new tracker
	// touches the session at its start; the client is back after that.
	elected := c.first(t, "server-2", "elected", kill)
	assert.Equal(t, "2", elected.field("leader"))
	serve := c.first(t, "server-2", "server-state", kill, "role=LEADING", "serving=true")
	started := c.first(t, "server-2", "tracker-started", kill)
	assert.Equal(t, serve.at, started.at)
	touch := c.first(t, "server-2", "touch", kill, "session=0x1")
	assert.Equal(t, started.at, touch.at, "the new tracker touches every session at its start")
	back := c.filter("client-0", "state")[2]
	assert.Greater(t, back.at, serve.at)
	assert.Less(t, back.at.Sub(kill), 3*time.Second, "serving again within seconds")
	// The killed leader rejoins as a follower of server 2 after its restart.
	rejoin := c.first(t, "server-0", "server-state", at(90), "role=FOLLOWING", "serving=true")
	assert.Equal(t, "2", rejoin.field("leader"))
}

// The new leader is the surviving server with the highest (zxid, id): a
// server that missed the session's createSession loses to a lower id.
func TestNewLeaderHasTheHighestZxidThenID(t *testing.T) {
	// Server 2 is cut off from the others from the start, so the
	// createSession of the client (on server 1) is logged by 0 and 1 only;
	// the leader dies while server 2 still misses it.
	part := scripted(Partition, 2, 0, 6*time.Second)
	cfg := ensembleConfig(10*time.Second, []int{1}, part, scripted(ServerCrash, 0, 5500*time.Millisecond, time.Hour))
	for seed := range uint64(10) {
		cfg.Seed = seed
		c, st := runCaptured(t, cfg)
		name := fmt.Sprintf("seed=%d", seed)
		l1 := c.first(t, "server-1", "election-started", at(5))
		l2 := c.first(t, "server-2", "election-started", at(5))
		v1 := c.first(t, "server-1", "votes-sent", l1.at)
		v2 := c.first(t, "server-2", "votes-sent", l2.at)
		require.Contains(t, v1.detail, "zxid=0x100000001", name)
		require.Contains(t, v2.detail, "zxid=0x100000000", name)
		e := c.first(t, "server-1", "elected", at(5))
		assert.Equal(t, "1", e.field("leader"), name)
		e2 := c.first(t, "server-2", "elected", at(5))
		assert.Equal(t, "1", e2.field("leader"), name)
		assert.Zero(t, st.Expiries, name)
	}
}

// Acceptance 2: a leader pause longer than T but shorter than syncLimit·k
// loses a follower's session without any disconnection before it.
func TestLeaderPauseExpiresAFollowersSession(t *testing.T) {
	for _, order := range []ResumeOrder{ExpirerFirst, RequestsFirst} {
		s := scenario(t, "leader-pause")
		cfg := s.Config
		cfg.Server.ResumeOrder = order
		c, _ := runCaptured(t, cfg)
		name := order.String()
		states := c.filter("client-0", "state")
		require.GreaterOrEqual(t, len(states), 3, name)
		assert.Equal(t, []string{"SyncConnected", "Disconnected", "Expired"}, c.states("client-0")[:3], name)
		resume := at(36)
		// Nothing reached the application between the connect and the resume.
		assert.Less(t, states[0].at, at(30), name)
		assert.GreaterOrEqual(t, states[1].at, resume, "%s: the first Disconnected comes after the pause", name)
		// The leader expired the session on resume, and the follower dropped
		// the client for it.
		exp := c.first(t, "server-0", "session-expired", at(30), "session=0x1")
		assert.Equal(t, resume, exp.at, name)
		closed := c.first(t, "server-1", "connection-closed", resume, "reason=session-expired")
		assert.Equal(t, resume.Add(3*500*time.Microsecond), closed.at, "%s: propose, ack, commit", name)
		// No follower abandoned the leader: the pause was shorter than syncLimit·k.
		_, looked := c.find("", "server-state", at(30), "role=LOOKING")
		assert.False(t, looked, name)
	}
}

// A client attached to the paused leader itself: with requests first the
// pings its kernel buffered touch the session before the expirer runs.
func TestServerPauseResumeOrder(t *testing.T) {
	for _, tc := range []struct {
		order   ResumeOrder
		expired bool
	}{{ExpirerFirst, true}, {RequestsFirst, false}} {
		cfg := ensembleConfig(4*time.Second, []int{0, 1, 2}, scripted(ServerPause, TheLeader, 30*time.Second, 6*time.Second))
		cfg.Server.ResumeOrder = tc.order
		c, st := runCaptured(t, cfg)
		name := tc.order.String()
		resume := at(36)
		r := c.first(t, "server-0", "server-resumed", resume)
		assert.Equal(t, "order="+tc.order.String(), strings.Fields(r.detail)[0])
		assert.NotEqual(t, "buffered=0", strings.Fields(r.detail)[1], "%s: pings were buffered", name)
		if tc.expired {
			exp := c.first(t, "server-0", "session-expired", at(30), "session=0x1")
			assert.Equal(t, resume, exp.at, name)
			assert.Positive(t, st.Expiries, name)
		} else {
			touch := c.first(t, "server-0", "touch", resume, "session=0x1")
			assert.Equal(t, resume, touch.at, "%s: the buffered ping touches at resume", name)
			_, exp := c.find("server-0", "session-expired", at(30), "session=0x1")
			assert.False(t, exp, name)
			assert.Zero(t, st.Expiries, name)
		}
	}
}

// Followers notice a dead leader process at once and an unreachable one
// after syncLimit·tickTime of silence; the leader notices the lost quorum
// at its once-per-tick check.
func TestLossDetection(t *testing.T) {
	q := 500 * time.Microsecond
	k := 2 * time.Second
	t.Run("crash", func(t *testing.T) {
		c, _ := runCaptured(t, ensembleConfig(10*time.Second, []int{0}, scripted(ServerCrash, 0, 30*time.Second, time.Minute)))
		for _, f := range []string{"server-1", "server-2"} {
			r := c.first(t, f, "server-state", at(30), "role=LOOKING")
			assert.Equal(t, at(30).Add(q), r.at, f)
		}
	})
	t.Run("partition", func(t *testing.T) {
		c, _ := runCaptured(t, ensembleConfig(10*time.Second, []int{0}, scripted(Partition, 0, 30*time.Second, time.Minute)))
		for _, f := range []string{"server-1", "server-2"} {
			// The last ping reached the follower one hop after the leader's
			// last half-tick wake before the cut (wakes at whole seconds).
			lastPing := at(29).Add(q)
			r := c.first(t, f, "server-state", at(30), "role=LOOKING")
			assert.Equal(t, lastPing.Add(5*k), r.at, "%s: syncLimit·tick after the last packet", f)
			assert.Equal(t, "leader-timeout", r.field("reason"))
		}
		// The leader: its last acks arrived at 29.001; at its half-tick wakes
		// (whole seconds) a learner whose last read is older than syncLimit·k
		// is dropped, and the check of the next whole tick fails.
		r := c.first(t, "server-0", "server-state", at(30), "role=LOOKING")
		assert.Equal(t, at(40), r.at)
		assert.True(t, strings.HasPrefix(r.field("reason"), "quorum-lost"), r.detail)
		assert.Equal(t, "1", strings.TrimPrefix(strings.Fields(r.detail)[2], "synced="))
		lost := c.filter("server-0", "learner-lost")
		require.Len(t, lost, 2)
		for _, l := range lost {
			assert.Equal(t, at(40), l.at)
			assert.Equal(t, "timeout", l.field("reason"))
		}
	})
	t.Run("follower crash leaves the quorum", func(t *testing.T) {
		c, _ := runCaptured(t, ensembleConfig(10*time.Second, []int{0}, scripted(ServerCrash, 1, 30*time.Second, time.Minute)))
		_, lost := c.find("server-0", "server-state", at(30), "role=LOOKING")
		assert.False(t, lost, "two of three are a quorum")
		r := c.first(t, "server-0", "learner-lost", at(30))
		assert.Equal(t, at(30).Add(q), r.at)
	})
}

// Election time: the survivors see the crash one hop later, exchange votes,
// and decide finalizeWait after the last vote that completed the quorum.
func TestElectionTimeWithFinalizeWait(t *testing.T) {
	q := 500 * time.Microsecond
	for _, fw := range []time.Duration{200 * time.Millisecond, 1 * time.Second} {
		cfg := ensembleConfig(10*time.Second, []int{0}, scripted(ServerCrash, 0, 30*time.Second, time.Minute))
		cfg.Server.FinalizeWait = fw
		c, _ := runCaptured(t, cfg)
		kill := at(30)
		// Server 1 adopts server 2's vote when it arrives (kill+2q): its
		// quorum is complete then; server 2 completes its own when server
		// 1's new vote arrives (kill+3q).
		e1 := c.first(t, "server-1", "elected", kill)
		e2 := c.first(t, "server-2", "elected", kill)
		assert.Equal(t, kill.Add(2*q+fw), e1.at, "finalizeWait=%v", fw)
		assert.Equal(t, kill.Add(3*q+fw), e2.at, "finalizeWait=%v", fw)
		// From elected to serving: the follower's join (one hop, refused if
		// it came before the leader decided, then retried 100 ms later),
		// the epoch and NEWLEADER round trips and the 100 ms sync time.
		join := c.first(t, "server-2", "learner-joined", kill)
		serve := c.first(t, "server-2", "server-state", kill, "serving=true")
		assert.Equal(t, join.at.Add(4*q+100*time.Millisecond), serve.at, "finalizeWait=%v", fw)
	}
}

// A LOOKING (or syncing) server completes the TCP handshake and then closes
// the connection at the ConnectRequest.
func TestLookingServerClosesClientConnects(t *testing.T) {
	s := scenario(t, "quorum-loss")
	c, _ := runCaptured(t, s.Config)
	n := 0
	for _, r := range c.filter("server-0", "connect-request") {
		if r.at < at(32) || r.at > at(60) {
			continue
		}
		n++
		closed := c.first(t, "server-0", "connection-closed", r.at, "conn="+r.field("conn"))
		assert.Equal(t, r.at, closed.at)
		assert.Equal(t, "not-serving", closed.field("reason"))
		tcp := c.first(t, "client-0", "tcp-connected", r.at.Add(-time.Millisecond), "conn="+r.field("conn"))
		assert.Less(t, tcp.at, r.at, "the handshake completed first")
		eos := c.first(t, "client-0", "end-of-stream", r.at, "conn="+r.field("conn"))
		assert.Equal(t, r.at.Add(100*time.Microsecond), eos.at)
	}
	assert.Greater(t, n, 5, "the client kept trying the LOOKING server")
}

// Every session is re-timed at the new tracker's start: its deadline is the
// first bucket boundary after start + T, whatever its history.
func TestSessionsRetimedAtTrackerStart(t *testing.T) {
	for seed := range uint64(20) {
		cfg := ensembleConfig(10*time.Second, []int{1}, scripted(ServerCrash, 0, 30*time.Second, time.Minute))
		cfg.Seed = seed
		cfg.Clients = 4
		cfg.Client.Hosts = []int{1, 2}
		c, _ := runCaptured(t, cfg)
		start := c.first(t, "", "tracker-started", at(30))
		assert.Equal(t, "restored-sessions=4", start.detail, "seed=%d", seed)
		touches := 0
		for _, r := range c.filter(start.actor, "touch") {
			if r.at != start.at {
				continue
			}
			touches++
			e := r.seconds(t, "deadline")
			g := e.Sub(start.at) - 10*time.Second
			assert.True(t, g > 0 && g <= 2*time.Second, "seed=%d: deadline %v is start+T+%v", seed, e, g)
		}
		assert.Equal(t, 4, touches, "seed=%d", seed)
	}
}

// A minority partition never elects and disconnects its clients; the
// majority keeps serving, and the isolated server rejoins after the heal.
// (T = 30 s: the isolated follower keeps serving its client for up to
// syncLimit·k = 10 s while its touches cannot reach the leader; with T ≤
// 10 s the leader would expire the session first.)
func TestMinorityPartition(t *testing.T) {
	cfg := ensembleConfig(30*time.Second, []int{2, 0, 1}, scripted(Partition, 2, 30*time.Second, time.Minute))
	c, st := runCaptured(t, cfg)
	look := c.first(t, "server-2", "server-state", at(30), "role=LOOKING")
	assert.Less(t, look.at, at(41))
	closed := c.first(t, "server-2", "connection-closed", look.at, "reason=server-shutdown")
	assert.Equal(t, look.at, closed.at)
	for _, r := range c.filter("server-2", "server-state") {
		if r.at > look.at && r.at < at(90) {
			assert.Contains(t, r.detail, "role=LOOKING", "no election in the minority before the heal")
		}
	}
	_, elected := c.find("server-2", "elected", look.at)
	require.True(t, elected)
	e := c.first(t, "server-2", "elected", look.at)
	assert.GreaterOrEqual(t, e.at, at(90), "it rejoins only after the heal")
	// The leader never lost its quorum.
	_, lost := c.find("server-0", "server-state", at(30), "role=LOOKING")
	assert.False(t, lost)
	assert.Equal(t, []string{"SyncConnected", "Disconnected", "SyncConnected"}, c.states("client-0"))
	assert.Zero(t, st.Expiries)
}

// Acceptance 4: a session survives any election iff its client reaches a
// serving server within T + g of the new tracker's start. The client's own
// paths are cut from just before the leader's crash until a point on either
// side of that deadline; the election's length varies with the sync time.
func TestElectionThresholdGrid(t *testing.T) {
	survived, expired := 0, 0
	for _, sync := range []float64{0.1, 3, 12, 45} {
		for _, d := range []float64{8, 10, 11, 12, 13, 14, 16, 20, 24, 30, 36, 40} {
			for seed := range uint64(3) {
				name := fmt.Sprintf("sync=%vs D=%vs seed=%d", sync, d, seed)
				law := Fixed(secs(sync))
				cut := Fault{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: Both},
					Arrival: Scripted, At: []time.Duration{29 * time.Second}, Duration: Fixed(secs(d))}
				cfg := ensembleConfig(10*time.Second, []int{1, 2, 0}, cut, scripted(ServerCrash, 0, 30*time.Second, time.Hour))
				cfg.Seed = seed
				cfg.Server.SyncTime = &law
				cfg.Server.InitLimit = max(10, int(sync/2)+5) // a sync longer than initLimit never completes
				cfg.Horizon = 3 * time.Minute
				c, st := runCaptured(t, cfg)
				start, ok := c.find("", "tracker-started", at(30))
				require.True(t, ok, "%s: no new leader", name)
				touch := c.first(t, start.actor, "touch", start.at, "session=0x1")
				require.Equal(t, start.at, touch.at, name)
				e := touch.seconds(t, "deadline")
				g := e.Sub(start.at) - 10*time.Second
				require.True(t, g > 0 && g <= 2*time.Second, "%s: g=%v", name, g)
				// t_R: the leader's first touch attempt of the session after
				// its start (a revalidation, or the attempt that fails).
				tR := clock.Never
				for _, r := range c.recs {
					if r.actor == start.actor && r.at > start.at && r.field("session") == "0x1" &&
						(r.event == "touch" || r.event == "touch-failed") {
						tR = r.at
						break
					}
				}
				require.NotEqual(t, clock.Never, tR, name)
				survive := tR < e
				assert.Equal(t, !survive, st.Expiries > 0, "%s: reached %v after the tracker start, T+g=%v", name, tR.Sub(start.at), 10*time.Second+g)
				// Never an expiry during the election itself.
				if exp, ok := c.find("", "session-expired", 0); ok {
					assert.GreaterOrEqual(t, exp.at, e.Add(-time.Microsecond), name) // e is printed in whole µs
				}
				if survive {
					survived++
				} else {
					expired++
				}
			}
		}
	}
	t.Logf("%d runs survived, %d expired", survived, expired)
	assert.Positive(t, survived)
	assert.Positive(t, expired)
}

// Every trace word the ensemble scenarios write is in the vocabulary.
func TestEnsembleTraceWordsAreInTheVocabulary(t *testing.T) {
	for _, s := range Scenarios() {
		c, _ := runCaptured(t, s.Config)
		var words []string
		for _, r := range c.recs {
			if !slices.Contains(words, r.event) {
				words = append(words, r.event)
			}
		}
		for _, w := range words {
			assert.Contains(t, Vocabulary, w, s.Name)
		}
	}
}

// The ensemble scenarios' watcher sequences are what they say they expect.
func TestEnsembleScenarios(t *testing.T) {
	for _, name := range []string{"leader-crash", "leader-partitioned", "leader-pause", "quorum-loss", "rolling-restart"} {
		s := scenario(t, name)
		c, _ := runCaptured(t, s.Config)
		got := c.states("client-0")
		want := strings.Split(s.Expect, ", ")
		require.GreaterOrEqual(t, len(got), len(want), name)
		assert.Equal(t, want, got[:len(want)], name)
	}
}
