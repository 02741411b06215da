package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"hbsim/clock"
	"hbsim/sim"
)

// faultProc is one fault process: a Fault applied to one target. A fault on
// every client with independent episodes becomes one process per client.
type faultProc struct {
	f       *Fault
	dist    distuv.Rander // the duration law drawing from dur; nil for fixed and empirical laws
	arr     rand.PCG      // arrival gaps
	dur     rand.PCG      // durations
	client  int           // a client index, or AllClients for a shared episode
	crashes int32         // overlapping crash episodes in force (server crash)
}

// draw is the next episode's length, at most MaxDuration (an episode longer
// than the rest of the run lasts to the horizon); bad is a draw that was not
// a finite number, 0 when the draw was one.
func (p *faultProc) draw() (d time.Duration, bad float64) {
	switch l := &p.f.Duration; l.Kind {
	case LawFixed:
		return capDraw(l.Value), 0
	case LawEmpirical:
		return capDraw(l.Samples[rand.New(&p.dur).IntN(len(l.Samples))]), 0
	}
	x := p.dist.Rand()
	if !(x < math.Inf(1)) {
		bad = x
	}
	return capDraw(x), bad
}

func (w *World) buildFaults() {
	n := 0
	for fi := range w.cfg.Faults {
		f := &w.cfg.Faults[fi]
		if f.Kind != ServerCrash && f.Target.Client == AllClients && !f.Target.Shared {
			n += w.cfg.Clients
		} else {
			n++
		}
	}
	// Built in place: each process's distribution points at its own stream.
	w.faults = resize(w.faults, 0, n)
	for fi := range w.cfg.Faults {
		f := &w.cfg.Faults[fi]
		targets := []int{f.Target.Client}
		if f.Kind != ServerCrash && f.Target.Client == AllClients && !f.Target.Shared {
			targets = targets[:0]
			for c := range w.cfg.Clients {
				targets = append(targets, c)
			}
		}
		for _, c := range targets {
			key := uint64(fi)<<32 | uint64(c+1)
			w.faults = append(w.faults, faultProc{f: f, client: c,
				arr: *sim.NewSource(w.cfg.Seed, "fault-arrivals", key),
				dur: *sim.NewSource(w.cfg.Seed, "fault-durations", key)})
			p := &w.faults[len(w.faults)-1]
			p.dist = f.Duration.Distribution(&p.dur)
			w.scheduleFirst(int32(len(w.faults) - 1))
		}
	}
}

// fault is the index of p's Fault in the configuration.
func (p *faultProc) fault(w *World) int {
	for i := range w.cfg.Faults {
		if &w.cfg.Faults[i] == p.f {
			return i
		}
	}
	return -1
}

func (w *World) scheduleFirst(pi int32) {
	p := &w.faults[pi]
	end := clock.Zero.Add(w.cfg.Horizon)
	switch p.f.Arrival {
	case Scripted:
		kind := evFaultStart
		if p.f.PhaseSet {
			kind = evFaultArm
		}
		for _, at := range p.f.At {
			if t := clock.Zero.Add(at); t <= end {
				w.eng.Post(sim.Event{At: t, Kind: kind, A: pi})
			}
		}
	case Poisson:
		w.scheduleAt(pi, clock.Zero.Add(p.f.Offset).Add(w.poissonGap(p)))
	case Periodic:
		w.scheduleAt(pi, clock.Zero.Add(p.f.Offset))
	}
}

func (w *World) poissonGap(p *faultProc) time.Duration {
	return capDraw(rand.New(&p.arr).ExpFloat64() * p.f.Every.Seconds())
}

func (w *World) scheduleAt(pi int32, t clock.Time) {
	if t <= clock.Zero.Add(w.cfg.Horizon) {
		w.eng.Post(sim.Event{At: t, Kind: evFaultStart, A: pi})
	}
}

// onFaultArm waits for the target session's next tracker touch; the episode
// then starts Phase after it (zk-semantics §3.1's φ).
func (w *World) onFaultArm(pi int32) {
	c := w.faults[pi].client
	if c == AllClients {
		c = 0
	}
	x := w.clients[c].more()
	x.anchors = append(x.anchors, pi)
	w.anchored++
}

