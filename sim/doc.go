// Package sim is hbsim's discrete-event engine: virtual time, a queue of
// events, cancellable timers and seeded random streams. It knows nothing about
// sessions, clients or servers.
//
// Contract:
//   - Events run in order of (time, seq): earlier time first, and events at the
//     same instant in the order they were scheduled (FIFO).
//   - Scheduling at a time before Now panics: it is a broken invariant of the
//     caller, never an input error.
//   - Post queues an event that cannot be cancelled; Schedule returns a Timer.
//     Lanes (NewLane, PostOn; PostOrdered for the default lane) hold
//     events whose times never decrease in the order they are put there —
//     any constant delay from Now — in rings of 32-byte entries instead of
//     the heap; they still run in (time, seq) order with everything else.
//     Lane events cannot be cancelled. An engine has at most two lanes (the
//     default one and one from NewLane): every lane's head is compared, branch
//     free, on every event.
//     Stop is O(1): it bumps the timer's generation, and the stale entry is
//     dropped unseen when it reaches the front of the queue. A Timer whose event
//     already ran or was stopped is recognised and ignored.
//   - After warm-up the engine allocates nothing per event: events are
//     pointer-free values in a slot array, ordered by a binary heap of
//     16-byte (time, seq|slot) entries with branch-free comparisons, and handles are
//     recycled through a free list.
//   - RunUntil(t) is inclusive: it runs every event at or before t, then leaves
//     Now at t. Next(t) hands the next event at or before t to a caller that
//     dispatches it itself. Reset empties an engine, keeping its memory.
//   - Random streams come from math/rand/v2 PCG, one stream per (seed, name,
//     index); adding a draw to one stream never shifts another.
//   - One Engine per run, used from one goroutine; there are no globals.
package sim
