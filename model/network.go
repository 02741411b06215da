package model

import (
	"math"
	"time"

	"hbsim/clock"
)

// dir is the direction of a packet on a client<->server path.
type dir uint8

const (
	c2s dir = 0 // client to server
	s2c dir = 1 // server to client
)

// Network is the state of every client<->server path: which are cut, and
// since when. Outages are layered so that cutting "every client" or "every
// path to server 2" costs O(1): a path is down when any layer covering it is
// down. It is pure data; the wiring asks it, at a packet's arrival, whether
// the packet was lost (the path was down at arrival, or a cut began while the
// packet was in flight).
type Network struct {
	global    [2]pathState
	perClient [][2]pathState
	perServer [][2]pathState
	perPair   map[[2]int32]*[2]pathState
	active    int32      // cuts in force anywhere (fast path: none)
	everStart clock.Time // start of the latest cut anywhere, -1 if none
	wide      int32      // cuts in force on a global, per-server or per-pair layer
	clientCut []uint64   // bit c: client c's own layer is cut in some direction
	recent    [16]cutStart
	recentN   uint64 // cut starts recorded in recent (a ring)
	latency   *Sampler
	fixed     time.Duration // latency when the law is fixed (no draw)
	isFixed   bool
	rtt       time.Duration // meanRTT, once asked for; -1 before
}

// cutStart is one cut's start, kept so that a packet's loss check can ask
// "did a cut covering my path begin while I flew?" without the layers.
type cutStart struct {
	at             clock.Time
	client, server int32 // AllClients / AllServers for wide cuts
	dirs           uint8 // bit 0 client-to-server, bit 1 server-to-client
}

type pathState struct {
	down      int32      // overlapping cuts in force
	lastStart clock.Time // start of the latest cut
}

// newNetwork returns a network with every path up, reusing old's memory
// (nil: none).
func newNetwork(old *Network, clients, servers int, latency *Sampler) *Network {
	n := old
	if n == nil {
		n = &Network{perPair: map[[2]int32]*[2]pathState{}}
	}
	clear(n.perPair)
	*n = Network{
		perClient: resize(n.perClient, clients, 0),
		perServer: resize(n.perServer, servers, 0),
		perPair:   n.perPair,
		clientCut: resize(n.clientCut, (clients+63)/64, 0),
		latency:   latency,
	}
	if latency.law.Kind == LawFixed {
		n.isFixed, n.fixed = true, latency.Draw()
	}
	n.everStart, n.rtt = -1, -1
	for i := range n.global {
		n.global[i].lastStart = -1
	}
	for i := range n.perClient {
		n.perClient[i][0].lastStart, n.perClient[i][1].lastStart = -1, -1
	}
	for i := range n.perServer {
		n.perServer[i][0].lastStart, n.perServer[i][1].lastStart = -1, -1
	}
	return n
}

// layer returns the layer a target cuts.
func (n *Network) layer(client, server int) *[2]pathState {
	switch {
	case client == AllClients && server == AllServers:
		return &n.global
	case server == AllServers:
		return &n.perClient[client]
	case client == AllClients:
		return &n.perServer[server]
	}
	k := [2]int32{int32(client), int32(server)}
	p, ok := n.perPair[k]
	if !ok {
		p = &[2]pathState{{lastStart: -1}, {lastStart: -1}}
		n.perPair[k] = p
	}
	return p
}

