package experiments

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"hbsim/clock"
	"hbsim/model"
)

// ---------------------------------------------------------------------------
// Physically meaningless settings: legal values whose combination describes
// nothing the model (or ZooKeeper) can mean, or that would flood the run.

// clockResolution is the finest time ZooKeeper's clocks tell apart: they count
// whole milliseconds.
const clockResolution = time.Millisecond

// MaxServers is the largest ensemble (model.MaxServers): ZooKeeper server
// ids run from 1 to 255.
const MaxServers = model.MaxServers

// maxDurationText is model.MaxDuration as a spec writes it.
var maxDurationText = strconv.FormatFloat(model.MaxDuration.Hours()/24, 'g', -1, 64) + "d"

// Overlap of a fault process's episodes: load is the mean number of its
// episodes in force at once (mean gap over mean duration, durations cut at
// the horizon). At overlapError the fault is in force most of the time and
// never really ends; from overlapWarning on, overlapping episodes of one
// client, which share one expiry window, are common enough to bias
// P(expiry | outage).
const (
	overlapError   = 1.0
	overlapWarning = 0.25
)

// plausibleProblems reports the settings of the point with digits d (config
// c) that are legal one by one but meaningless together: a session timeout
// so short that the client's ping period or connect timeout is 0 ms (it
// would loop without time passing), requests or
// episodes faster than the resolution of ZooKeeper's clocks, fault processes whose
// episodes overlap so much that the fault never ends (and their pending ends
// flood the event queue), scripted episodes that overlap.
func (s *Spec) plausibleProblems(c model.Config, d []int, means meanCache, bad func(key, format string, a ...any), clean func(keys ...string) bool) {
	t := &s.t
	h := s.Horizon.Seconds()
	if neg, least := c.Server.Negotiate(c.Client.SessionTimeout), model.ShortestSessionTimeout(len(c.Client.Hosts)); neg < least &&
		clean("client.session_timeout", "client.hosts", "server.tick_time", "server.min_session_timeout", "server.max_session_timeout") {
		key := "server.tick_time" // what set the server's minimum
		switch {
		case t.sessionTimeout != nil && c.Client.SessionTimeout == neg:
			key = "client.session_timeout"
		case t.maxTimeout != nil && c.Server.MaxSessionTimeout == neg:
			key = "server.max_session_timeout"
		case t.minTimeout != nil:
			key = "server.min_session_timeout"
		}
		bad(key, "the negotiated session timeout %s leaves the client a ping period of %s and a connect timeout of %s (with %d host(s)): it would ping or reconnect without pause; the timeout must be at least %s",
			fmtDur(neg), fmtDur(model.PingPeriod(neg)), fmtDur((neg / time.Duration(max(len(c.Client.Hosts), 1))).Truncate(time.Millisecond)), len(c.Client.Hosts), fmtDur(least))
	}
	for _, lim := range []struct {
		key   string
		slot  *sweepSlot
		ticks int
	}{{"server.sync_limit", t.syncLimit, c.Server.SyncLimit}, {"server.init_limit", t.initLimit, c.Server.InitLimit}} {
		if tick := c.Server.TickTime; lim.ticks > 0 && tick > 0 && int64(lim.ticks) > int64(model.MaxZKDuration/tick) && clean(lim.key, "server.tick_time") {
			key := lim.key
			if lim.slot == nil {
				key = "server.tick_time"
			}
			bad(key, "%d ticks of %s is more than ZooKeeper can hold: it multiplies them in a Java int of milliseconds, at most %s (about 24.8 days)",
				lim.ticks, fmtDur(c.Server.TickTime), model.MaxZKDuration)
		}
	}
	if sv := c.Server; c.Servers > 1 && sv.TickTime > 0 && sv.SyncLimit > 0 && sv.InitLimit > 0 &&
		clean("server.quorum_latency", "server.sync_limit", "server.init_limit", "server.tick_time", "server.count") {
		key := func(limit *sweepSlot, name string) string {
			switch {
			case t.quorum != nil:
				return "server.quorum_latency"
			case limit != nil:
				return name
			}
			return "server.tick_time"
		}
		syncWindow := time.Duration(min(int64(sv.SyncLimit), int64(model.MaxZKDuration/sv.TickTime))) * sv.TickTime
		initWindow := time.Duration(min(int64(sv.InitLimit), int64(model.MaxZKDuration/sv.TickTime))) * sv.TickTime
		switch {
		case 2*sv.QuorumLatency >= syncWindow:
			bad(key(t.syncLimit, "server.sync_limit"), "a round trip of %s between servers is not shorter than syncLimit × tickTime (%s): no follower stays in sync, so the ensemble re-elects without end; lower server.quorum_latency or raise server.sync_limit",
				fmtDur(2*sv.QuorumLatency), fmtDur(syncWindow))
		case 4*sv.QuorumLatency >= initWindow:
			bad(key(t.initLimit, "server.init_limit"), "the four trips between servers that establish a leader (%s) are not shorter than initLimit × tickTime (%s): no leader ever serves, so the ensemble re-elects without end; lower server.quorum_latency or raise server.init_limit",
				fmtDur(4*sv.QuorumLatency), fmtDur(initWindow))
		}
	}
	if l := t.requestInterval; l != nil && clean(l.key) && c.Client.RequestInterval != nil {
		if m := means.get(*c.Client.RequestInterval, h); m < clockResolution.Seconds() {
			bad(l.key, "a mean gap of %s between requests is shorter than %s, the resolution of ZooKeeper's clocks: the client would send without pause; give a mean gap of %s or more",
				secondsText(m), clockResolution, clockResolution)
		}
	}
	for fi, f := range t.faults {
		if f.duration == nil || !f.kindOK || !f.arrivalOK || fi >= len(c.Faults) {
			continue
		}
		mf := &c.Faults[fi]
		if !clean(f.key+".every", f.key+".at", f.key+".phase", f.duration.key) {
			continue
		}
		switch mf.Arrival {
		case model.Poisson, model.Periodic:
			if mf.Kind == model.RollingRestart {
				continue // a restart that finds the previous one running is skipped, as an operator would
			}
			if mf.Every < clockResolution {
				continue // reported by faultProblems
			}
			m := means.get(mf.Duration, h)
			if load := m / mf.Every.Seconds(); load >= overlapError {
				bad(f.key+".every", "a new episode every %s while each lasts %s on average keeps %.3g of them in force at once: the episodes overlap, so the fault never really ends (and their pending ends flood the event queue); make every longer than the mean duration, or write one long episode",
					every(f, d), secondsText(m), load)
			}
		case model.Scripted:
			if mf.PhaseSet || mf.Duration.Kind != model.LawFixed {
				continue // start times or lengths are not known in advance
			}
			dur := mf.Duration.Value
			starts := slices.Clone(f.at)
			slices.SortStableFunc(starts, func(a, b slotVal) int {
				switch {
				case a.dur < b.dur:
					return -1
				case a.dur > b.dur:
					return 1
				}
				return 0
			})
			for j := 1; j < len(starts); j++ {
				a, b := starts[j-1], starts[j]
				if a.dur < s.Horizon && (b.dur-a.dur).Seconds() < dur {
					bad(f.key+".at", "the episodes starting at %s and %s overlap (each lasts %s): overlapping episodes share one expiry window, so P(expiry | outage) would count them wrongly; space them at least one duration apart, or write one longer episode",
						a.text, b.text, secondsText(dur))
					break
				}
			}
		}
	}
}

