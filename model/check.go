package model

import (
	"fmt"
)

// checkCounters verifies that the run's counters add up (Options.Check).
func (w *World) checkCounters() {
	st := &w.stats
	if st.ExpiredExposures > st.Exposures {
		w.fail("%d expired exposures out of %d exposures", st.ExpiredExposures, st.Exposures)
	}
	shared := 0
	for _, e := range st.SharedEpisodes {
		if e.Expired > e.Hit {
			w.fail("a shared episode hit %d clients and expired %d", e.Hit, e.Expired)
		}
		shared += e.Expired
	}
	if shared > st.ExpiredExposures {
		w.fail("%d expiries in shared episodes, %d expired exposures in all", shared, st.ExpiredExposures)
	}
	if st.ClientsExpired > st.Clients || st.ClientsExpired > st.Expiries {
		w.fail("%d clients expired, %d clients, %d expiries", st.ClientsExpired, st.Clients, st.Expiries)
	}
	// Without client-side expiry (3.9), a client learns Expired only from a
	// tracker that expired its session (a cut-off leader may expire one
	// whose closeSession never commits: the client is told all the same).
	if w.cfg.Client.Version != V39 && st.ClientExpired > w.trackerExpiries {
		w.fail("%d Expired events but only %d tracker expiries", st.ClientExpired, w.trackerExpiries)
	}
	if st.Expiries > w.trackerExpiries {
		w.fail("%d committed expiries but only %d tracker expiries", st.Expiries, w.trackerExpiries)
	}
	if st.DisconnectedTime > st.ObservedTime {
		w.fail("disconnected %v out of %v observed", st.DisconnectedTime, st.ObservedTime)
	}
}

func (w *World) checkAfterEvent() {
	now := w.eng.Now()
	if now < w.lastTime {
		w.fail("time went back from %v to %v", w.lastTime, now)
	}
	w.lastTime = now
	if w.ensemble() {
		// At most one serving leader per epoch; a tracker runs only at a
		// serving leader.
		for i := range w.cfg.Servers {
			a := &w.servers[i]
			if a.tracker != nil && !(a.up && a.serving && a.role == Leading) {
				w.fail("%s has a running tracker but is not a serving leader (role %s, serving %v)", a.name, a.role, a.serving)
			}
			if !w.leading(int32(i)) {
				continue
			}
			for j := i + 1; j < w.cfg.Servers; j++ {
				if b := &w.servers[j]; w.leading(int32(j)) && b.epoch == a.epoch {
					w.fail("%s and %s both serve as leaders of epoch %d", a.name, b.name, a.epoch)
				}
			}
		}
	}
}

func (w *World) fail(format string, a ...any) {
	if w.violation == nil {
		w.violation = fmt.Errorf("%w: at %v (event %d): %s", ErrInvariant, w.eng.Now(), w.eng.Fired(), fmt.Sprintf(format, a...))
	}
}