// cut starts (delta=+1) or ends (delta=-1) an outage on the target's paths.
func (n *Network) cut(now clock.Time, client, server int, d Direction, delta int32) {
	l := n.layer(client, server)
	var dirs uint8
	for i := range l {
		if d == Both || (d == ClientToServer && i == int(c2s)) || (d == ServerToClient && i == int(s2c)) {
			l[i].down += delta
			n.active += delta
			if l[i].down < 0 {
				panic("model: outage ended twice")
			}
			if delta > 0 {
				l[i].lastStart = now
				n.everStart = now
			}
			dirs |= 1 << i
			if client == AllClients || server != AllServers {
				n.wide += delta
			}
		}
	}
	if client != AllClients && server == AllServers {
		p := &n.perClient[client]
		if p[0].down > 0 || p[1].down > 0 {
			n.clientCut[client/64] |= 1 << (client % 64)
		} else {
			n.clientCut[client/64] &^= 1 << (client % 64)
		}
	}
	if delta > 0 {
		n.recent[n.recentN%uint64(len(n.recent))] = cutStart{at: now, client: int32(client), server: int32(server), dirs: dirs}
		n.recentN++
	}
}

// Down reports whether the path client<->server is cut in direction d.
func (n *Network) down(client, server int32, d dir) bool {
	if n.active == 0 {
		return false
	}
	if n.wide == 0 { // only per-client cuts: one bit answers
		if int(client) >= len(n.perClient) || n.clientCut[client/64]&(1<<(client%64)) == 0 {
			return false
		}
		return n.perClient[client][d].down > 0
	}
	if n.global[d].down > 0 || n.perServer[server][d].down > 0 {
		return true
	}
	if int(client) < len(n.perClient) && n.perClient[client][d].down > 0 {
		return true
	}
	if len(n.perPair) > 0 {
		if p, ok := n.perPair[[2]int32{client, server}]; ok && p[d].down > 0 {
			return true
		}
	}
	return false
}

// downLayers is down without the fast paths: the definition.
func (n *Network) downLayers(client, server int32, d dir) bool {
	if n.global[d].down > 0 || n.perServer[server][d].down > 0 {
		return true
	}
	if int(client) < len(n.perClient) && n.perClient[client][d].down > 0 {
		return true
	}
	if p, ok := n.perPair[[2]int32{client, server}]; ok && p[d].down > 0 {
		return true
	}
	return false
}

func (n *Network) lastStart(client, server int32, d dir) clock.Time {
	t := max(n.global[d].lastStart, n.perServer[server][d].lastStart)
	if int(client) < len(n.perClient) {
		t = max(t, n.perClient[client][d].lastStart)
	}
	if len(n.perPair) > 0 {
		if p, ok := n.perPair[[2]int32{client, server}]; ok {
			t = max(t, p[d].lastStart)
		}
	}
	return t
}

// lost reports whether a packet sent at sent and arriving now was dropped.
func (n *Network) lost(now, sent clock.Time, client, server int32, d dir) bool {
	if n.down(client, server, d) {
		return true
	}
	if n.everStart < sent {
		return false // no cut began while the packet flew
	}
	// Walk the cuts that began since the packet left, newest first.
	k := uint64(len(n.recent))
	for i := uint64(0); i < min(n.recentN, k); i++ {
		c := &n.recent[(n.recentN-1-i)%k]
		if c.at < sent {
			return false
		}
		if c.dirs&(1<<d) != 0 && (c.client == AllClients || c.client == client) && (c.server == AllServers || c.server == server) {
			return true
		}
	}
	if n.recentN <= k {
		return false
	}
	return n.lastStart(client, server, d) >= sent // the ring was too short: ask the layers
}

// meanRTT is the round trip a kernel's smoothed RTT settles at: twice the
// latency law's mean, or twice its median when the mean is infinite (a heavy
// tail). It is worked out on first use, which only losses need.
func (n *Network) meanRTT() time.Duration {
	if n.rtt < 0 && n.isFixed {
		n.rtt = 2 * n.fixed
	}
	if n.rtt < 0 {
		l := n.latency.law
		m := l.MeanSeconds()
		if math.IsInf(m, 0) || math.IsNaN(m) {
			m = l.Quantile(0.5)
		}
		n.rtt = clock.FromSeconds(2 * max(m, 0))
	}
	return n.rtt
}

// delay draws one packet's one-way latency.
func (n *Network) delay() time.Duration {
	if n.isFixed {
		return n.fixed
	}
	return max(n.latency.Draw(), 0)
}
