package model

import (
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
	latency   *Sampler
	fixed     time.Duration // latency when the law is fixed (no draw)
	isFixed   bool
}

type pathState struct {
	down      int32      // overlapping cuts in force
	lastStart clock.Time // start of the latest cut
}

func newNetwork(clients, servers int, latency *Sampler) *Network {
	n := &Network{
		perClient: make([][2]pathState, clients),
		perServer: make([][2]pathState, servers),
		perPair:   map[[2]int32]*[2]pathState{},
		latency:   latency,
	}
	if latency.law.Kind == LawFixed {
		n.isFixed, n.fixed = true, latency.Draw()
	}
	n.everStart = -1
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
		}
	}
}

// Down reports whether the path client<->server is cut in direction d.
func (n *Network) down(client, server int32, d dir) bool {
	if n.active == 0 {
		return false
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
	if n.active == 0 && n.everStart < sent {
		return false // no cut now, and none began while the packet flew
	}
	return n.down(client, server, d) || n.lastStart(client, server, d) >= sent
}

// delay draws one packet's one-way latency.
func (n *Network) delay() time.Duration {
	if n.isFixed {
		return n.fixed
	}
	return max(n.latency.Draw(), 0)
}
