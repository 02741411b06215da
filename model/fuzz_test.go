package model

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scriptConfig decodes a random scripted fault schedule: the first bytes
// choose the ensemble, the client and the network, and every following 8
// bytes one scripted fault (kind, target, start, duration, phase): outages,
// client pauses, crashes and pauses of any server (by index, "the leader",
// "a follower"), partitions of the quorum links, rolling restarts. Every
// byte string decodes to some Config; fuzzed bytes therefore explore
// configurations, not the decoder.
func scriptConfig(seed uint64, script []byte) Config {
	b := func(i int) byte {
		if i < len(script) {
			return script[i]
		}
		return 0
	}
	cfg := Config{Seed: seed, Horizon: 3 * time.Minute}
	cfg.Clients = 1 + int(b(0)%3)
	cfg.Servers = 1 + int(b(1)%5)
	cfg.Leader = int(b(2)) % cfg.Servers
	cfg.Server.TickTime = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second}[b(3)%5]
	cfg.Client.SessionTimeout = []time.Duration{0, time.Second, 4 * time.Second, 6 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute}[b(4)%8]
	cfg.Client.Version = Version(b(5) % 3)
	if b(5)&0x80 != 0 {
		cfg.Client.FixedReconnect = time.Duration(b(5)&0x7f) * 50 * time.Millisecond
	}
	flags := b(6)
	cfg.Network.Transport = Transport(flags & 1)
	cfg.Server.NoBucketRounding = flags&2 != 0
	cfg.Network.SYN = SYNSchedule(flags >> 2 & 1)
	cfg.Network.NoOrphanRetransmit = flags&8 != 0
	cfg.Server.NoConnReaper = flags&16 != 0
	cfg.Client.KeepHostOrder = flags&32 != 0
	cfg.DeadClientProbe = flags&64 != 0
	cfg.Network.NoTailLossProbe = flags&128 != 0
	if r := b(7); r&1 != 0 {
		l := Law{Kind: LawExponential, Mean: float64(1 + r>>1)}
		cfg.Client.RequestInterval = &l
	}
	cfg.Network.SYNRetries = int(b(8)>>2) % 8 // 0: the default, 6
	switch b(8) % 4 {
	case 0:
		l := Fixed(100 * time.Microsecond)
		cfg.Network.Latency = &l
	case 1:
		l := Fixed(time.Millisecond)
		cfg.Network.Latency = &l
	case 2:
		l := Law{Kind: LawUniform, Min: 0.0001, Max: 0.005}
		cfg.Network.Latency = &l
	}
	for i := 9; i+8 <= len(script) && len(cfg.Faults) < 8; i += 8 {
		p := script[i : i+8]
		f := Fault{Kind: FaultKind(p[0] % 6), Arrival: Scripted, Target: Target{Client: AllClients, Server: AllServers}}
		if c := int(p[1] & 0x7f); c%4 != 0 {
			f.Target.Client = c % cfg.Clients
		} else {
			f.Target.Shared = p[1]&0x80 != 0
		}
		needsOne := (f.Kind == ServerCrash || f.Kind == ServerPause) && cfg.Servers > 1 || f.Kind == Partition
		switch s := int(p[2]); {
		case f.Kind == RollingRestart:
		case s >= 0xf0:
			f.Target.Server = TheLeader
		case s >= 0xe0 && cfg.Servers > 1:
			f.Target.Server = AFollower
		case s%4 != 0 || needsOne:
			f.Target.Server = s % cfg.Servers
		}
		f.Target.ClientPaths = f.Kind == Partition && p[3]&0x40 != 0
		f.LeaderFirst = f.Kind == RollingRestart && p[3]&0x40 != 0
		if f.Kind == Outage {
			f.Target.Direction = Direction(p[3] % 3)
		}
		f.At = []time.Duration{time.Duration(uint16(p[4])<<8|uint16(p[5])) * 3 * time.Millisecond}
		f.Duration = Fixed(time.Duration(p[6])*250*time.Millisecond + time.Duration(p[7])*time.Millisecond)
		if p[3]&0x80 != 0 && (f.Target.Client != AllClients || f.Target.Shared) {
			f.Phase, f.PhaseSet = time.Duration(p[7]%40)*100*time.Millisecond, true
		}
		cfg.Faults = append(cfg.Faults, f)
	}
	return cfg
}