// plausibleWarnings adds the warnings of the point with digits d (config c):
// frequent overlap, a horizon too short for any expiry, a fault that never
// starts or does nothing.
func (s *Spec) plausibleWarnings(c model.Config, d []int, means meanCache, add func(string)) {
	t := &s.t
	h := s.Horizon.Seconds()
	if least := c.Server.Negotiate(c.Client.SessionTimeout) + c.Server.TickTime; s.Horizon < least {
		add(fmt.Sprintf("experiment.horizon: %s is shorter than the session timeout plus a tick (%s): no session can expire within it",
			fmtDur(s.Horizon), fmtDur(least)))
	}
	for fi, f := range t.faults {
		if f.duration == nil || !f.kindOK || !f.arrivalOK || fi >= len(c.Faults) {
			continue
		}
		mf := &c.Faults[fi]
		if mf.Duration.Kind == model.LawFixed && mf.Duration.Value == 0 {
			add(fmt.Sprintf("%s: episodes of 0s do nothing", f.duration.key))
		}
		if mf.Arrival == model.Scripted {
			continue
		}
		if mf.Offset >= s.Horizon {
			add(fmt.Sprintf("%s.offset: %s is not before the horizon %s; the fault never starts", f.key, fmtDur(mf.Offset), fmtDur(s.Horizon)))
		}
		if mf.Every < clockResolution {
			continue
		}
		m := means.get(mf.Duration, h)
		if load := m / mf.Every.Seconds(); load >= overlapWarning && load < overlapError {
			add(fmt.Sprintf("%s: a new episode every %s while each lasts %s on average keeps %.2g in force at once: overlapping episodes of one client share one expiry window, so P(expiry | outage) undercounts",
				f.key, every(f, d), secondsText(m), load))
		}
	}
}

