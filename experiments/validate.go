package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"hbsim/model"
)

// ---------------------------------------------------------------------------
// Validation.

func (s *Spec) problem(key, format string, a ...any) Problem {
	return Problem{File: s.File, Line: s.lines.find(key), Key: key, Msg: fmt.Sprintf(format, a...)}
}

// problems is Validate's work: value checks, then per-point checks.
func (s *Spec) problems() []Problem { return s.checkAll(nil) }

// checkAll runs the value checks and then the per-point checks. A per-point
// check is skipped when a key it involves already has a problem (failed, or
// found by the value checks), so that one mistake gives one message.
func (s *Spec) checkAll(failed []string) []Problem {
	ps := s.valueProblems()
	for _, p := range ps {
		failed = append(failed, p.Key)
	}
	return append(ps, s.pointProblems(failed)...)
}

// valueProblems checks each value on its own, and the settings that cannot be
// swept.
func (s *Spec) valueProblems() []Problem {
	var ps []Problem
	bad := func(key, format string, a ...any) { ps = append(ps, s.problem(key, format, a...)) }

	if s.Name == "" {
		bad("experiment.name", "must not be empty")
	} else if strings.ContainsAny(s.Name, `/\`) || s.Name == "." || s.Name == ".." {
		bad("experiment.name", "%q cannot be a directory name", s.Name)
	}
	if s.Replications < 1 {
		bad("experiment.replications", "must be at least 1, got %d", s.Replications)
	}
	if s.Horizon <= 0 {
		bad("experiment.horizon", "must be positive, got %s", fmtDur(s.Horizon))
	}
	for _, c := range s.Output.Charts {
		if !slices.Contains(specCharts, c) {
			bad("output.charts", "unknown chart %q; want one of %s", c, quoteList(specCharts))
		}
	}
	for _, sl := range s.slots {
		for _, v := range sl.vals {
			switch sl.rule {
			case rulePositive:
				if !(v.num > 0) || math.IsInf(v.num, 0) {
					bad(sl.key, "must be positive, got %s", v.text)
				}
			case ruleNonNegative:
				if !(v.num >= 0) || math.IsInf(v.num, 0) {
					bad(sl.key, "must not be negative, got %s", v.text)
				}
			case ruleAtLeastOne:
				if v.n < 1 {
					bad(sl.key, "must be at least 1, got %s", v.text)
				}
			}
			switch {
			case sl.kind == slotDuration && v.dur > model.MaxDuration:
				bad(sl.key, "%s is longer than %s, the longest duration hbsim simulates", v.text, maxDurationText)
			case sl.ms && v.dur > 0 && v.dur < clockResolution:
				bad(sl.key, "must be at least 1ms, got %s: a retransmission timer finer than the clocks' resolution would spin", v.text)
			case sl.zk && v.dur > 0 && v.dur < time.Millisecond:
				bad(sl.key, "must be at least 1ms, got %s: ZooKeeper counts it in whole milliseconds", v.text)
			case sl.zk && v.dur > model.MaxZKDuration:
				bad(sl.key, "%s is more than ZooKeeper can hold: it keeps it in a Java int of milliseconds, at most %s (about 24.8 days)",
					v.text, model.MaxZKDuration)
			case sl.maxN > 0 && v.n > sl.maxN:
				bad(sl.key, "%s is more than %d: %s", v.text, sl.maxN, sl.maxWhy)
			}
		}
	}
	t := &s.t
	for _, sl := range []*sweepSlot{t.synRetries, t.synLinear} {
		for _, v := range sl.values() {
			if v.n > model.MaxSYNRetries {
				bad(sl.key, "must be at most %d (Linux's limit), got %s", model.MaxSYNRetries, v.text)
			}
		}
	}
	if t.hosts != nil && len(t.hosts) == 0 {
		bad("client.hosts", "empty hosts list; leave the key out to use every server")
	}
	for _, h := range t.hosts {
		if h < 0 {
			bad("client.hosts", "host %d is not a server index", h)
		}
	}
	for _, l := range []*lawSpec{t.requestInterval, t.latency} {
		if l != nil && l.positive && l.kind == model.LawEmpirical && !slices.ContainsFunc(l.samples, func(x float64) bool { return x > 0 }) {
			bad(l.key+".csv", "every sample is zero; requests would never stop")
		}
	}
	for _, f := range t.faults {
		ps = append(ps, s.faultProblems(f)...)
	}
	if _, err := s.numPoints(); err != nil {
		ps = append(ps, s.sweepTooLarge())
	}
	return ps
}

func (s *Spec) faultProblems(f *faultSpec) []Problem {
	var ps []Problem
	bad := func(key, format string, a ...any) { ps = append(ps, s.problem(f.key+key, format, a...)) }
	if !f.kindIn {
		bad(".kind", "required: one of %s", quoteList(faultKinds))
	}
	if !f.durationIn {
		bad(".duration", `required: a duration such as "10s" or a law table such as { law = "exponential", mean = "5s" }`)
	}
	if f.sharedSet && f.client != model.AllClients {
		bad(".shared", `only applies with clients = "all"`)
	}
	if f.kindOK {
		if f.dirSet && f.kind != model.Outage {
			bad(".direction", "only an outage has a direction, not a %s", f.kind)
		}
		if f.serverSet && f.kind == model.ClientPause {
			bad(".server", "a client pause hits clients, not servers")
		}
		if f.clientSet && f.kind.ServerSide() {
			bad(".clients", "a %s hits servers, not clients", kindPhrase(f.kind))
		}
		if f.sharedSet && !f.shared && f.kind.ServerSide() {
			bad(".shared", "a %s's episode hits every client of the servers involved at once: it is always shared", kindPhrase(f.kind))
		}
		if f.servers != nil && f.kind != model.Partition {
			bad(".servers", "only a partition takes a set of servers, not a %s", kindPhrase(f.kind))
		}
		if f.pathsSet && f.kind != model.Partition {
			bad(".client_paths", "only a partition takes client_paths, not a %s", kindPhrase(f.kind))
		}
		if f.orderSet && f.kind != model.RollingRestart {
			bad(".order", "only a rolling restart takes an order, not a %s", kindPhrase(f.kind))
		}
		if f.gapIn && f.kind != model.RollingRestart {
			bad(".gap", "only a rolling restart takes a gap, not a %s", kindPhrase(f.kind))
		}
		if f.serverSet && f.kind == model.RollingRestart {
			bad(".server", "a rolling restart restarts every server; it takes no server")
		}
		if f.kind == model.Partition {
			switch {
			case f.servers != nil && f.serverSet:
				bad(".servers", "give either servers (a set) or server (one), not both")
			case f.servers == nil && (!f.serverSet || f.server == model.AllServers):
				bad(".server", `a partition needs the servers it cuts off: server = "leader", "follower" or an index, or servers = [0, 1]`)
			case f.servers != nil && len(f.servers) == 0:
				bad(".servers", "empty: a partition cuts off at least one server")
			}
			for i, s := range f.servers {
				if s < 0 {
					bad(".servers", "%d is not a server index", s)
				} else if slices.Contains(f.servers[:i], s) {
					bad(".servers", "server %d is listed twice", s)
				}
			}
		}
	}
	if !f.arrivalOK {
		return ps
	}
	switch f.arrival {
	case model.Scripted:
		if !f.atSet || len(f.at) == 0 {
			bad(".at", `a scripted fault needs start times, e.g. at = ["30s"]`)
		}
		for _, a := range f.at {
			if a.dur < 0 {
				bad(".at", "start time %s is negative", a.text)
			}
			if a.dur > model.MaxDuration {
				bad(".at", "start time %s is later than %s, the longest duration hbsim simulates", a.text, maxDurationText)
			}
		}
		if f.everyIn {
			bad(".every", "only poisson and periodic faults take every")
		}
		if f.offsetIn {
			bad(".offset", "only poisson and periodic faults take an offset")
		}
	default:
		if f.atSet {
			bad(".at", "only scripted faults take start times")
		}
		if f.phaseIn {
			bad(".phase", "only scripted faults take a phase")
		}
		what := "mean gap"
		if f.arrival == model.Periodic {
			what = "period"
		}
		if !f.everyIn {
			bad(".every", "a %s fault needs every (its %s)", arrivalNames[f.arrival], what)
		}
		if f.every != nil {
			for _, v := range f.every.vals {
				if v.dur > 0 && v.dur < clockResolution {
					bad(".every", "a %s of %s is shorter than %s, the resolution of ZooKeeper's clocks: episodes this frequent are one continuous fault (for that, give one long duration)",
						what, v.text, clockResolution)
				}
			}
		}
	}
	return ps
}

// pointProblems checks what depends on several settings, on every point,
// skipping the checks that involve a failed key, and, when nothing at all
// failed, runs model.Config.Validate on each point as a safety net.
func (s *Spec) pointProblems(failed []string) []Problem {
	n, err := s.numPoints()
	if err != nil {
		return nil // reported by valueProblems
	}
	// clean reports whether none of keys (nor a key under one) failed.
	clean := func(keys ...string) bool {
		for _, f := range failed {
			for _, k := range keys {
				if f == "" || f == k || strings.HasPrefix(f, k+".") || strings.HasPrefix(f, k+"[") {
					return false
				}
			}
		}
		return true
	}
	var ps []Problem
	seen := map[string]bool{}
	means := meanCache{}
	t := &s.t
	s.eachPoint(n, func(i int, d []int) bool {
		mine := 0
		bad := func(key, format string, a ...any) {
			mine++
			p := s.problem(key, format, a...)
			if k := p.Error(); !seen[k] {
				seen[k] = true
				ps = append(ps, p)
			}
		}
		c := s.config(d)
		srv := c.Server
		if srv.MinSessionTimeout > srv.MaxSessionTimeout && clean("server.min_session_timeout", "server.max_session_timeout", "server.tick_time") {
			if t.minTimeout != nil {
				bad("server.min_session_timeout", "%s is greater than server.max_session_timeout %s",
					t.minTimeout.at(d).text, t.maxTimeout.textOr(d, fmtDur(srv.MaxSessionTimeout)+" (default 20 × tick_time)"))
			} else {
				bad("server.max_session_timeout", "%s is less than server.min_session_timeout %s (default 2 × tick_time)",
					t.maxTimeout.at(d).text, fmtDur(srv.MinSessionTimeout))
			}
		}
		if c.Leader >= c.Servers && clean("server.leader", "server.count") {
			bad("server.leader", "%d is not a server index: server.count is %d", c.Leader, c.Servers)
		}
		if clean("client.hosts", "server.count", "client.absent_hosts") {
			for _, h := range t.hosts {
				if h >= c.Servers+c.Client.AbsentHosts {
					if c.Client.AbsentHosts > 0 {
						bad("client.hosts", "host %d is not a server index: server.count is %d and client.absent_hosts %d", h, c.Servers, c.Client.AbsentHosts)
					} else {
						bad("client.hosts", "host %d is not a server index: server.count is %d", h, c.Servers)
					}
				}
			}
		}
		if srv.FinalizeWait > srv.MaxNotificationInterval && clean("server.finalize_wait", "server.max_notification_interval") {
			bad("server.finalize_wait", "%s is longer than server.max_notification_interval %s", fmtDur(srv.FinalizeWait), fmtDur(srv.MaxNotificationInterval))
		}
		if c.Network.RTOMin > c.Network.RTOMax && clean("network.rto_min", "network.rto_max") {
			if t.rtoMin != nil {
				bad("network.rto_min", "%s is greater than network.rto_max %s", t.rtoMin.at(d).text, t.rtoMax.textOr(d, fmtDur(c.Network.RTOMax)))
			} else {
				bad("network.rto_max", "%s is less than network.rto_min %s", t.rtoMax.at(d).text, fmtDur(c.Network.RTOMin))
			}
		}
		if t.syn == model.SYNClassic && t.synLinear != nil && t.synLinear.at(d).n != 0 && clean("network.syn_schedule", "network.syn_linear_timeouts") {
			bad("network.syn_linear_timeouts", `%s needs syn_schedule = "linear"; the classic schedule (the default) has no linear timeouts`, t.synLinear.at(d).text)
		}
		for _, l := range []*lawSpec{t.requestInterval, t.latency, t.syncTime} {
			if l != nil && clean(l.key) {
				s.lawPointProblems(l, d, bad)
			}
		}
		for _, f := range t.faults {
			if f.client != model.AllClients && f.client >= c.Clients && clean(f.key+".clients", "experiment.clients") {
				bad(f.key+".clients", "client %d does not exist: experiment.clients is %d", f.client, c.Clients)
			}
			hosts := c.Servers
			if f.kindOK && f.kind == model.Outage {
				hosts += c.Client.AbsentHosts // an outage can black-hole an absent address
			}
			if f.server >= hosts && clean(f.key+".server", "server.count") {
				bad(f.key+".server", "server %d does not exist: server.count is %d", f.server, c.Servers)
			}
			if f.server == model.AFollower && c.Servers < 2 && clean(f.key+".server", "server.count") {
				bad(f.key+".server", `"follower": a standalone server (server.count = 1) has no followers`)
			}
			if f.kindOK && (f.kind == model.ServerCrash || f.kind == model.ServerPause) && f.server == model.AllServers && c.Servers > 1 && clean(f.key+".server", "server.count") {
				bad(f.key+".server", `a %s needs one server: an index, "leader" or "follower" ("all" only works with server.count = 1); server.count is %d`, kindPhrase(f.kind), c.Servers)
			}
			if f.kindOK && f.kind == model.Partition && clean(f.key+".servers", f.key+".server", "server.count") {
				if c.Servers < 2 {
					bad(f.key+".kind", "a partition needs an ensemble: server.count is %d", c.Servers)
				}
				for _, sv := range f.servers {
					if sv >= c.Servers {
						bad(f.key+".servers", "server %d does not exist: server.count is %d", sv, c.Servers)
					}
				}
				if len(f.servers) >= c.Servers && c.Servers >= 2 {
					bad(f.key+".servers", "cuts off every server: a partition needs servers on both sides")
				}
			}
			if f.phase != nil && f.client == model.AllClients && !f.shared && clean(f.key+".phase", f.key+".clients", f.key+".shared") {
				bad(f.key+".phase", "a phase anchors episodes to one session: set clients to a client index, or shared = true to anchor to client 0")
			}
			if f.duration != nil && clean(f.duration.key) {
				s.lawPointProblems(f.duration, d, bad)
			}
		}
		s.plausibleProblems(c, d, means, bad, clean)
		if mine == 0 && len(failed) == 0 {
			if err := c.Validate(); err != nil {
				msg := strings.ReplaceAll(err.Error(), "\n", "; ")
				bad("", "point %d (%s): %s", i, s.describe(d), msg)
			}
		}
		return true
	})
	return ps
}

// kindPhrase is a fault kind in words: "server crash".
func kindPhrase(k model.FaultKind) string { return strings.ReplaceAll(k.String(), "-", " ") }

func (s *Spec) lawPointProblems(l *lawSpec, d []int, bad func(key, format string, a ...any)) {
	switch l.kind {
	case model.LawUniform:
		if lo, hi := l.min.at(d), l.max.at(d); !(lo.num < hi.num) {
			bad(l.key+".min", "%s is not less than max %s", lo.text, hi.text)
			return
		}
	case model.LawLogNormal, model.LawWeibull, model.LawPareto:
		if err := l.law(d).Validate(); err != nil {
			param := ".shape"
			if l.kind == model.LawLogNormal {
				param = ".sigma"
			}
			bad(l.key+param, "%s", err)
		}
	}
}

func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := cmpInt(a.Line, b.Line); c != 0 {
			return c
		}
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Msg, b.Msg)
	})
	return slices.CompactFunc(ps, func(a, b Problem) bool { return a.Error() == b.Error() })
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
