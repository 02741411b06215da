// Package model is ZooKeeper's heartbeat and session machinery as
// deterministic state machines, and the one World that wires them to the
// event engine.
//
// Contract:
//   - Client is the ClientCnxn SendThread loop (zk-semantics §1): one loop
//     iteration per input, effects out, no I/O. Version profiles 3.3, 3.8
//     (default) and 3.9 select the per-version rules.
//   - Tracker is SessionTrackerImpl + ExpiryQueue (§2.2): tick-bucketed
//     deadlines on a per-process clock phase, touch on every request, an
//     expirer at every bucket boundary.
//   - Election is FastLeaderElection (§2.8): votes ordered by (epoch, zxid,
//     id), finalizeWait, the doubling re-send wait, answers from decided
//     peers.
//   - Network is which client<->server paths are cut; World carries packets
//     over a TCP-like transport (Linux's tail loss probe and RTO backoff,
//     its classic and linear SYN schedules with their retry budgets, the
//     orphaned-socket retransmission after close, the server's connection
//     reaper), runs the servers and the ensemble (roles, loss detection,
//     a new leader's establishment and fresh tracker, the leader's quorum
//     check, proposals committed on a quorum, the quorum links across
//     partitions, server pauses), the fault processes and the trace.
//   - Invariants (Options.Check): time never goes back; a session expires
//     only at or after its deadline in (T, T+k] past its last touch, and
//     only by a serving leader; only a serving leader's tracker touches;
//     at most one leader serves per epoch; the counters add up.
//   - Given the same Config (seed included), Run produces the same Stats and
//     the same trace, byte for byte. Randomness comes only from named
//     sim.Stream streams; there is no wall clock. A world made by Recycle
//     from a finished one runs exactly as a new one (it only reuses memory).
//   - Closed-form oracle switches: Transport Ideal, ServerConfig.NoBucketRounding,
//     ClientConfig.FixedReconnect.
//   - Panics only on broken invariants (scheduling into the past, a tracker
//     driven out of order); bad configuration is an error from Validate.
package model
