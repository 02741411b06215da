package sim

import (
	"fmt"
	"math/bits"
	"time"

	"hbsim/clock"
)

// Event is one scheduled occurrence. Kind, A, B and X are owned by whoever
// scheduled it (typically the model's wiring), which decodes them in its
// Handler; the engine only orders and dispatches. Events hold no pointers,
// so the queue costs the garbage collector nothing.
type Event struct {
	At   clock.Time
	X    uint64
	A    int32
	B    int32
	Kind uint16

	live bool   // false once stopped (or not yet scheduled)
	gen  uint32 // generation of the slot when scheduled
}

// kindFn marks events scheduled with At/After: X indexes Engine.fns.
const kindFn = ^uint16(0)

// Handler receives every event scheduled with Schedule or Post. The *Event
// is valid only during the call.
type Handler interface {
	Handle(e *Event)
}

// Timer refers to one cancellable scheduled event. The zero Timer refers to
// nothing.
type Timer struct {
	slot int32
	gen  uint32 // 0 = the zero Timer
}

// entry is what the heap orders: 16 bytes, so four children share a cache
// line. key = seq<<slotBits | slot: comparing keys compares seq, which is
// unique, so same-time events run in scheduling order.
type entry struct {
	at  clock.Time
	key uint64
}

const (
	slotBits = 24 // at most 16M pending events
	slotMask = 1<<slotBits - 1
	maxSeq   = 1<<(64-slotBits) - 1
)

// An engine's capacity; going past either panics (a broken invariant of
// the caller, which must size its runs: see experiments' cost estimate).
const (
	// MaxPending is the most events an engine holds pending at once.
	MaxPending = slotMask + 1
	// MaxScheduled is the most events an engine schedules in its life
	// (about 1.1e12).
	MaxScheduled = maxSeq
)

// Engine is the event queue and the virtual clock of one run.
type Engine struct {
	now     clock.Time
	seq     uint64
	heap    []entry  // binary min-heap on (at, key)
	slots   []Event  // payloads, by slot
	free    []int32  // free slots
	fns     []func() // callbacks of At/After events
	freeFns []int32
	handler Handler
	fired   uint64
	cur     Event // the event being dispatched; a field so that it does not escape
	// rootFree: the root entry was consumed by Next but not yet removed; the
	// next push takes its place (one sift-down instead of a pop and a push).
	rootFree bool
	// root is the heap's root, always a live entry unless rootFree;
	// heads[l] is lane l's first entry. noEntry marks an empty queue (and an
	// unused lane). Choosing the next event compares these three entries only.
	root  entry
	heads [maxLanes]entry
	// lanes are FIFOs of events whose times never decrease in scheduling
	// order (constant delays): they need no heap. Lane 0 is PostOrdered's.
	lanes  [maxLanes]laneQ
	nlanes int
}

// maxLanes bounds NewLane (the default lane and one more: what the model
// needs); every lane's head is compared on every event. A power of two.
const maxLanes = 2

// Lane names a FIFO lane of an Engine (see NewLane).
type Lane int32

// laneQ is a ring of a lane's pending events, ring[head&mask] first.
type laneQ struct {
	ring       []laneEnt // length a power of two
	head, tail uint64    // pending: tail-head entries
	last       clock.Time
}

// laneEnt is a lane's event: 32 bytes, two per cache line. key = seq<<slotBits
// | kind, so lane keys compare by seq exactly like heap keys.
type laneEnt struct {
	at   clock.Time
	key  uint64
	x    uint64
	a, b int32
}

// noEntry stands for an empty queue: it compares after every real entry, and
// its key is no real entry's (seq <= maxSeq).
var noEntry = entry{at: clock.Never, key: ^uint64(0)}

// NewEngine returns an engine at time zero that dispatches events to h.
func NewEngine(h Handler) *Engine {
	return &Engine{handler: h, heap: make([]entry, 0, 16), nlanes: 1, root: noEntry,
		heads: [maxLanes]entry{noEntry, noEntry}}
}

