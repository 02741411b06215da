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
	// The reference's host-list experiment: a standalone server and two
	// more addresses in the connect string where nothing listens (closed
	// ports refuse at once) or whose packets are dropped (black-holed).
	failover := func(refusing bool, blip Direction) Config {
		c := Config{Seed: 1, Horizon: 2 * time.Minute, Clients: 1, Servers: 1,
			Client: ClientConfig{Hosts: []int{0, 1, 2}, AbsentHosts: 2, KeepHostOrder: true}, Network: NetworkConfig{Latency: &lan}}
		if !refusing {
			for _, s := range []int{1, 2} {
				c.Faults = append(c.Faults, Fault{Kind: Outage, Target: Target{Client: AllClients, Server: s, Direction: Both},
					Arrival: Scripted, At: []time.Duration{0}, Duration: Fixed(long)})
			}
		}
		c.Faults = append(c.Faults, Fault{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: blip},
			Arrival: Scripted, At: []time.Duration{30 * time.Second}, Phase: 500 * time.Millisecond, PhaseSet: true,
			Duration: Fixed(7 * time.Second)})
		return c
	}
	// A three-server ensemble on a LAN, leader server 0, the client's
	// connect string in the given order.
	ensemble := func(t time.Duration, hosts []int, faults ...Fault) Config {
		return Config{Seed: 1, Horizon: 2 * time.Minute, Clients: 1, Servers: 3, Leader: 0,
			Client:  ClientConfig{SessionTimeout: t, Hosts: hosts, KeepHostOrder: true},
			Network: NetworkConfig{Latency: &lan}, Faults: faults}
	}
	at := func(k FaultKind, server int, start, d time.Duration) Fault {
		return Fault{Kind: k, Target: Target{Client: AllClients, Server: server}, Arrival: Scripted,
			At: []time.Duration{start}, Duration: Fixed(d)}
	}
	partitioned := at(Partition, TheLeader, 30*time.Second, 60*time.Second)
	return []Scenario{
		{
			Name:        "leader-crash",
			Description: "3 servers, T = 10 s, the client on follower 1: the leader is killed at 30 s for 60 s. The followers see its sockets close at once, drop their clients and elect server 2 (highest zxid, then id) within about 0.3 s; the client reconnects to the new leader with the same session, which the new tracker touched at its start. The old leader rejoins as a follower.",
			Expect:      "SyncConnected, Disconnected, SyncConnected",
			Config:      ensemble(10*time.Second, []int{1, 2, 0}, at(ServerCrash, TheLeader, 30*time.Second, 60*time.Second)),
		},
		{
			Name:        "leader-partitioned",
			Description: "3 servers, T = 10 s, the client on the leader: the leader's quorum links are cut at 30 s for 60 s (client paths stay up). The followers hear nothing for syncLimit·tick = 10 s and elect server 2; the leader fails its quorum check about as long after, shuts down and drops the client, which reconnects to a follower. After the heal the old leader rejoins at its next round of notifications.",
			Expect:      "SyncConnected, Disconnected, SyncConnected",
			Config:      ensemble(10*time.Second, []int{0, 1, 2}, partitioned),
		},
		{
			Name:        "leader-pause",
			Description: "3 servers, tick 2 s, T = 4 s, the client on follower 1: the leader freezes for 6 s (a GC pause shorter than syncLimit·tick = 10 s). The follower keeps answering the client's pings but forwards its touches only in replies to the leader's pings; on resume the leader's expirer runs first and expires the session, the follower drops the client, and its reconnect learns Expired: a session lost without a disconnection before it.",
			Expect:      "SyncConnected, Disconnected, Expired",
			Config:      ensemble(4*time.Second, []int{1, 2, 0}, at(ServerPause, TheLeader, 30*time.Second, 6*time.Second)),
		},
		{
			Name:        "quorum-loss",
			Description: "3 servers, T = 10 s, the client on the leader: both followers are killed at 30 s for 30 s. The leader fails its next quorum check, shuts down and drops the client; nothing serves until the followers return and an election completes; the new tracker re-touches the session and the client, which kept retrying, resumes it.",
			Expect:      "SyncConnected, Disconnected, SyncConnected",
			Config: ensemble(10*time.Second, []int{0, 1, 2}, at(ServerCrash, 1, 30*time.Second, 30*time.Second),
				at(ServerCrash, 2, 30*time.Second, 30*time.Second)),
		},
		{
			Name:        "rolling-restart",
			Description: "3 servers, T = 10 s, the client on follower 1: a rolling restart at 30 s stops each server for 10 s, followers first and the leader last, waiting until each restarted server serves again. Each stop of the client's server drops it (first on server 1, then on server 2 where it went, then on the leader where it went next, whose stop drops every client); the client reconnects each time with the same session.",
			Expect:      "SyncConnected, Disconnected, SyncConnected, Disconnected, SyncConnected, Disconnected, SyncConnected",
			Config: ensemble(10*time.Second, []int{1, 2, 0}, Fault{Kind: RollingRestart, Target: Target{Client: AllClients, Server: AllServers},
				Arrival: Scripted, At: []time.Duration{30 * time.Second}, Duration: Fixed(10 * time.Second)}),
		},
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
