package model

import (
	"time"
)

// Scenario is a built-in, fully scripted run with the outcome the reference
// (zk-semantics §3.2) predicts for it.
type Scenario struct {
	Name        string
	Description string
	Expect      string // the client's watcher events, in order
	Config      Config
}

const long = 1000 * time.Hour // "for the whole run"

// Scenarios returns the built-in scenarios, sorted by name.
func Scenarios() []Scenario {
	// The reference's experiments ran on loopback: replies come back within
	// the same millisecond, so the read-timeout check wins the tie against a
	// second ping. A LAN's 0.1 ms one-way delay behaves the same.
	lan := Fixed(100 * time.Microsecond)
	single := func(seed uint64, horizon time.Duration, faults ...Fault) Config {
		return Config{Seed: seed, Horizon: horizon, Clients: 1, Servers: 1, Faults: faults, Network: NetworkConfig{Latency: &lan}}
	}
	unplug := func(d time.Duration) Fault {
		return Fault{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: Both},
			Arrival: Scripted, At: []time.Duration{30 * time.Second}, Phase: 1500 * time.Millisecond, PhaseSet: true,
			Duration: Fixed(d)}
	}
	failover := func(refusing bool, blip Direction) Config {
		c := Config{Seed: 1, Horizon: 2 * time.Minute, Clients: 1, Servers: 3, Leader: 0,
			Client: ClientConfig{Hosts: []int{0, 1, 2}, KeepHostOrder: true}, Network: NetworkConfig{Latency: &lan}}
		for _, s := range []int{1, 2} {
			if refusing {
				c.Faults = append(c.Faults, Fault{Kind: ServerCrash, Target: Target{Client: AllClients, Server: s},
					Arrival: Scripted, At: []time.Duration{0}, Duration: Fixed(long)})
			} else {
				c.Faults = append(c.Faults, Fault{Kind: Outage, Target: Target{Client: AllClients, Server: s, Direction: Both},
					Arrival: Scripted, At: []time.Duration{0}, Duration: Fixed(long)})
			}
		}
		c.Faults = append(c.Faults, Fault{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: blip},
			Arrival: Scripted, At: []time.Duration{30 * time.Second}, Phase: 500 * time.Millisecond, PhaseSet: true,
			Duration: Fixed(7 * time.Second)})
		return c
	}
	return []Scenario{
		{
			Name:        "seed-cable-unplug",
			Description: "T = 10 s, tick 2 s: the client's cable is out for 11 s, starting 1.5 s after a touch. It times out, reconnects once the cable is back, and learns the session expired.",
			Expect:      "SyncConnected, Disconnected, Expired",
			Config:      single(1, 2*time.Minute, unplug(11*time.Second)),
		},
		{
			Name:        "seed-cable-unplug-5s",
			Description: "The same unplug for 5 s: TCP retransmits the lost ping after the cable is back and the session survives.",
			Expect:      "SyncConnected",
			Config:      single(1, 2*time.Minute, unplug(5*time.Second)),
		},
		{
			Name:        "seed-server-restart",
			Description: "T = 10 s, standalone server killed at 30 s and restarted 30 min later: the client retries every 1.1-2.1 s and resumes the same session, whose deadline restarts with the server.",
			Expect:      "SyncConnected, Disconnected, SyncConnected",
			Config: single(1, 32*time.Minute, Fault{Kind: ServerCrash, Target: Target{Client: AllClients, Server: 0},
				Arrival: Scripted, At: []time.Duration{30 * time.Second}, Duration: Fixed(30 * time.Minute)}),
		},
		{
			Name:        "seed-slow-failover",
			Description: "Hosts [live, black-holed, black-holed], T = 10 s: a 7 s server-to-client blip makes the client time out; it waits ct = 3.33 s on each dead host and reaches the live one after the session expired.",
			Expect:      "SyncConnected, Disconnected, Expired",
			Config:      failover(false, ServerToClient),
		},
		{
			Name:        "seed-slow-failover-refusing",
			Description: "The same host list, but the two dead hosts refuse connections at once: the client is back on the live host within about 2 s and the session survives.",
			Expect:      "SyncConnected, Disconnected, SyncConnected",
			Config:      failover(true, ServerToClient),
		},
		{
			Name:        "seed-slow-failover-symmetric",
			Description: "Black-holed hosts and a symmetric 7 s blip: the ping the client sent into the outage stays in its closed socket's send queue; the kernel retransmits it after the blip and it touches the session (the orphaned-socket path), so the session survives the slow failover.",
			Expect:      "SyncConnected, Disconnected, SyncConnected",
			Config:      failover(false, Both),
		},
	}
}

// ScenarioByName returns the named built-in scenario.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
