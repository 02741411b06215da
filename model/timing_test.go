package model

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// Idle ping period is rt/2 in every version: 3.333 s at T = 10 s and
// 13.333 s at T = 40 s (zk-semantics §1.4), not the 10 s cap.
func TestIdlePingPeriod(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		want    time.Duration
		version Version
	}{
		{10 * time.Second, 3333 * time.Millisecond, V38},
		{40 * time.Second, 13333 * time.Millisecond, V38},
		{10 * time.Second, 3333 * time.Millisecond, V33},
		{40 * time.Second, 13333 * time.Millisecond, V39},
	} {
		name := fmt.Sprintf("T=%v/%s", tc.timeout, tc.version)
		c, _ := runCaptured(t, Config{Seed: 3, Horizon: 5 * time.Minute, Client: ClientConfig{SessionTimeout: tc.timeout, Version: tc.version}})
		pings := c.filter("client-0", "ping-sent")
		require.Greater(t, len(pings), 10, name)
		for i := 1; i < len(pings); i++ {
			gap := pings[i].at.Sub(pings[i-1].at)
			assert.InDelta(t, tc.want.Seconds(), gap.Seconds(), 0.0015, "%s ping %d", name, i)
		}
	}
}

// Disconnected comes rt after the last ping reply, plus the 100 ms cleanup;
// the tracker expires the session between T and T + k after its last touch.
func TestDisconnectAndExpiryTiming(t *testing.T) {
	for seed := range uint64(20) {
		cfg := scenario(t, "seed-cable-unplug").Config
		cfg.Seed = seed
		c, _ := runCaptured(t, cfg)
		outage := c.filter("network", "outage-start")[0].at
		var lastHeard clock.Time
		for _, r := range c.filter("client-0", "ping-reply") {
			if r.at < outage {
				lastHeard = r.at
			}
		}
		var disc clock.Time
		for _, r := range c.filter("client-0", "state") {
			if strings.HasPrefix(r.detail, "Disconnected") {
				disc = r.at
				break
			}
		}
		rt := 6666 * time.Millisecond
		// The Java clock is whole milliseconds, so the loop may see the reply
		// up to 1 ms earlier than it arrived.
		got := disc.Sub(lastHeard)
		assert.True(t, got > rt+100*time.Millisecond-time.Millisecond && got <= rt+100*time.Millisecond,
			"seed=%d Disconnected %v after the last reply, want rt+100ms = %v", seed, got, rt+100*time.Millisecond)
		exp := c.filter("server-0", "session-expired")
		require.Len(t, exp, 1, "seed=%d", seed)
		idle := exp[0].at.Sub(exp[0].seconds(t, "last-touch"))
		assert.True(t, idle > 10*time.Second && idle <= 12*time.Second, "seed=%d expiry %v after the last touch", seed, idle)
	}
}

// A single host refusing connections is retried every 100 ms cleanup +
// 1 s spin + U[0,1000) ms: gaps in [1.1 s, 2.1 s].
func TestSingleHostRetryGaps(t *testing.T) {
	cfg := scenario(t, "seed-server-restart").Config
	cfg.Horizon = 10 * time.Minute
	c, _ := runCaptured(t, cfg)
	attempts := c.filter("client-0", "connect-attempt")
	require.Greater(t, len(attempts), 200)
	var lo, hi time.Duration = time.Hour, 0
	for i := 2; i < len(attempts); i++ { // attempt 1 is the first connect, before the crash
		gap := attempts[i].at.Sub(attempts[i-1].at)
		lo, hi = min(lo, gap), max(hi, gap)
		require.True(t, gap >= 1100*time.Millisecond && gap <= 2100*time.Millisecond, "gap %d = %v", i, gap)
	}
	// The U[0,1000) sleep covers its range.
	assert.Less(t, lo, 1150*time.Millisecond)
	assert.Greater(t, hi, 2050*time.Millisecond)
}

// The server clamps a requested timeout to [2k, 20k].
func TestNegotiation(t *testing.T) {
	for _, tc := range []struct{ requested, want time.Duration }{
		{time.Second, 4 * time.Second},
		{100 * time.Second, 40 * time.Second},
		{15 * time.Second, 15 * time.Second},
	} {
		c, _ := runCaptured(t, Config{Seed: 1, Horizon: 2 * time.Minute, Client: ClientConfig{SessionTimeout: tc.requested}})
		conn := c.filter("client-0", "state")
		require.NotEmpty(t, conn)
		assert.Equal(t, Duration(tc.want), conn[0].field("timeout"), "requested %v", tc.requested)
		// The client derives rt from the negotiated value: ping period follows.
		pings := c.filter("client-0", "ping-sent")
		require.Greater(t, len(pings), 2)
		wantPing := time.Duration(tc.want.Milliseconds()*2/3/2) * time.Millisecond
		assert.InDelta(t, wantPing.Seconds(), pings[2].at.Sub(pings[1].at).Seconds(), 0.0015, "requested %v", tc.requested)
	}
}

// The same seed gives the same trace, byte for byte; another seed does not.
func TestTraceDeterminism(t *testing.T) {
	for _, s := range Scenarios() {
		a, _ := runCaptured(t, s.Config)
		b, _ := runCaptured(t, s.Config)
		require.Equal(t, a.recs, b.recs, s.Name)
		cfg := s.Config
		cfg.Seed++
		c, _ := runCaptured(t, cfg)
		assert.NotEqual(t, a.recs, c.recs, s.Name)
	}
}
