package clock

import (
	"math"
	"time"
)

// Time is a virtual instant: nanoseconds since the start of the run.
type Time int64

// Zero is the start of every run.
const Zero Time = 0

// Never is later than any instant a run can reach; it marks "not scheduled".
const Never Time = math.MaxInt64

// At returns the instant d after the start of the run.
func At(d time.Duration) Time { return Time(d) }

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Before reports whether t is strictly earlier than u.
func (t Time) Before(u Time) bool { return t < u }

// After reports whether t is strictly later than u.
func (t Time) After(u Time) bool { return t > u }

// Since returns the offset of t from the start of the run.
func (t Time) Since() time.Duration { return time.Duration(t) }

// Seconds returns t as float seconds since the start, for reports only.
func (t Time) Seconds() float64 { return time.Duration(t).Seconds() }

// Millis returns t truncated to whole milliseconds, the granularity of the
// Java clocks (System.currentTimeMillis, Time.currentElapsedTime) that
// ZooKeeper's client loop and session tracker compute with.
func (t Time) Millis() int64 { return int64(t) / int64(time.Millisecond) }

// String formats t as its offset from the start of the run, e.g. "1m30.5s".
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	return time.Duration(t).String()
}

// FromSeconds converts float seconds (as drawn from a distribution) to a
// duration, rounding to the nearest nanosecond. Values beyond the range of
// time.Duration saturate; NaN becomes 0.
func FromSeconds(s float64) time.Duration {
	if math.IsNaN(s) {
		return 0
	}
	ns := math.Round(s * 1e9)
	if ns >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	if ns <= math.MinInt64 {
		return time.Duration(math.MinInt64)
	}
	return time.Duration(ns)
}

// Max returns the later of a and b.
func Max(a, b Time) Time {
	if a > b {
		return a
	}
	return b
}

// Min returns the earlier of a and b.
func Min(a, b Time) Time {
	if a < b {
		return a
	}
	return b
}
