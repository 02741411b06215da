package model

import (
	"fmt"
	"time"

	"hbsim/clock"
)

// Tracker is the authoritative session table of one server process:
// SessionTrackerImpl with its ExpiryQueue (zk-semantics §2.2). It is pure:
// the wiring calls Touch on every request that reaches the tracker and calls
// Expire at every bucket boundary (NextBoundary).
//
// Buckets live on the process's own millisecond clock, whose origin differs
// from the run's by theta (drawn fresh on every process start): a touch at
// run time t puts the session in bucket roundToNextInterval(t+theta+T) =
// ((t+theta+T)/k + 1)·k, and the expirer drains the bucket whose key equals
// its nextExpirationTime, then advances it by k. A session therefore expires
// between T (exclusive) and T+k (inclusive) after its last touch.
//
// With rounding off (closed-form oracle), a session's deadline is exactly
// its last touch plus T and the wiring expires it with ExpireAt.
type Tracker struct {
	tick     time.Duration
	theta    time.Duration // local clock = run time + theta
	rounding bool

	sessions []trackedSession // indexed by session id; id 0 is unused
	// ring holds the buckets, indexed by boundary number mod len: the ids
	// of the sessions touched into each, in touch order. A session that a
	// later touch moved to a later bucket stays behind as a stale entry
	// (its deadline no longer matches), so a touch never edits another
	// session's links: it appends one id.
	ring  [][]int32
	spare [][]int32  // drained buckets' arrays, for the next buckets to fill
	next  clock.Time // run time of the next boundary the expirer drains
	kms   int64      // tick in whole ms

	// boundary's last answer: at+theta in [cacheLo, cacheLo+k) has boundary
	// number cacheN.
	cacheLo, cacheN int64
}

type sessionStatus uint8

const (
	statusAbsent sessionStatus = iota
	statusActive
	statusClosing
)

type trackedSession struct {
	timeout   time.Duration
	deadline  clock.Time // E, run time
	lastTouch clock.Time
	status    sessionStatus
}

// NewTracker starts a tracker at run time now for a process whose clock is
// ahead of the run's by theta in [0, tick). maxTimeout bounds every
// session's timeout (the server's maxSessionTimeout).
func NewTracker(now clock.Time, tick, theta, maxTimeout time.Duration, rounding bool) *Tracker {
	return recycleTracker(nil, now, tick, theta, maxTimeout, rounding)
}

// recycleTracker is NewTracker reusing old's memory (nil: none).
func recycleTracker(old *Tracker, now clock.Time, tick, theta, maxTimeout time.Duration, rounding bool) *Tracker {
	if tick <= 0 || theta < 0 || theta >= tick {
		panic(fmt.Sprintf("model: tracker tick %v, theta %v", tick, theta))
	}
	t := old
	if t == nil {
		t = &Tracker{}
	}
	size := 1 // a power of two, so that a boundary's ring index is a mask
	for size < int(maxTimeout/tick)+3 {
		size *= 2
	}
	spare := t.spare // keep the buckets' arrays
	for _, b := range t.ring {
		if b != nil {
			spare = append(spare, b[:0])
		}
	}
	*t = Tracker{tick: tick, theta: theta, rounding: rounding, sessions: resize(t.sessions, 1, 4),
		ring: resize(t.ring, size, 0), spare: spare}
	t.kms = tick.Milliseconds()
	t.cacheLo, t.cacheN = -1<<62, 0 // no answer yet
	t.next = t.roundNext(now)
	return t
}

// boundary returns the number n and run time of the first bucket boundary
// strictly after at (roundToNextInterval on the process clock, in whole ms):
// n = floor(floor((at+theta)/1ms)/kms) + 1 = floor((at+theta)/(kms·1ms)) + 1.
// Touches come in time order, so the last answer's interval [lo, lo+k) of
// at+theta (or the next one) almost always holds the new one: no division.
func (t *Tracker) boundary(at clock.Time) (int64, clock.Time) {
	x := int64(at) + int64(t.theta)
	k := t.kms * int64(time.Millisecond)
	switch d := x - t.cacheLo; {
	case d >= 0 && d < k:
	case d >= k && d < 2*k:
		t.cacheN++
		t.cacheLo += k
	default:
		t.cacheN = x/k + 1
		t.cacheLo = (t.cacheN - 1) * k
	}
	return t.cacheN, clock.Time(t.cacheN*k - int64(t.theta))
}

// roundNext is roundToNextInterval on the process clock, returned as run
// time: the first boundary strictly after t. Java computes in whole ms.
func (t *Tracker) roundNext(at clock.Time) clock.Time {
	_, b := t.boundary(at)
	return b
}