// noFaultWarning is the warning of a spec without faults.
const noFaultWarning = "no [[fault]]: nothing disturbs the sessions, so none can expire and P(expiry | outage) has no trials; add a [[fault]] table (\"hbsim presets\" lists ready-made ones)"

func every(f *faultSpec, d []int) string {
	if f.every == nil {
		return "?"
	}
	return f.every.at(d).text
}

// secondsText formats seconds for a message as a duration rounded to three
// significant digits: "5s", "250ms", "42m", "1ns".
func secondsText(x float64) string {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	if err != nil || r >= model.MaxDuration.Seconds() {
		return strconv.FormatFloat(x, 'g', 3, 64) + "s"
	}
	return fmtDur(clock.FromSeconds(r))
}

// meanCache memoises meanUpTo over the points of a sweep, which share few
// distinct laws.
type meanCache map[meanKey]float64

type meanKey struct {
	kind                                                model.LawKind
	value, lo, hi, mean, median, sigma, scale, shape, h float64
}

func (c meanCache) get(l model.Law, h float64) float64 {
	if l.Kind == model.LawEmpirical {
		return meanUpTo(l, h)
	}
	k := meanKey{l.Kind, l.Value, l.Min, l.Max, l.Mean, l.Median, l.Sigma, l.Scale, l.Shape, h}
	if m, ok := c[k]; ok {
		return m
	}
	m := meanUpTo(l, h)
	c[k] = m
	return m
}

// meanUpTo is E[min(D, h)] in seconds for D drawn from l: the mean length of
// an episode in a run of h seconds, finite even for laws without a mean
// (Pareto shape <= 1). Closed forms where they are short, else the integral
// of the survival function, by Simpson's rule on a logarithmic grid.
func meanUpTo(l model.Law, h float64) float64 {
	switch l.Kind {
	case model.LawFixed:
		return min(l.Value, h)
	case model.LawEmpirical:
		sum := 0.0
		for _, x := range l.Samples {
			sum += min(x, h)
		}
		return sum / float64(len(l.Samples))
	case model.LawUniform:
		a, b := l.Min, l.Max
		switch {
		case h <= a:
			return h
		case h >= b:
			return (a + b) / 2
		}
		return a + ((b-a)*(b-a)-(b-h)*(b-h))/(2*(b-a))
	case model.LawExponential:
		return l.Mean * -math.Expm1(-h/l.Mean)
	}
	// ∫0^h S(x) dx = lo + ∫ S(e^u) e^u du over [ln lo, ln h], with S = 1
	// below lo = 1 ns (no law here puts mass there that matters).
	lo := min(1e-9, h)
	a, b := math.Log(lo), math.Log(h)
	const n = 8192
	step := (b - a) / n
	f := func(u float64) float64 { x := math.Exp(u); return l.Survival(x) * x }
	sum := f(a) + f(b)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(a+float64(i)*step)
	}
	return lo + sum*step/3
}
