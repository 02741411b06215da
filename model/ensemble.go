package model

import (
	"hbsim/sim"
)

// onLearnerPing is the leader's half-tick PING to its followers; each answers
// with the touches it collected, which the leader applies one round trip later.
func (w *World) onLearnerPing() {
	now := w.eng.Now()
	if w.leader() != nil {
		for i := range w.servers {
			srv := &w.servers[i]
			if i == w.cfg.Leader || !srv.up || len(srv.touches) == 0 {
				continue
			}
			batch := srv.touches
			srv.touches = nil
			srv.batches = append(srv.batches, batch)
			w.eng.Post(sim.Event{At: now.Add(2 * w.cfg.Server.QuorumLatency), Kind: evApplyTouches, A: int32(i), X: uint64(srv.incarnation)})
		}
	}
	w.eng.Post(sim.Event{At: now.Add(w.cfg.Server.TickTime / 2), Kind: evLearnerPing})
}

func (w *World) onApplyTouches(s int32, incarnation uint32) {
	srv := &w.servers[s]
	if len(srv.batches) == 0 {
		return
	}
	batch := srv.batches[0]
	srv.batches = srv.batches[1:]
	if srv.incarnation != incarnation || w.leader() == nil {
		return
	}
	if w.tracer != nil {
		w.tracef(w.servers[w.cfg.Leader].name, "touches-forwarded", "from=%s sessions=%d", srv.name, len(batch))
	}
	now := w.eng.Now()
	for _, t := range batch {
		w.trackerTouch(now, t.session, t.timeout, false)
	}
}
