package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
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
	targets *rand.Rand    // which follower "a follower" is
	set     []int32       // a partition's listed servers
	roll    rollState     // a rolling restart in progress
}

// rollState is a rolling restart's progress.
type rollState struct {
	active  bool
	waiting bool   // for current to serve again
	current int32  // the server restarted last
	done    []bool // by server: restarted in this episode
	episode int    // index in Stats.SharedEpisodes
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

// drawFor is draw for fault process pi, which stops the run with a
// *LawError when the draw was not a finite number.
func (w *World) drawFor(pi int32) time.Duration {
	p := &w.faults[pi]
	d, bad := p.draw()
	if bad != 0 && w.violation == nil {
		w.violation = &LawError{Where: "duration", Fault: p.fault(w), Law: p.f.Duration, Value: bad}
	}
	return d
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

func (w *World) buildFaults() {
	n := 0
	for fi := range w.cfg.Faults {
		f := &w.cfg.Faults[fi]
		if !f.Kind.ServerSide() && f.Target.Client == AllClients && !f.Target.Shared {
			n += w.cfg.Clients
		} else {
			n++
		}
	}
	// Built in place: each process's distribution points at its own stream.
	w.faults = resize(w.faults, 0, n)
	w.rolls = w.rolls[:0]
	for fi := range w.cfg.Faults {
		f := &w.cfg.Faults[fi]
		targets := []int{f.Target.Client}
		if !f.Kind.ServerSide() && f.Target.Client == AllClients && !f.Target.Shared {
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
			if f.Target.Server == AFollower {
				p.targets = sim.Stream(w.cfg.Seed, "fault-targets", key)
			}
			if f.Kind.ServerSide() {
				for _, s := range f.Target.Servers {
					p.set = append(p.set, int32(s))
				}
			}
			if f.Kind == RollingRestart {
				w.rolls = append(w.rolls, int32(len(w.faults)-1))
			}
			w.scheduleFirst(int32(len(w.faults) - 1))
		}
	}
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
	f := p.f
	if f.Kind == RollingRestart {
		w.startRoll(pi)
		w.scheduleNext(pi)
		return
	}
	d := w.drawFor(pi)
	resolved := int32(-1) // the server a role target named, for the episode's end
	switch f.Kind {
	case Outage:
		srv := f.Target.Server
		if srv == TheLeader || srv == AFollower {
			resolved = w.resolveServer(p, srv)
			srv = int(resolved)
		}
		w.net.cut(now, p.client, srv, f.Target.Direction, +1)
		if w.tracer != nil {
			w.tracef("network", "outage-start", "clients=%s servers=%s direction=%s duration=%s",
				targetName(p.client), targetName(srv), f.Target.Direction, Duration(d))
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
		s := w.resolveServer(p, f.Target.Server)
		resolved = s
		srv := &w.servers[s]
		srv.crashes++
		if srv.crashes == 1 && srv.up {
			w.serverEpisode(now, now.Add(d), s)
			w.crashServer(s, d)
		}
	case ServerPause:
		s := w.resolveServer(p, f.Target.Server)
		if w.servers[s].up {
			resolved = s
			w.serverEpisode(now, now.Add(d), s)
			w.pauseServer(s, d)
		}
	case Partition:
		set := w.partitionSet(p)
		if len(f.Target.Servers) == 0 {
			resolved = set[0]
		}
		w.serverEpisode(now, now.Add(d), set...)
		if w.tracer != nil {
			paths := "up"
			if f.Target.ClientPaths {
				paths = "cut"
			}
			w.tracef("network", "partition-start", "servers=%s client-paths=%s duration=%s", serverList(set), paths, Duration(d))
		}
		w.cutLinks(set, +1)
		if f.Target.ClientPaths {
			for _, s := range set {
				w.net.cut(now, AllClients, int(s), Both, +1)
			}
		}
	}
	w.eng.Post(sim.Event{At: now.Add(d), Kind: evFaultEnd, A: pi, B: resolved})
	w.scheduleNext(pi)
}

// scheduleNext schedules a Poisson or periodic fault's next episode.
func (w *World) scheduleNext(pi int32) {
	p := &w.faults[pi]
	now := w.eng.Now()
	switch p.f.Arrival {
	case Poisson:
		w.scheduleAt(pi, now.Add(w.poissonGap(p)))
	case Periodic:
		w.scheduleAt(pi, now.Add(p.f.Every))
	}
}

func (w *World) onFaultEnd(pi int32, resolved int32) {
	p := &w.faults[pi]
	f := p.f
	now := w.eng.Now()
	switch f.Kind {
	case Outage:
		srv := f.Target.Server
		if resolved >= 0 {
			srv = int(resolved)
		}
		w.net.cut(now, p.client, srv, f.Target.Direction, -1)
		if w.tracer != nil {
			w.tracef("network", "outage-end", "clients=%s servers=%s direction=%s", targetName(p.client), targetName(srv), f.Target.Direction)
		}
		if w.cfg.Network.Transport == Ideal {
			w.onHeal()
		}
	case ClientPause:
		w.forClients(p.client, w.resumeClient)
	case ServerCrash:
		srv := &w.servers[resolved]
		srv.crashes--
		if srv.crashes == 0 && !srv.up {
			w.startServer(now, resolved, true)
		}
	case ServerPause:
		if resolved >= 0 {
			w.resumeServer(resolved)
		}
	case Partition:
		set := p.set
		if resolved >= 0 {
			set = []int32{resolved}
		}
		if w.tracer != nil {
			w.tracef("network", "partition-end", "servers=%s", serverList(set))
		}
		if f.Target.ClientPaths {
			for _, s := range set {
				w.net.cut(now, AllClients, int(s), Both, -1)
			}
			if w.cfg.Network.Transport == Ideal {
				w.onHeal()
			}
		}
		w.cutLinks(set, -1)
	}
}

// resolveServer is the server a fault's target names now: an index, the
// current leader, or one of its followers (drawn from the fault's stream).
func (w *World) resolveServer(p *faultProc, s int) int32 {
	switch s {
	case AllServers:
		return 0
	case TheLeader:
		return w.currentLeader()
	case AFollower:
		l := w.currentLeader()
		var buf [64]int32
		cands := buf[:0]
		for i := range w.cfg.Servers {
			if srv := &w.servers[i]; int32(i) != l && srv.up && srv.role == Following && srv.leader == l {
				cands = append(cands, int32(i))
			}
		}
		if len(cands) == 0 {
			for i := range w.cfg.Servers {
				if int32(i) != l {
					cands = append(cands, int32(i))
				}
			}
		}
		return cands[p.targets.IntN(len(cands))]
	}
	return int32(s)
}

// partitionSet is the servers a partition isolates.
func (w *World) partitionSet(p *faultProc) []int32 {
	if len(p.set) > 0 {
		return p.set
	}
	return []int32{w.resolveServer(p, p.f.Target.Server)}
}

func serverList(set []int32) string {
	b := make([]byte, 0, 8)
	for i, s := range set {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(s), 10)
	}
	return string(b)
}

// serverEpisode opens a server-side fault episode hitting servers: from now
// on, time without a serving leader and dropped connections accrue to it.
// The clients it hits (mass expiry) are those connected to one of the
// servers, or every connected client when the leader is among them.
func (w *World) serverEpisode(now, end clock.Time, servers ...int32) int {
	if w.leaderlessSince != clock.Never {
		w.accrueLeaderless(now)
		w.leaderlessSince = now
	}
	w.stats.ServerEpisodes = append(w.stats.ServerEpisodes, ServerEpisode{})
	w.curEpisode, w.epStart = len(w.stats.ServerEpisodes)-1, now
	all := !w.ensemble()
	leader := w.currentLeader()
	for _, s := range servers {
		all = all || s == leader
	}
	ep := w.newEpisode()
	for i := range w.clients {
		c := w.clients[i].conn
		if c == 0 || w.clients[i].probe {
			continue
		}
		hit := all
		for _, s := range servers {
			hit = hit || w.conns[c].server == s
		}
		if hit {
			w.expose(int32(i), now, end, ep)
		}
	}
	return ep
}

// startRoll begins a rolling restart, unless one of this fault is still
// going on.
func (w *World) startRoll(pi int32) {
	p := &w.faults[pi]
	now := w.eng.Now()
	if p.roll.active {
		if w.tracer != nil {
			w.trace("operator", "rolling-restart-skipped", "reason=previous-still-running")
		}
		return
	}
	p.roll = rollState{active: true, current: -1, done: resize(p.roll.done, w.cfg.Servers, 0)}
	if w.tracer != nil {
		w.trace("operator", "rolling-restart-start", "")
	}
	all := make([]int32, w.cfg.Servers)
	for i := range all {
		all[i] = int32(i)
	}
	p.roll.episode = w.serverEpisode(now, clock.Zero.Add(w.cfg.Horizon), all...)
	w.rollNext(pi)
}

// rollNext stops the next server of a rolling restart: followers by index,
// the leader last (or first).
func (w *World) rollNext(pi int32) {
	p := &w.faults[pi]
	now := w.eng.Now()
	for {
		next := w.rollPick(p)
		if next < 0 {
			p.roll.active = false
			if w.tracer != nil {
				w.trace("operator", "rolling-restart-end", "")
			}
			for i := range w.clients {
				if e := &w.clients[i].exposure; e.active && e.episode == p.roll.episode {
					e.end = now
				}
			}
			return
		}
		p.roll.done[next] = true
		srv := &w.servers[next]
		if !srv.up {
			continue // already down: nothing to restart
		}
		p.roll.current = next
		d := w.drawFor(pi)
		srv.crashes++
		w.crashServer(next, d)
		w.eng.Post(sim.Event{At: now.Add(d), Kind: evRollRestart, A: pi, B: next})
		return
	}
}

func (w *World) rollPick(p *faultProc) int32 {
	leader := w.currentLeader()
	if p.f.LeaderFirst && !p.roll.done[leader] {
		return leader
	}
	for i := range w.cfg.Servers {
		if !p.roll.done[i] && int32(i) != leader {
			return int32(i)
		}
	}
	if !p.roll.done[leader] {
		return leader
	}
	return -1
}

// onRollRestart starts the server a rolling restart stopped and waits for
// it to serve.
func (w *World) onRollRestart(pi, s int32) {
	p := &w.faults[pi]
	srv := &w.servers[s]
	srv.crashes--
	p.roll.waiting = true
	if srv.crashes == 0 && !srv.up {
		w.startServer(w.eng.Now(), s, true)
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