// Reset empties the engine and puts it back at time zero with one lane,
// keeping its memory: the next run allocates nothing its predecessor already
// had.
func (e *Engine) Reset() {
	clear(e.fns)
	*e = Engine{handler: e.handler, heap: e.heap[:0], slots: e.slots[:0], free: e.free[:0],
		fns: e.fns[:0], freeFns: e.freeFns[:0], nlanes: 1, root: noEntry,
		heads: [maxLanes]entry{noEntry, noEntry}, lanes: e.lanes}
	for i := range e.lanes {
		e.lanes[i] = laneQ{ring: e.lanes[i].ring}
	}
}

// Now is the current virtual time.
func (e *Engine) Now() clock.Time { return e.now }

// Fired counts the events dispatched so far (cancelled ones excluded).
func (e *Engine) Fired() uint64 { return e.fired }

// Pending is the number of queued entries, cancelled ones not yet dropped
// included.
func (e *Engine) Pending() int {
	n := len(e.heap)
	for i := range e.lanes {
		n += int(e.lanes[i].tail - e.lanes[i].head)
	}
	if e.rootFree {
		n--
	}
	return n
}

// Post queues ev at ev.At; it cannot be cancelled. It panics if ev.At is
// before Now.
func (e *Engine) Post(ev Event) { e.push(ev) }

// NewLane adds a FIFO lane. Events put on one lane must never go back in
// time in the order they are put there, which holds for any constant delay
// from Now. Lane events run in the same (time, seq) order as heap events;
// they only skip the heap. Lane events cannot be cancelled.
func (e *Engine) NewLane() Lane {
	if e.nlanes == maxLanes {
		panic(fmt.Sprintf("sim: more than %d lanes", maxLanes))
	}
	e.nlanes++
	return Lane(e.nlanes - 1)
}

// PostOrdered is PostOn(0, ev): the default lane.
func (e *Engine) PostOrdered(ev Event) { e.PostOn(0, ev) }

// PostOn queues ev on lane l. It panics if ev.At is before Now or before the
// lane's last event.
func (e *Engine) PostOn(l Lane, ev Event) {
	q := &e.lanes[l]
	if ev.At < q.last || ev.At < e.now || q.tail-q.head == uint64(len(q.ring)) {
		e.growLane(l, ev.At) // or panic
	}
	q.last = ev.At
	e.seq++
	if e.seq > maxSeq {
		panic("sim: event sequence exhausted")
	}
	key := e.seq<<slotBits | uint64(ev.Kind)
	if q.head == q.tail {
		e.heads[l] = entry{at: ev.At, key: key}
	}
	x := &q.ring[q.tail&uint64(len(q.ring)-1)]
	x.at, x.key, x.x, x.a, x.b = ev.At, key, ev.X, ev.A, ev.B
	q.tail++
}

// growLane is PostOn's rare path: an event out of order (a panic) or a full
// ring (grown).
//
//go:noinline
func (e *Engine) growLane(l Lane, at clock.Time) {
	q := &e.lanes[l]
	if at < q.last || at < e.now {
		panic(fmt.Sprintf("sim: lane %d: event at %v, before now %v or the lane's last event at %v", l, at, e.now, q.last))
	}
	q.grow()
}

// grow doubles a full ring (at least 16 entries), keeping the order.
func (q *laneQ) grow() {
	n := uint64(len(q.ring))
	ring := make([]laneEnt, max(16, 2*n))
	for i := q.head; i != q.tail; i++ {
		ring[i-q.head] = q.ring[i&(n-1)]
	}
	q.ring, q.tail, q.head = ring, q.tail-q.head, 0
}

// Schedule queues ev at ev.At and returns a Timer that can stop it. It panics
// if ev.At is before Now.
func (e *Engine) Schedule(ev Event) Timer {
	slot := e.push(ev)
	return Timer{slot: slot, gen: e.slots[slot].gen}
}

