// Package clock is hbsim's virtual time: an integer count of nanoseconds
// since the start of a simulated run.
//
// Contract:
//   - Time is exact integer arithmetic; there is no float time anywhere in the
//     simulator. Floats drawn from distributions become durations only through
//     FromSeconds, which rounds to the nearest nanosecond (half away from zero).
//   - Nothing in this package, nor in sim or model, reads the wall clock.
//   - Time.String prints the offset from the run's start as a duration
//     ("1m30.5s"), so traces carry no dates or host-dependent text.
package clock
