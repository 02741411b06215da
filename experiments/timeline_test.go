package experiments

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/model"
)

func scenarioTimeline(t *testing.T, name string) *Timeline {
	t.Helper()
	s, ok := model.ScenarioByName(name)
	require.True(t, ok, name)
	tl, err := RunTimeline(s.Config, s.Name, s.Description)
	require.NoError(t, err, name)
	return tl
}

func states(l ClientLane) []LaneState {
	var out []LaneState
	for _, sp := range l.States {
		out = append(out, sp.State)
	}
	return out
}

// eventAt finds the first event of kind, failing the test when there is none.
func eventAt(t *testing.T, tl *Timeline, kind EventKind) Event {
	t.Helper()
	i := slices.IndexFunc(tl.Events, func(e Event) bool { return e.Kind == kind })
	require.GreaterOrEqual(t, i, 0, "no %s event in %s", kind, tl.Title)
	return tl.Events[i]
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func TestTimelineCableUnplug(t *testing.T) {
	t.Parallel()
	tl := scenarioTimeline(t, "seed-cable-unplug")
	assert.Equal(t, 10*time.Second, tl.Timeout)
	assert.Equal(t, 2*time.Second, tl.Tick)
	require.Len(t, tl.Clients, 1)
	c := tl.Clients[0]
	assert.Equal(t, []LaneState{StateConnecting, StateConnected, StateDisconnected, StateExpired, StateConnected}, states(c))
	// Expired from the server's expiry until the new session connects.
	exp := c.States[3]
	assert.InDelta(t, 43.659015, exp.From.Seconds(), 1e-6)
	assert.InDelta(t, 48.522, exp.To.Seconds(), 1e-6)
	assert.Equal(t, "0x2", c.States[4].Session)
	assert.NotEmpty(t, c.Pings)
	assert.NotEmpty(t, c.Replies)
	assert.NotEmpty(t, c.Lost, "the pings sent into the outage are lost")

	require.Len(t, tl.Sessions, 2)
	s := tl.Sessions[0]
	assert.True(t, s.Expired)
	assert.InDelta(t, 43.659015, s.End.Seconds(), 1e-6)
	last := s.Steps[len(s.Steps)-1]
	assert.InDelta(t, 32.9851, last.At.Seconds(), 1e-6)
	assert.InDelta(t, 43.659015, last.Deadline.Seconds(), 1e-6)

	require.Len(t, tl.Faults, 1)
	assert.Equal(t, FaultSpan{Kind: FaultOutage, From: sec(34.4851), To: sec(45.4851), Track: "client 0 ↔ all servers", Label: "outage 11s"}, tl.Faults[0])

	lt := eventAt(t, tl, EventLastTouch)
	assert.InDelta(t, 32.9851, lt.At.Seconds(), 1e-6)
	assert.Equal(t, last.Deadline, lt.Deadline)
	assert.Contains(t, eventAt(t, tl, EventConnectionLost).Label, "read timeout")
	assert.InDelta(t, 43.659015, eventAt(t, tl, EventSessionExpired).At.Seconds(), 1e-6)
	assert.Contains(t, eventAt(t, tl, EventExpiredSeen).Label, "new session 0x2")

	require.Len(t, tl.Outcome, 1)
	assert.True(t, tl.Outcome[0].Expired)
	assert.Contains(t, tl.Outcome[0].Text, "last touch at 32.99s and its deadline E = 43.66s")
}

func TestTimelineServerRestart(t *testing.T) {
	t.Parallel()
	tl := scenarioTimeline(t, "seed-server-restart")
	c := tl.Clients[0]
	assert.Equal(t, []LaneState{StateConnecting, StateConnected, StateDisconnected, StateConnected}, states(c))
	assert.Equal(t, "0x1", c.States[3].Session, "the same session")
	assert.Greater(t, len(c.Connects), 1000, "a refused connect every 1.1-2.1 s for 30 min")

	require.Len(t, tl.Faults, 1)
	assert.Equal(t, FaultServerCrash, tl.Faults[0].Kind)
	assert.Equal(t, 30*time.Second, tl.Faults[0].From)
	assert.Equal(t, 1830*time.Second, tl.Faults[0].To)

	// Two incarnations of the expirer, with different bucket phases.
	require.Len(t, tl.Buckets, 2)
	assert.Equal(t, 30*time.Second, tl.Buckets[0].To)
	assert.Equal(t, 1830*time.Second, tl.Buckets[1].From)
	assert.NotEqual(t, tl.Buckets[0].Phase, tl.Buckets[1].Phase)

	require.Len(t, tl.Sessions, 1)
	s := tl.Sessions[0]
	assert.False(t, s.Expired)
	i := slices.IndexFunc(s.Steps, func(st DeadlineStep) bool { return st.Restored })
	require.GreaterOrEqual(t, i, 0, "the restart restores the session")
	assert.Equal(t, 1830*time.Second, s.Steps[i].At)

	dp := eventAt(t, tl, EventDeadlinePassed)
	assert.InDelta(t, 39.659015, dp.At.Seconds(), 1e-6)
	assert.True(t, dp.Server())
	assert.Equal(t, 1830*time.Second, eventAt(t, tl, EventServerRestarted).At)
	assert.Contains(t, eventAt(t, tl, EventReconnected).Label, "same session 0x1")
	assert.False(t, slices.ContainsFunc(tl.Events, func(e Event) bool { return e.Kind == EventLateTouch }),
		"a restart's restoring touch is not a late touch")

	require.Len(t, tl.Outcome, 1)
	assert.False(t, tl.Outcome[0].Expired)
	assert.Contains(t, tl.Outcome[0].Text, "passed while the server was down")
}

func TestTimelineSlowFailover(t *testing.T) {
	t.Parallel()
	tl := scenarioTimeline(t, "seed-slow-failover")
	var background int
	for _, f := range tl.Faults {
		if f.Background {
			background++
		}
	}
	assert.Equal(t, 2, background, "the two black-holed hosts")
	c := tl.Clients[0]
	var failed []int
	for _, cs := range c.Connects {
		if cs.Result == "timeout" {
			failed = append(failed, cs.Server)
		}
	}
	assert.Equal(t, []int{1, 2}, failed)
	assert.NotEmpty(t, c.LostBack, "the replies are lost server-to-client")
	assert.True(t, tl.Sessions[0].Expired)
	assert.InDelta(t, 36.3183, eventAt(t, tl, EventLastTouch).At.Seconds(), 1e-6, "the ping got through; its reply did not")

	sym := scenarioTimeline(t, "seed-slow-failover-symmetric")
	late := eventAt(t, sym, EventLateTouch)
	assert.Contains(t, late.Label, "retransmitted by TCP")
	require.Len(t, sym.Outcome, 1)
	assert.False(t, sym.Outcome[0].Expired)
	assert.Contains(t, sym.Outcome[0].Text, "reached the server late")
}

// Invariants of every scenario's timeline.
func TestTimelineInvariants(t *testing.T) {
	t.Parallel()
	for _, sc := range model.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			tl := scenarioTimeline(t, sc.Name)
			for _, c := range tl.Clients {
				require.NotEmpty(t, c.States, c.Name)
				for i, sp := range c.States {
					assert.Less(t, sp.From, sp.To, "%s span %d is not empty", c.Name, i)
					if i > 0 {
						assert.Equal(t, c.States[i-1].To, sp.From, "%s spans are contiguous", c.Name)
					}
				}
				assert.Equal(t, tl.Horizon, c.States[len(c.States)-1].To, "%s reaches the horizon", c.Name)
				for _, cs := range c.Connects {
					assert.LessOrEqual(t, cs.From, cs.To)
					assert.NotEqual(t, "open", cs.Result, "every attempt ended")
				}
			}
			assert.True(t, slices.IsSortedFunc(tl.Events, func(a, b Event) int { return int(a.At - b.At) }), "events in time order")
			for _, sl := range tl.Servers {
				require.NotEmpty(t, sl.States, sl.Name)
				for i, sp := range sl.States {
					assert.Less(t, sp.From, sp.To, "%s span %d is not empty", sl.Name, i)
					if i > 0 {
						assert.Equal(t, sl.States[i-1].To, sp.From, "%s spans are contiguous", sl.Name)
						assert.NotEqual(t, sl.States[i-1].State, sp.State, "%s spans change state", sl.Name)
					}
				}
				assert.Equal(t, tl.Horizon, sl.States[len(sl.States)-1].To, "%s reaches the horizon", sl.Name)
			}
			for _, iv := range tl.NoLeader {
				for _, b := range tl.Buckets {
					assert.False(t, iv.From < b.To && b.From < iv.To, "no tracker runs while no leader serves")
				}
			}
			for _, s := range tl.Sessions {
				for _, st := range s.Steps {
					assert.GreaterOrEqual(t, st.Deadline, st.At+tl.Timeout, "E >= touch + T")
					assert.LessOrEqual(t, st.Deadline, st.At+tl.Timeout+tl.Tick, "E <= touch + T + k")
					// Every deadline is a boundary of the expirer running then
					// (the later one where a new tracker starts as one ends).
					i := len(tl.Buckets) - 1
					for i >= 0 && !(st.At >= tl.Buckets[i].From && st.At <= tl.Buckets[i].To) {
						i--
					}
					require.GreaterOrEqual(t, i, 0, "an epoch runs at %v", st.At)
					assert.Zero(t, (st.Deadline-tl.Buckets[i].Phase)%tl.Tick, "session %s: E = %v is on a bucket boundary", s.ID, st.Deadline)
				}
			}
		})
	}
}