// At schedules f at t.
func (e *Engine) At(t clock.Time, f func()) Timer {
	var i int32
	if n := len(e.freeFns); n > 0 {
		i = e.freeFns[n-1]
		e.freeFns = e.freeFns[:n-1]
		e.fns[i] = f
	} else {
		i = int32(len(e.fns))
		e.fns = append(e.fns, f)
	}
	return e.Schedule(Event{At: t, Kind: kindFn, X: uint64(i)})
}

// After schedules f at Now+d.
func (e *Engine) After(d time.Duration, f func()) Timer { return e.At(e.now.Add(d), f) }

// Active reports whether t refers to an event that has neither run nor been
// stopped.
func (e *Engine) Active(t Timer) bool {
	if t.gen == 0 || int(t.slot) >= len(e.slots) {
		return false
	}
	ev := &e.slots[t.slot]
	return ev.live && ev.gen == t.gen
}

// Stop cancels t in O(1) and reports whether it was pending. The cancelled
// entry stays in the queue and is dropped, unseen, when it reaches the front
// (at once if it is the root).
func (e *Engine) Stop(t Timer) bool {
	if !e.Active(t) {
		return false
	}
	e.slots[t.slot].live = false
	if !e.rootFree && int32(e.root.key&slotMask) == t.slot && e.root != noEntry {
		e.syncRoot()
	}
	return true
}

// syncRoot drops cancelled entries from the front of the heap and copies the
// live root, if any, into root.
func (e *Engine) syncRoot() {
	for len(e.heap) > 0 {
		slot := int32(e.heap[0].key & slotMask)
		if e.slots[slot].live {
			e.root = e.heap[0]
			return
		}
		e.pop()
		e.free = append(e.free, slot) // a cancelled entry: drop it
	}
	e.root = noEntry
}

// Peek returns the time of the next live event, or clock.Never if none.
func (e *Engine) Peek() clock.Time {
	e.settle()
	top, _ := e.first()
	return top.at
}

// settle removes a consumed root that no push replaced.
func (e *Engine) settle() {
	if e.rootFree {
		e.rootFree = false
		e.pop()
		e.syncRoot()
	}
}

// first returns the first live entry and where it is (-1: the heap; l:
// lane l), or noEntry. The root must be settled.
func (e *Engine) first() (entry, int) {
	h := &e.heads
	top, best := e.root, -1
	if before(h[0], top) == 1 {
		top, best = h[0], 0
	}
	if before(h[1], top) == 1 {
		top, best = h[1], 1
	}
	return top, best
}

// Step runs the next live event, if any, and reports whether one ran.
func (e *Engine) Step() bool { return e.StepUntil(clock.Never) }

// StepUntil runs the next live event if it is at or before end, and reports
// whether one ran (RunUntil's loop with one scan of the queues per event).
func (e *Engine) StepUntil(end clock.Time) bool {
	ev := e.Next(end)
	if ev == nil {
		return false
	}
	if ev.Kind == kindFn {
		i := int32(ev.X)
		f := e.fns[i]
		e.fns[i] = nil
		e.freeFns = append(e.freeFns, i)
		f()
	} else {
		e.handler.Handle(ev)
	}
	return true
}

