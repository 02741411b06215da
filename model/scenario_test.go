package model

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scenario(t *testing.T, name string) Scenario {
	t.Helper()
	s, ok := ScenarioByName(name)
	require.True(t, ok, name)
	return s
}

// The seed's experiments (zk-semantics §3.2), as exact watcher-event sequences.
func TestSeedScenarios(t *testing.T) {
	tests := []struct {
		name string
		want []string
		// sessions: the session id of each event
		sessions []string
	}{
		{"seed-server-restart", []string{"SyncConnected", "Disconnected", "SyncConnected"}, []string{"0x1", "0x1", "0x1"}},
		{"seed-cable-unplug", []string{"SyncConnected", "Disconnected", "Expired", "SyncConnected"}, []string{"0x1", "0x1", "0x1", "0x2"}},
		// The tail loss probe schedule retransmits the lost ping 36 ms after
		// the cable is back, 130 ms before the read timeout: no event at all.
		{"seed-cable-unplug-5s", []string{"SyncConnected"}, []string{"0x1"}},
		{"seed-slow-failover", []string{"SyncConnected", "Disconnected", "Expired", "SyncConnected"}, []string{"0x1", "0x1", "0x1", "0x2"}},
		{"seed-slow-failover-refusing", []string{"SyncConnected", "Disconnected", "SyncConnected"}, []string{"0x1", "0x1", "0x1"}},
		{"seed-slow-failover-symmetric", []string{"SyncConnected", "Disconnected", "SyncConnected"}, []string{"0x1", "0x1", "0x1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := scenario(t, tc.name)
			c, _ := runCaptured(t, s.Config)
			var sessions []string
			for _, r := range c.filter("client-0", "state") {
				sessions = append(sessions, r.field("session"))
			}
			assert.Equal(t, tc.want, c.states("client-0"), "seed=%d", s.Config.Seed)
			assert.Equal(t, tc.sessions, sessions, "seed=%d", s.Config.Seed)
		})
	}
}

// The outcomes hold whatever the random parts (bucket phase, sleeps) draw.
func TestSeedScenariosAcrossSeeds(t *testing.T) {
	n := uint64(100)
	if testing.Short() {
		n = 20
	}
	for _, tc := range []struct {
		name    string
		expired bool
	}{
		{"seed-server-restart", false},
		{"seed-cable-unplug", true},
		{"seed-cable-unplug-5s", false},
		{"seed-slow-failover", true},
		{"seed-slow-failover-refusing", false},
		{"seed-slow-failover-symmetric", false},
	} {
		cfg := scenario(t, tc.name).Config
		for seed := range n {
			cfg.Seed = seed
			c, st := runCaptured(t, cfg)
			require.Equal(t, tc.expired, st.Expiries > 0, "%s seed=%d states=%v", tc.name, seed, c.states("client-0"))
		}
	}
}

// Scenario (b) with a network interface that is down (connects fail at once)
// has the same outcome; the unplug of 11 s at a random phase almost always
// expires, and 12 s (T + k) always does.
func TestCableUnplugAtRandomPhase(t *testing.T) {
	base := scenario(t, "seed-cable-unplug").Config
	expired := 0
	const n = 200
	for seed := range uint64(n) {
		cfg := base
		cfg.Seed = seed
		f := cfg.Faults[0]
		f.PhaseSet = false
		f.Duration = Fixed(12 * time.Second)
		cfg.Faults = []Fault{f}
		_, st := runCaptured(t, cfg)
		require.Equal(t, 1, st.Expiries, "D = T + k must always expire, seed=%d", seed)

		f.Duration = Fixed(11 * time.Second)
		cfg.Faults = []Fault{f}
		_, st = runCaptured(t, cfg)
		expired += st.Expiries
	}
	assert.Greater(t, expired, n*3/4, "11 s unplugs at random phases: %d of %d expired", expired, n)
}
