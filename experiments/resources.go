package experiments

import (
	"fmt"
	"strings"
	"time"

	"hbsim/sim"
)

// ResourceError is a run that does not fit this machine or the event
// engine, with the numbers and what to change. The CLI exits with status 2.
// A run refused only because other processes hold memory this machine has
// (Soft) may still be forced (the CLI's --yes); the others would end in a
// crash.
type ResourceError struct {
	File string
	Msg  string
	Soft bool
}

func (e *ResourceError) Error() string { return "experiments: " + e.File + ": " + e.Msg }

// The engine's limits are kept at a distance: Pending and EventsPerRun are
// estimates from short runs.
const engineMargin = 2

// Check refuses a run whose cost c does not fit machine m (memory), or the
// event engine (events pending at once, events in one replication), in that
// order.
func (c Cost) Check(s *Spec, m Machine) error {
	refuse := func(soft bool, format string, a ...any) error {
		return &ResourceError{File: s.File, Msg: fmt.Sprintf(format, a...), Soft: soft}
	}
	if c.Memory > m.Installed() {
		return refuse(false, "needs ~%s of memory (%s), more than this machine has (%s); %s",
			fmtBytes(c.Memory), c.memoryParts(), m.describe(), c.advice(m.Installed()))
	}
	if c.Memory > m.Usable() {
		return refuse(true, "needs ~%s of memory (%s), more than is available now (%s; other processes hold the rest); %s, or pass --yes if they will free it",
			fmtBytes(c.Memory), c.memoryParts(), m.describe(), c.advice(m.Usable()))
	}
	if c.Pending*engineMargin > sim.MaxPending {
		if e := electionPending(c.Servers); e*engineMargin > sim.MaxPending/2 {
			return refuse(false, "one replication would keep ~%.3g events pending at once, more than the event engine holds (%d with a margin of %d): a leader election among %d servers alone keeps ~%.3g (about n³/2); use fewer servers",
				c.Pending, sim.MaxPending, engineMargin, c.Servers, e)
		}
		fit := int(float64(c.Sessions) * sim.MaxPending / engineMargin / c.Pending)
		return refuse(false, "one replication would keep ~%.3g events pending at once (%d sessions), more than the event engine holds (%d with a margin of %d); cut experiment.clients to about %d",
			c.Pending, c.Sessions, sim.MaxPending, engineMargin, fit)
	}
	if c.EventsPerRun*engineMargin > sim.MaxScheduled {
		h := time.Duration(float64(s.Horizon) * sim.MaxScheduled / engineMargin / c.EventsPerRun)
		return refuse(false, "one replication would schedule ~%.3g events, more than the event engine can number (%.3g with a margin of %d); shorten experiment.horizon to about %s, or cut experiment.clients",
			c.EventsPerRun, float64(sim.MaxScheduled), engineMargin, fmtWall(h))
	}
	return nil
}

// memoryParts says what the memory estimate is made of.
func (c Cost) memoryParts() string {
	parts := []string{fmt.Sprintf("%d replication(s) at once × %s for %d sessions", c.InFlight, fmtBytes(c.PerRun), c.Sessions)}
	if c.Rings > c.PerRun/4 {
		parts[0] += fmt.Sprintf(" and a tracker ring of %s", fmtBytes(c.Rings))
	}
	if c.Election > c.PerRun/4 {
		parts[0] += fmt.Sprintf(" and %s for a leader election among %d servers", fmtBytes(c.Election), c.Servers)
	}
	parts = append(parts, fmt.Sprintf("%d point(s) × %s", c.Points, fmtBytes(c.PerPoint)))
	if c.Base > 0 {
		parts = append(parts, fmtBytes(c.Base)+" held already")
	}
	return strings.Join(parts, ", ")
}

// advice says what to change so that the run fits in fit bytes, for the
// part of the estimate that dominates it.
func (c Cost) advice(fit int64) string {
	runs := satMul(int64(c.InFlight), c.PerRun)
	points := satMul(int64(c.Points), c.PerPoint)
	room := fit - c.Base
	if room <= 0 {
		return fmt.Sprintf("hbsim holds ~%s before any replication: free memory", fmtBytes(c.Base))
	}
	if points > runs {
		n := max((room-runs)/max(c.PerPoint, 1), 0)
		return fmt.Sprintf("shrink the sweep (%d points; about %d fit)", c.Points, n)
	}
	if c.Rings > c.PerRun/2 {
		return "lower server.max_session_timeout or raise server.tick_time: the session tracker keeps a bucket per tick up to the longest timeout"
	}
	if c.Election > c.PerRun/2 {
		return "use fewer servers: a leader election among n servers keeps about n³/2 events pending"
	}
	perSession := float64(c.PerRun-c.Rings-c.Election) / float64(max(c.Sessions, 1))
	n := int64(max(float64(room-points)/float64(c.InFlight)/perSession, 0))
	a := fmt.Sprintf("cut experiment.clients (about %d sessions fit per replication)", n)
	if c.InFlight > 1 {
		a += fmt.Sprintf(", or run fewer replications at once (--workers 1 needs ~%s)", fmtBytes(satAdd(c.Base, c.PerRun, points)))
	}
	return a
}
