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
	// rootFree: the root entry was consumed by Step but not yet removed; the
	// next push takes its place (one sift-down instead of a pop and a push).
	rootFree bool
	// lanes are FIFOs of events whose times never decrease in scheduling
	// order (constant delays): they need no heap. Lane 0 is PostOrdered's.
	lanes []laneQ
}

// Lane names a FIFO lane of an Engine (see NewLane).
type Lane int32

type laneQ struct {
	ents []laneEnt // ents[head:] are pending, in time order
	head int
}

// laneEnt is a lane entry: a Post carries its event inline (its slot bits
// are inlineSlot); a Schedule refers to a slot, so that it can be stopped.
// ev.At is the entry's time either way.
type laneEnt struct {
	key uint64 // seq<<slotBits | slot
	ev  Event
}

// inlineSlot in a lane key's slot bits marks an inline event; no real slot
// reaches it (store panics first).
const inlineSlot = slotMask

func (x *laneEnt) slotted() bool { return x.key&slotMask != inlineSlot }

// NewEngine returns an engine at time zero that dispatches events to h.
func NewEngine(h Handler) *Engine {
	return &Engine{handler: h, heap: make([]entry, 0, 64), lanes: make([]laneQ, 1, 4)}
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
		n += len(e.lanes[i].ents) - e.lanes[i].head
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
// they only skip the heap.
func (e *Engine) NewLane() Lane {
	e.lanes = append(e.lanes, laneQ{})
	return Lane(len(e.lanes) - 1)
}

// PostOrdered is PostOn(0, ev): the default lane.
func (e *Engine) PostOrdered(ev Event) { e.PostOn(0, ev) }

// PostOn queues ev on lane l; it cannot be cancelled. It panics if ev.At is
// before Now or before the lane's last event.
func (e *Engine) PostOn(l Lane, ev Event) {
	if ev.At < e.now {
		panic(fmt.Sprintf("sim: scheduling at %v, before now %v", ev.At, e.now))
	}
	q := e.laneFor(l, ev.At)
	e.seq++
	if e.seq > maxSeq {
		panic("sim: event sequence exhausted")
	}
	q.ents = append(q.ents, laneEnt{key: e.seq<<slotBits | inlineSlot, ev: ev})
}

// ScheduleOn queues ev on lane l and returns a Timer that can stop it.
func (e *Engine) ScheduleOn(l Lane, ev Event) Timer {
	q := e.laneFor(l, ev.At)
	slot := e.store(ev)
	q.ents = append(q.ents, laneEnt{key: e.nextKey(slot), ev: Event{At: ev.At}})
	return Timer{slot: slot, gen: e.slots[slot].gen}
}

// laneFor checks the lane's order and compacts it.
func (e *Engine) laneFor(l Lane, at clock.Time) *laneQ {
	q := &e.lanes[l]
	if n := len(q.ents); n > q.head && at < q.ents[n-1].ev.At {
		panic(fmt.Sprintf("sim: lane %d: event at %v, before the previous one at %v", l, at, q.ents[n-1].ev.At))
	}
	if q.head > 0 && q.head == len(q.ents) {
		q.ents, q.head = q.ents[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.ents) {
		n := copy(q.ents, q.ents[q.head:])
		q.ents, q.head = q.ents[:n], 0
	}
	return q
}

// laneTop drops stopped entries from the front of lane q and reports
// whether a live one remains.
func (e *Engine) laneTop(q *laneQ) bool {
	for q.head < len(q.ents) {
		x := &q.ents[q.head]
		if !x.slotted() {
			return true
		}
		slot := int32(x.key & slotMask)
		if e.slots[slot].live {
			return true
		}
		e.free = append(e.free, slot)
		q.head++
	}
	return false
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
// entry stays in the queue and is dropped, unseen, when it reaches the front.
func (e *Engine) Stop(t Timer) bool {
	if !e.Active(t) {
		return false
	}
	e.slots[t.slot].live = false
	return true
}

// settle removes a consumed root that no push replaced.
func (e *Engine) settle() {
	if e.rootFree {
		e.rootFree = false
		e.pop()
	}
}

// heapTop drops cancelled entries from the front of the heap and reports
// whether a live one remains.
func (e *Engine) heapTop() bool {
	e.settle()
	for len(e.heap) > 0 {
		slot := int32(e.heap[0].key & slotMask)
		if e.slots[slot].live {
			return true
		}
		e.pop()
		e.free = append(e.free, slot) // a cancelled entry: drop it
	}
	return false
}

// Peek returns the time of the next live event, or clock.Never if none.
func (e *Engine) Peek() clock.Time {
	t := clock.Never
	if e.heapTop() {
		t = e.heap[0].at
	}
	for i := range e.lanes {
		if q := &e.lanes[i]; e.laneTop(q) && q.ents[q.head].ev.At < t {
			t = q.ents[q.head].ev.At
		}
	}
	return t
}

// Step runs the next live event, if any, and reports whether one ran.
func (e *Engine) Step() bool { return e.StepUntil(clock.Never) }

// StepUntil runs the next live event if it is at or before end, and reports
// whether one ran (RunUntil's loop with one scan of the queues per event).
func (e *Engine) StepUntil(end clock.Time) bool {
	best := -1 // lane index, or -1 for the heap
	var top entry
	inHeap := e.heapTop()
	if inHeap {
		top = e.heap[0]
	}
	for i := range e.lanes {
		q := &e.lanes[i]
		if !e.laneTop(q) {
			continue
		}
		x := &q.ents[q.head]
		c := entry{at: x.ev.At, key: x.key}
		if (best < 0 && !inHeap) || before(c, top) == 1 {
			best, top = i, c
		}
	}
	if (best >= 0 || inHeap) && top.at > end {
		return false
	}
	switch {
	case best >= 0:
		q := &e.lanes[best]
		x := &q.ents[q.head]
		q.head++
		if x.slotted() {
			e.take(int32(x.key & slotMask))
		} else {
			e.cur = x.ev
		}
	case inHeap:
		e.rootFree = true // removed lazily: a push from the handler replaces it
		e.take(int32(top.key & slotMask))
	default:
		return false
	}
	e.now = top.at
	e.fired++
	if e.cur.Kind == kindFn {
		i := int32(e.cur.X)
		f := e.fns[i]
		e.fns[i] = nil
		e.freeFns = append(e.freeFns, i)
		f()
	} else {
		e.handler.Handle(&e.cur)
	}
	return true
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
		if len(e.slots) >= inlineSlot {
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
