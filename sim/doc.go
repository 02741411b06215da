// Package sim is hbsim's discrete-event engine: virtual time, a queue of
// events, cancellable timers and seeded random streams. It knows nothing about
// sessions, clients or servers.
//
// Contract:
//   - Events run in order of (time, seq): earlier time first, and events at the
//     same instant in the order they were scheduled (FIFO). Rescheduling an event
//     gives it a fresh seq, as if it had been scheduled anew.
//   - Scheduling at a time before Now panics: it is a broken invariant of the
//     caller, never an input error.
//   - Stop and Reset on a Timer are O(log n); a Timer whose event already ran or
//     was stopped is recognised in O(1) and ignored.
//   - After warm-up the engine allocates nothing per event: events are values in
//     a slice-backed binary heap, and handles are recycled through a free list.
//   - RunUntil(t) is inclusive: it runs every event at or before t, then leaves
//     Now at t.
//   - Random streams come from math/rand/v2 PCG, one stream per (seed, name,
//     index); adding a draw to one stream never shifts another.
//   - One Engine per run, used from one goroutine; there are no globals.
package sim