func TestTimelinePause(t *testing.T) {
	t.Parallel()
	lan := model.Fixed(100 * time.Microsecond)
	cfg := model.Config{Seed: 3, Horizon: 2 * time.Minute, Clients: 2, Network: model.NetworkConfig{Latency: &lan},
		Faults: []model.Fault{{Kind: model.ClientPause, Target: model.Target{Client: 1, Server: model.AllServers},
			Arrival: model.Scripted, At: []time.Duration{40 * time.Second}, Duration: model.Fixed(15 * time.Second)}},
		DeadClientProbe: true}
	tl, err := RunTimeline(cfg, "pause", "")
	require.NoError(t, err)
	require.Len(t, tl.Clients, 3)
	assert.True(t, tl.Clients[2].Probe)
	require.Len(t, tl.Faults, 1)
	assert.Equal(t, FaultSpan{Kind: FaultClientPause, From: 40 * time.Second, To: 55 * time.Second, Track: "client-1 pauses", Label: "paused 15s"}, tl.Faults[0])
	fs := eventAt(t, tl, EventFaultStart)
	assert.Equal(t, "client-1 pauses", fs.Track)
	assert.Equal(t, 1, fs.Client)

	var expired, probe int
	for _, o := range tl.Outcome {
		if o.Probe {
			probe++
			assert.Contains(t, o.Text, "dead-client probe")
		} else if o.Expired {
			expired++
			assert.Equal(t, 1, o.Client, "the paused client")
		}
	}
	assert.Equal(t, 1, expired, "a 15 s pause expires a 10 s session")
	assert.Equal(t, 1, probe)
}