// touched runs after every successful tracker touch.
func (w *World) touched(now clock.Time, id int64) {
	if w.anchored == 0 {
		return
	}
	x := w.clients[w.sessions[id].client].extra
	if x == nil || len(x.anchors) == 0 {
		return
	}
	for _, pi := range x.anchors {
		w.eng.Post(sim.Event{At: now.Add(w.faults[pi].f.Phase), Kind: evFaultStart, A: pi})
	}
	w.anchored -= len(x.anchors)
	x.anchors = x.anchors[:0]
}

func (w *World) onFaultStart(pi int32) {
	p := &w.faults[pi]
	now := w.eng.Now()
	d, bad := p.draw()
	f := p.f
	if bad != 0 && w.violation == nil {
		w.violation = &LawError{Where: "duration", Fault: p.fault(w), Law: f.Duration, Value: bad}
	}
	switch f.Kind {
	case Outage:
		w.net.cut(now, p.client, f.Target.Server, f.Target.Direction, +1)
		if w.tracer != nil {
			w.tracef("network", "outage-start", "clients=%s servers=%s direction=%s duration=%s",
				targetName(p.client), targetName(f.Target.Server), f.Target.Direction, Duration(d))
		}
		w.exposeClients(p.client, now, now.Add(d), p.client == AllClients)
	case ClientPause:
		w.forClients(p.client, func(ci int32) {
			cl := &w.clients[ci]
			cl.paused++
			if w.tracer != nil {
				w.tracef(cl.name(), "pause-start", "duration=%s", Duration(d))
			}
		})
		w.exposeClients(p.client, now, now.Add(d), p.client == AllClients)
	case ServerCrash:
		s := f.Target.Server
		if s == AllServers {
			s = 0
		}
		p.crashes++
		if p.crashes == 1 && w.servers[s].up {
			ep := w.newEpisode()
			for i := range w.clients {
				if c := w.clients[i].conn; c != 0 && !w.clients[i].probe && w.conns[c].server == int32(s) {
					w.expose(int32(i), now, now.Add(d), ep)
				}
			}
			w.crashServer(int32(s), d)
		}
	}
	w.eng.Post(sim.Event{At: now.Add(d), Kind: evFaultEnd, A: pi})
	switch f.Arrival {
	case Poisson:
		w.scheduleAt(pi, now.Add(w.poissonGap(p)))
	case Periodic:
		w.scheduleAt(pi, now.Add(f.Every))
	}
}

func (w *World) onFaultEnd(pi int32, _ int32) {
	p := &w.faults[pi]
	f := p.f
	now := w.eng.Now()
	switch f.Kind {
	case Outage:
		w.net.cut(now, p.client, f.Target.Server, f.Target.Direction, -1)
		if w.tracer != nil {
			w.tracef("network", "outage-end", "clients=%s servers=%s direction=%s", targetName(p.client), targetName(f.Target.Server), f.Target.Direction)
		}
		if w.cfg.Network.Transport == Ideal {
			w.onHeal()
		}
	case ClientPause:
		w.forClients(p.client, w.resumeClient)
	case ServerCrash:
		p.crashes--
		s := f.Target.Server
		if s == AllServers {
			s = 0
		}
		if p.crashes == 0 && !w.servers[s].up {
			w.startServer(now, int32(s), true)
		}
	}
}

func targetName(i int) string {
	if i < 0 {
		return "all"
	}
	return fmt.Sprint(i)
}

// forClients calls f for the target client, or every counted client.
func (w *World) forClients(target int, f func(ci int32)) {
	if target != AllClients {
		f(int32(target))
		return
	}
	for i := range w.cfg.Clients {
		f(int32(i))
	}
}

func (w *World) exposeClients(target int, start, end clock.Time, shared bool) {
	ep := -1
	if shared {
		ep = w.newEpisode()
	}
	w.forClients(target, func(ci int32) { w.expose(ci, start, end, ep) })
}

