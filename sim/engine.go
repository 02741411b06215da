package sim

import (
	"fmt"

	"time"

	"hbsim/clock"
)

// Event is one scheduled occurrence. Kind, A, B and X are owned by whoever
// scheduled it (typically the model's wiring), which decodes them in its
// Handler; the engine only orders and dispatches. Fn, when set, is called
// instead of the engine's Handler.
type Event struct {
	At   clock.Time
	Kind uint16
	A, B int32
	X    uint64
	Fn   func()

	seq    uint64
	handle int32
}

// Seq is the event's scheduling sequence number: the FIFO tie-breaker.
func (e *Event) Seq() uint64 { return e.seq }

// Handler receives every event that carries no Fn. The *Event is valid only
// during the call.
type Handler interface {
	Handle(e *Event)
}

// Timer refers to one scheduled event so that it can be stopped or moved.
// The zero Timer refers to nothing.
type Timer struct {
	handle int32
	seq    uint64
}

// Engine is the event queue and the virtual clock of one run.
type Engine struct {
	now     clock.Time
	seq     uint64
	heap    []Event
	pos     []int32 // pos[handle] = index in heap, or -1 when free
	free    []int32
	handler Handler
	fired   uint64
	cur     Event // the event being dispatched; a field so that it does not escape per event
}

// NewEngine returns an engine at time zero that dispatches Fn-less events to h.
func NewEngine(h Handler) *Engine {
	return &Engine{handler: h, heap: make([]Event, 0, 64), pos: make([]int32, 0, 64)}
}

// SetHandler replaces the handler for Fn-less events.
func (e *Engine) SetHandler(h Handler) { e.handler = h }

// Now is the current virtual time.
func (e *Engine) Now() clock.Time { return e.now }

// Fired counts the events dispatched so far.
func (e *Engine) Fired() uint64 { return e.fired }

// Pending is the number of scheduled events.
func (e *Engine) Pending() int { return len(e.heap) }

// Schedule queues ev at ev.At and returns its Timer. It panics if ev.At is
// before Now.
func (e *Engine) Schedule(ev Event) Timer {
	if ev.At < e.now {
		panic(fmt.Sprintf("sim: scheduling at %v, before now %v", ev.At, e.now))
	}
	var h int32
	if n := len(e.free); n > 0 {
		h = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		h = int32(len(e.pos))
		e.pos = append(e.pos, -1)
	}
	e.seq++
	ev.seq = e.seq
	ev.handle = h
	i := len(e.heap)
	e.heap = append(e.heap, ev)
	e.pos[h] = int32(i)
	e.up(i)
	return Timer{handle: h, seq: ev.seq}
}

// At schedules f at t.
func (e *Engine) At(t clock.Time, f func()) Timer { return e.Schedule(Event{At: t, Fn: f}) }

// After schedules f at Now+d.
func (e *Engine) After(d time.Duration, f func()) Timer {
	return e.Schedule(Event{At: e.now.Add(d), Fn: f})
}

// Active reports whether t refers to an event that has not yet run.
func (e *Engine) Active(t Timer) bool { return e.index(t) >= 0 }

// When returns the time t is scheduled for, or clock.Never if it is not pending.
func (e *Engine) When(t Timer) clock.Time {
	if i := e.index(t); i >= 0 {
		return e.heap[i].At
	}
	return clock.Never
}

func (e *Engine) index(t Timer) int {
	if t.seq == 0 || int(t.handle) >= len(e.pos) {
		return -1
	}
	i := e.pos[t.handle]
	if i < 0 || e.heap[i].seq != t.seq {
		return -1
	}
	return int(i)
}

// Stop cancels t. It reports whether t was pending.
func (e *Engine) Stop(t Timer) bool {
	i := e.index(t)
	if i < 0 {
		return false
	}
	e.removeAt(i)
	return true
}

// Reset moves t to time at, with a fresh seq (so it runs after events already
// scheduled for at). If t is not pending it returns false and does nothing;
// otherwise the returned Timer replaces t. It panics if at is before Now.
func (e *Engine) Reset(t Timer, at clock.Time) (Timer, bool) {
	i := e.index(t)
	if i < 0 {
		return t, false
	}
	if at < e.now {
		panic(fmt.Sprintf("sim: rescheduling at %v, before now %v", at, e.now))
	}
	e.seq++
	ev := &e.heap[i]
	ev.At = at
	ev.seq = e.seq
	nt := Timer{handle: ev.handle, seq: ev.seq}
	if !e.up(i) {
		e.down(i)
	}
	return nt, true
}

// Peek returns the time of the next event, or clock.Never if none.
func (e *Engine) Peek() clock.Time {
	if len(e.heap) == 0 {
		return clock.Never
	}
	return e.heap[0].At
}

// Step runs the next event, if any, and reports whether one ran.
func (e *Engine) Step() bool {
	if len(e.heap) == 0 {
		return false
	}
	e.cur = e.heap[0]
	e.removeAt(0)
	e.now = e.cur.At
	e.fired++
	if e.cur.Fn != nil {
		e.cur.Fn()
	} else {
		e.handler.Handle(&e.cur)
	}
	return true
}

// RunUntil runs every event scheduled at or before t (inclusive), including
// those the events themselves schedule within that window, then sets Now to t
// if t is later. It returns the number of events run.
func (e *Engine) RunUntil(t clock.Time) uint64 {
	start := e.fired
	for len(e.heap) > 0 && e.heap[0].At <= t {
		e.Step()
	}
	if t > e.now {
		e.now = t
	}
	return e.fired - start
}

func less(a, b *Event) bool {
	if a.At != b.At {
		return a.At < b.At
	}
	return a.seq < b.seq
}

func (e *Engine) swap(i, j int) {
	h := e.heap
	h[i], h[j] = h[j], h[i]
	e.pos[h[i].handle] = int32(i)
	e.pos[h[j].handle] = int32(j)
}

// up sifts i towards the root and reports whether it moved.
func (e *Engine) up(i int) bool {
	moved := false
	for i > 0 {
		p := (i - 1) / 2
		if !less(&e.heap[i], &e.heap[p]) {
			break
		}
		e.swap(i, p)
		i = p
		moved = true
	}
	return moved
}

func (e *Engine) down(i int) {
	n := len(e.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(&e.heap[r], &e.heap[l]) {
			m = r
		}
		if !less(&e.heap[m], &e.heap[i]) {
			return
		}
		e.swap(i, m)
		i = m
	}
}

func (e *Engine) removeAt(i int) {
	h := e.heap[i].handle
	last := len(e.heap) - 1
	if i != last {
		e.swap(i, last)
	}
	e.heap[last] = Event{}
	e.heap = e.heap[:last]
	e.pos[h] = -1
	e.free = append(e.free, h)
	if i != last {
		if !e.up(i) {
			e.down(i)
		}
	}
}