func TestBuildTimelineBadTrace(t *testing.T) {
	t.Parallel()
	s, _ := model.ScenarioByName("seed-cable-unplug")
	_, err := BuildTimeline(s.Config, []TraceLine{{At: 5, Actor: "server-0", Event: "touch", Detail: "session=0x9 deadline=x"}}, "bad", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "touch")
	assert.Contains(t, err.Error(), "not a number of seconds")
	_, err = BuildTimeline(s.Config, []TraceLine{{At: 5, Actor: "client-x", Event: "ping-sent"}}, "bad", "")
	assert.ErrorContains(t, err, "not an index")
}

func TestBucketBoundaries(t *testing.T) {
	t.Parallel()
	b := BucketEpoch{From: 10 * time.Second, To: 20 * time.Second, Phase: 1500 * time.Millisecond}
	assert.Equal(t, []time.Duration{sec(11.5), sec(13.5), sec(15.5)}, b.Boundaries(2*time.Second, 0, 16*time.Second))
	assert.Equal(t, []time.Duration{sec(17.5), sec(19.5)}, b.Boundaries(2*time.Second, 17*time.Second, time.Minute))
	assert.Empty(t, b.Boundaries(2*time.Second, 30*time.Second, time.Minute))
	assert.Empty(t, b.Boundaries(0, 0, time.Minute))
}

// A connect attempt whose SYN retries run out (tcp_syn_retries = 2: SYNs at
// +0, +1, +3 s, ETIMEDOUT at +7 s) ends as a timeout, well inside ct.
func TestTimelineSYNTimedOut(t *testing.T) {
	t.Parallel()
	s, ok := model.ScenarioByName("seed-cable-unplug")
	require.True(t, ok)
	cfg := s.Config
	cfg.Network.SYNRetries = 2
	cfg.Client.SessionTimeout = 30 * time.Second
	cfg.Faults[0].Duration = model.Fixed(time.Minute)
	tl, err := RunTimeline(cfg, "syn-timed-out", "")
	require.NoError(t, err)
	var spans []time.Duration
	for _, cs := range tl.Clients[0].Connects {
		if cs.Result == "timeout" {
			spans = append(spans, cs.To-cs.From)
		}
	}
	require.NotEmpty(t, spans)
	for _, d := range spans {
		assert.Equal(t, 7*time.Second, d)
	}
}