// Next removes the next live event if it is at or before end, advances Now
// to its time and returns it, valid until the next call; nil if there is
// none. A caller that drives the loop itself hands it to its own handler
// (a direct call), instead of StepUntil's dispatch through the Handler
// interface; it must not use Next with At or After events.
func (e *Engine) Next(end clock.Time) *Event {
	if e.rootFree { // settle checks again; the test here saves a call per event
		e.settle()
	}
	top, best := e.first()
	if top.at > end || top.key == noEntry.key {
		return nil
	}
	if best >= 0 { // pop lane best
		l := best & (maxLanes - 1)
		q := &e.lanes[l]
		mask := uint64(len(q.ring) - 1)
		x := &q.ring[q.head&mask]
		e.cur.At, e.cur.X, e.cur.A, e.cur.B, e.cur.Kind = x.at, x.x, x.a, x.b, uint16(x.key)
		q.head++
		h := noEntry
		if q.head != q.tail {
			n := &q.ring[q.head&mask]
			h = entry{at: n.at, key: n.key}
		}
		e.heads[l] = h
	} else {
		e.rootFree = true // removed lazily: a push from the handler replaces it
		e.take(int32(top.key & slotMask))
	}
	e.now = top.at
	e.fired++
	return &e.cur
}

// take moves a slot's event into cur and frees the slot.
func (e *Engine) take(slot int32) {
	ev := &e.slots[slot]
	e.cur = *ev
	ev.live = false
	e.free = append(e.free, slot)
}

// RunUntil runs every event scheduled at or before t (inclusive), including
// those the events themselves schedule within that window, then sets Now to t
// if t is later. It returns the number of events run.
func (e *Engine) RunUntil(t clock.Time) uint64 {
	start := e.fired
	for e.StepUntil(t) {
	}
	if t > e.now {
		e.now = t
	}
	return e.fired - start
}

// before reports a < b on (at, key) as 0 or 1 without a branch: the sign of
// the 128-bit difference (at, key) - (at', key'). Times are non-negative, so
// the high word never overflows. Sifting compares unpredictable pairs; a
// branch-free compare avoids the mispredictions.
func before(a, b entry) int {
	_, borrow := bits.Sub64(a.key, b.key, 0)
	hi, _ := bits.Sub64(uint64(a.at), uint64(b.at), borrow)
	return int(hi >> 63)
}

// store puts ev in a free slot, live, and returns the slot.
func (e *Engine) store(ev Event) int32 {
	if ev.At < e.now {
		panic(fmt.Sprintf("sim: scheduling at %v, before now %v", ev.At, e.now))
	}
	var slot int32
	if n := len(e.free); n > 0 {
		slot = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		if len(e.slots) > slotMask {
			panic("sim: more than 16M pending events")
		}
		slot = int32(len(e.slots))
		e.slots = append(e.slots, Event{})
	}
	gen := e.slots[slot].gen + 1
	if gen == 0 {
		gen = 1
	}
	ev.gen, ev.live = gen, true
	e.slots[slot] = ev
	return slot
}

// nextKey is the ordering key of the next scheduled event.
func (e *Engine) nextKey(slot int32) uint64 {
	e.seq++
	if e.seq > maxSeq {
		panic("sim: event sequence exhausted")
	}
	return e.seq<<slotBits | uint64(slot)
}

func (e *Engine) push(ev Event) int32 {
	slot := e.store(ev)
	x := entry{at: ev.At, key: e.nextKey(slot)}
	if e.rootFree {
		e.rootFree = false
		e.siftDown(x)
		e.syncRoot()
		return slot
	}
	h := append(e.heap, x)
	i := len(h) - 1
	for i > 0 { // sift up with a hole
		p := (i - 1) >> 1
		if before(x, h[p]) == 0 {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
	e.heap = h
	if i == 0 { // a new root; otherwise the (live) root stays
		e.root = x
	}
	return slot
}

// pop removes the root.
func (e *Engine) pop() {
	n := len(e.heap) - 1
	last := e.heap[n]
	e.heap = e.heap[:n]
	if n > 0 {
		e.siftDown(last)
	}
}

// siftDown puts x in the root's place and sifts it down with a hole.
func (e *Engine) siftDown(x entry) {
	h := e.heap
	n := len(h)
	i := 0
	for {
		c := 2*i + 1
		if c+1 < n {
			c += before(h[c+1], h[c])
		} else if c >= n {
			break
		}
		if before(h[c], x) == 0 {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}