func (w *World) newEpisode() int {
	w.stats.SharedEpisodes = append(w.stats.SharedEpisodes, SharedEpisode{})
	return len(w.stats.SharedEpisodes) - 1
}

// expose records that a fault episode hit client ci during [start, end);
// episode is its index in Stats.SharedEpisodes, or -1.
func (w *World) expose(ci int32, start, end clock.Time, episode int) {
	cl := &w.clients[ci]
	if cl.probe {
		return
	}
	w.stats.Exposures++
	if episode >= 0 {
		w.stats.SharedEpisodes[episode].Hit++
	}
	cl.exposure = exposure{active: true, start: start, end: end, episode: episode}
}

// attribute counts an expiry against the client's latest fault episode when
// it falls between the episode's start and its end plus T + k + 5 s (time to
// detect and reconnect). Overlapping episodes of one client share one window.
func (w *World) attribute(cl *clientSlot, now clock.Time) {
	e := &cl.exposure
	if !e.active || e.counted || now < e.start {
		return
	}
	slack := w.cfg.Server.Negotiate(w.cfg.Client.SessionTimeout) + w.cfg.Server.TickTime + 5*time.Second
	if now <= e.end.Add(slack) {
		e.counted = true
		w.stats.ExpiredExposures++
		if e.episode >= 0 {
			w.stats.SharedEpisodes[e.episode].Expired++
		}
	}
}

func (w *World) resumeClient(ci int32) {
	cl := &w.clients[ci]
	cl.paused--
	if cl.paused > 0 {
		return
	}
	if w.tracer != nil {
		w.trace(cl.name(), "pause-end", "")
	}
	var in []deferredInput
	if cl.extra != nil {
		in = cl.extra.deferred
		cl.extra.deferred = nil
	}
	for _, x := range in {
		w.clientInput(ci, x)
	}
	if cl.wakeDue {
		cl.wakeDue = false
		w.clientEffects(ci, cl.c.OnWake(w.eng.Now()))
	}
}

// crashServer kills server s: connections reset (the kernel sends FIN to
// every client), the tracker's volatile state is lost.
func (w *World) crashServer(s int32, down time.Duration) {
	srv := &w.servers[s]
	srv.up = false
	if w.tracer != nil {
		w.tracef(srv.name, "server-crashed", "restart-in=%s", Duration(down))
	}
	for id := range w.conns {
		cn := &w.conns[id]
		if cn.server == s && cn.serverOpen && cn.serverIncarnation == srv.incarnation {
			cn.serverOpen = false
			w.send(int32(id), s2c, Message{Kind: MsgClose})
		}
	}
	srv.incarnation++
	srv.tracker = nil
	for i := range srv.deadlines {
		w.eng.Stop(srv.deadlines[i])
	}
	srv.deadlines = srv.deadlines[:0]
	w.eng.Stop(srv.expirer)
}

// scheduleProbeCrash places the dead-client probe's crash uniformly where its
// session has time to expire before the horizon.
func (w *World) scheduleProbeCrash() {
	r := sim.Stream(w.cfg.Seed, "probe", 0)
	t := w.cfg.Server.Negotiate(w.cfg.Client.SessionTimeout)
	lo := min(w.cfg.Horizon/4, time.Minute)
	hi := w.cfg.Horizon - t - 2*w.cfg.Server.TickTime - 5*time.Second
	if hi <= lo {
		return
	}
	at := lo + time.Duration(r.Int64N(int64(hi-lo)))
	w.eng.Post(sim.Event{At: clock.Zero.Add(at), Kind: evProbeCrash})
}

func (w *World) onProbeCrash() {
	ci := int32(len(w.clients) - 1)
	cl := &w.clients[ci]
	cl.crashedAt = w.eng.Now()
	if w.tracer != nil {
		w.trace(cl.name(), "probe-crash", "session="+hexID(cl.c.SessionID()))
	}
	w.clientEffects(ci, cl.c.Crash(w.eng.Now()))
}