// NextBoundary is when the expirer next wakes (run time).
func (t *Tracker) NextBoundary() clock.Time { return t.next }

// Rounding reports whether deadlines are bucketed.
func (t *Tracker) Rounding() bool { return t.rounding }

func (t *Tracker) grow(id int64) {
	for int64(len(t.sessions)) <= id {
		t.sessions = append(t.sessions, trackedSession{})
	}
}

// Add tracks a new (or restored) session and touches it.
func (t *Tracker) Add(now clock.Time, id int64, timeout time.Duration) clock.Time {
	t.grow(id)
	s := &t.sessions[id]
	if s.status != statusAbsent {
		panic(fmt.Sprintf("model: session 0x%x added twice", id))
	}
	*s = trackedSession{timeout: timeout, status: statusActive, deadline: clock.Never}
	d, _ := t.Touch(now, id, timeout)
	return d
}

// Touch refreshes session id's deadline from now with the given timeout. It
// fails for an unknown or closing session (the request is then dropped). It
// returns the new deadline.
func (t *Tracker) Touch(now clock.Time, id int64, timeout time.Duration) (clock.Time, bool) {
	if id <= 0 || id >= int64(len(t.sessions)) || t.sessions[id].status != statusActive {
		return clock.Never, false
	}
	s := &t.sessions[id]
	s.lastTouch = now
	if !t.rounding {
		s.deadline = now.Add(timeout)
		return s.deadline, true
	}
	n, d := t.boundary(now.Add(timeout))
	if d != s.deadline {
		s.deadline = d
		b := &t.ring[n&int64(len(t.ring)-1)]
		if *b == nil && len(t.spare) > 0 { // an empty bucket takes a drained one's array
			*b = t.spare[len(t.spare)-1]
			t.spare = t.spare[:len(t.spare)-1]
		}
		*b = append(*b, int32(id))
	}
	return d, true
}

// slot is the ring index of the bucket whose boundary is at d.
func (t *Tracker) slot(d clock.Time) int {
	n := (int64(d) + int64(t.theta)) / (t.kms * int64(time.Millisecond))
	return int(n & int64(len(t.ring)-1))
}

// Expire is the expirer waking at NextBoundary: it marks every session of
// that bucket closing, appends their ids to into (in bucket order) and
// advances the boundary by one tick.
func (t *Tracker) Expire(now clock.Time, into []int64) []int64 {
	if now != t.next {
		panic(fmt.Sprintf("model: expirer ran at %v, boundary is %v", now, t.next))
	}
	b := &t.ring[t.slot(now)]
	// Newest first: the order of a list that each touch prepends to.
	for j := len(*b) - 1; j >= 0; j-- {
		s := &t.sessions[(*b)[j]]
		if s.deadline == now && s.status == statusActive {
			s.status = statusClosing
			into = append(into, int64((*b)[j]))
		}
	}
	if *b != nil {
		t.spare = append(t.spare, (*b)[:0])
		*b = nil
	}
	t.next = now.Add(time.Duration(t.kms) * time.Millisecond) // Java's tick is whole ms
	return into
}

// ExpireAt expires session id if its unrounded deadline has come (rounding
// off): at its deadline, or later when the expirer was paused.
func (t *Tracker) ExpireAt(now clock.Time, id int64) bool {
	if id <= 0 || id >= int64(len(t.sessions)) {
		return false
	}
	s := &t.sessions[id]
	if s.status != statusActive || s.deadline > now {
		return false
	}
	s.status = statusClosing
	return true
}

// Remove forgets a session once its closeSession has committed.
func (t *Tracker) Remove(id int64) {
	if id <= 0 || id >= int64(len(t.sessions)) || t.sessions[id].status == statusAbsent {
		return
	}
	t.sessions[id] = trackedSession{} // entries left in buckets are stale
}

// Known reports whether session id is tracked and not closing.
func (t *Tracker) Known(id int64) bool {
	return id > 0 && id < int64(len(t.sessions)) && t.sessions[id].status == statusActive
}

// Deadline is session id's expiry instant E, or clock.Never.
func (t *Tracker) Deadline(id int64) clock.Time {
	if id <= 0 || id >= int64(len(t.sessions)) || t.sessions[id].status == statusAbsent {
		return clock.Never
	}
	return t.sessions[id].deadline
}

// LastTouch is when session id was last touched.
func (t *Tracker) LastTouch(id int64) clock.Time {
	if id <= 0 || id >= int64(len(t.sessions)) {
		return clock.Never
	}
	return t.sessions[id].lastTouch
}

// Timeout is session id's stored timeout.
func (t *Tracker) Timeout(id int64) time.Duration {
	if id <= 0 || id >= int64(len(t.sessions)) {
		return 0
	}
	return t.sessions[id].timeout
}