// FuzzModel runs random scripted fault schedules with the invariant checker
// on: no schedule may panic, violate an invariant, give counters that
// contradict each other, or give different Stats when run twice.
func FuzzModel(f *testing.F) {
	// The seed scenarios' shapes: a cable unplug of 11 s and of 5 s anchored
	// 1.5 s after a touch, a server restart, a failover with two dead
	// followers, a shared blip on three clients, a long client pause.
	f.Add(uint64(1), []byte{0, 0, 0, 3, 4, 1, 0, 0, 0 /* unplug */, 0, 1, 0, 0x80, 0x27, 0x10, 44, 15})
	f.Add(uint64(1), []byte{0, 0, 0, 3, 4, 1, 0, 0, 0, 0, 1, 0, 0x80, 0x27, 0x10, 20, 15})
	f.Add(uint64(7), []byte{0, 0, 0, 3, 4, 1, 0, 0, 1 /* crash */, 1, 0, 0, 0, 0x27, 0x10, 40, 0})
	f.Add(uint64(3), []byte{0, 2, 0, 3, 4, 1, 32, 0, 0,
		1, 0, 1, 0, 0, 0, 255, 0, 1, 0, 2, 0, 0, 0, 255, 0, 0, 1, 0, 0x81, 0x27, 0x10, 28, 5})
	f.Add(uint64(5), []byte{2, 2, 1, 3, 5, 2, 1, 3, 2, 0, 0x80, 0, 0, 0x13, 0x88, 48, 0})
	f.Add(uint64(9), []byte{1, 0, 0, 2, 6, 0, 2, 0, 1, 2, 0, 0, 0, 0x30, 0x00, 120, 7})
	f.Add(uint64(11), []byte{0, 1, 1, 4, 7, 0x85, 4, 1, 3, 0, 1, 2, 1, 0x10, 0, 30, 30, 1, 0, 1, 0, 0x20, 0, 16, 0})
	// Ensembles: a leader crash, a partitioned leader with its client paths
	// cut, a leader pause, two follower crashes (quorum loss), a rolling
	// restart of five servers.
	f.Add(uint64(2), []byte{1, 2, 0, 3, 4, 0, 32, 0, 0, 1, 0, 0xf0, 0, 0x27, 0x10, 240, 0})
	f.Add(uint64(4), []byte{2, 2, 1, 3, 4, 0, 0, 0, 0, 3, 0, 0xf0, 0x40, 0x27, 0x10, 240, 0})
	f.Add(uint64(6), []byte{0, 2, 0, 3, 2, 0, 32, 0, 0, 4, 0, 0xf0, 0, 0x27, 0x10, 24, 0})
	f.Add(uint64(8), []byte{0, 2, 0, 3, 4, 0, 0, 0, 0, 1, 0, 1, 0, 0x27, 0x10, 120, 0, 1, 0, 2, 0, 0x27, 0x10, 120, 0})
	f.Add(uint64(10), []byte{4, 4, 2, 3, 5, 0, 0, 0, 0, 5, 0, 0, 0, 0x27, 0x10, 40, 0})
	f.Fuzz(func(t *testing.T, seed uint64, script []byte) {
		cfg := scriptConfig(seed, script)
		if err := cfg.Defaults().Validate(); err != nil {
			return // not a configuration the model accepts: Validate says why
		}
		st, err := Run(cfg, Options{Check: true})
		require.NoError(t, err, "seed=%d script=%x", seed, script)
		require.LessOrEqual(t, st.ExpiredExposures, st.Exposures)
		require.LessOrEqual(t, st.ClientsExpired, st.Clients)
		require.LessOrEqual(t, st.ClientsExpired, st.Expiries)
		require.LessOrEqual(t, st.DisconnectedTime, st.ObservedTime)
		require.LessOrEqual(t, st.ObservedTime, time.Duration(st.Clients)*cfg.Horizon)
		for _, ep := range st.SharedEpisodes {
			require.LessOrEqual(t, ep.Expired, ep.Hit)
			require.LessOrEqual(t, ep.Hit, st.Clients)
		}
		again, err := Run(cfg, Options{Check: true})
		require.NoError(t, err)
		require.Equal(t, st, again, "same config, same stats")
	})
}

// A recycled world runs exactly like a new one: random configurations run
// one after another through one recycled world give the counters of fresh
// worlds, with the invariant checker on.
func TestRecycledWorldRunsLikeANewOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	var w *World
	configs := []Config{Canonical(30, 20*time.Minute)}
	for range 60 {
		script := make([]byte, 8+8*rng.IntN(4))
		for i := range script {
			script[i] = byte(rng.Uint32())
		}
		configs = append(configs, scriptConfig(rng.Uint64(), script))
	}
	configs = append(configs, Canonical(5, 10*time.Minute))
	for i, cfg := range configs {
		want, err := Run(cfg, Options{Check: true})
		require.NoError(t, err, "config %d", i)
		w, err = Recycle(w, cfg, Options{Check: true})
		require.NoError(t, err, "config %d", i)
		got, err := w.Run()
		require.NoError(t, err, "config %d", i)
		require.Equal(t, want, got, "config %d (seed %d)", i, cfg.Seed)
	}
}
