package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

type recorder struct{ got []int32 }

func (r *recorder) Handle(e *Event) { r.got = append(r.got, e.A) }

func TestSameTimeEventsRunFIFO(t *testing.T) {
	r := &recorder{}
	e := NewEngine(r)
	at := clock.At(time.Second)
	for i := range int32(50) {
		e.Schedule(Event{At: at, A: i})
	}
	e.Schedule(Event{At: clock.At(time.Millisecond), A: -1})
	e.RunUntil(at)
	want := []int32{-1}
	for i := range int32(50) {
		want = append(want, i)
	}
	assert.Equal(t, want, r.got)
}

func TestRunUntilIsInclusiveAndAdvancesNow(t *testing.T) {
	r := &recorder{}
	e := NewEngine(r)
	e.Schedule(Event{At: 10, A: 1})
	e.Schedule(Event{At: 20, A: 2})
	e.Schedule(Event{At: 21, A: 3})
	n := e.RunUntil(20)
	assert.Equal(t, uint64(2), n)
	assert.Equal(t, []int32{1, 2}, r.got)
	assert.Equal(t, clock.Time(20), e.Now())
	e.RunUntil(100)
	assert.Equal(t, clock.Time(100), e.Now())
	assert.Equal(t, []int32{1, 2, 3}, r.got)
}

func TestSchedulingIntoThePastPanics(t *testing.T) {
	e := NewEngine(&recorder{})
	e.RunUntil(50)
	assert.Panics(t, func() { e.Schedule(Event{At: 49}) })
	assert.Panics(t, func() { e.Post(Event{At: 10}) })
	assert.NotPanics(t, func() { e.Schedule(Event{At: 50}) })
}

func TestStop(t *testing.T) {
	r := &recorder{}
	e := NewEngine(r)
	a := e.Schedule(Event{At: 10, A: 1})
	b := e.Schedule(Event{At: 10, A: 2})
	c := e.Schedule(Event{At: 30, A: 3})
	e.Post(Event{At: 20, A: 4})
	assert.True(t, e.Active(a))
	assert.True(t, e.Stop(a))
	assert.False(t, e.Stop(a), "stopping twice")
	assert.False(t, e.Active(a))
	assert.True(t, e.Stop(c))
	c2 := e.Schedule(Event{At: 5, A: 3}) // a reschedule is a stop and a new event
	assert.True(t, e.Active(c2))
	assert.Equal(t, clock.Time(5), e.Peek())
	e.RunUntil(100)
	assert.Equal(t, []int32{3, 2, 4}, r.got)
	assert.False(t, e.Stop(b), "stopping an event that already ran")
	assert.False(t, e.Active(c2))
	var zero Timer
	assert.False(t, e.Active(zero))
	assert.False(t, e.Stop(zero))
	assert.Equal(t, uint64(3), e.Fired(), "cancelled events are not counted")
}

// A handle reused after a stop does not revive the cancelled entry.
func TestStoppedHandleReuse(t *testing.T) {
	r := &recorder{}
	e := NewEngine(r)
	a := e.Schedule(Event{At: 10, A: 1})
	e.Stop(a)
	b := e.Schedule(Event{At: 20, A: 2}) // reuses a's handle
	assert.False(t, e.Active(a))
	assert.True(t, e.Active(b))
	e.RunUntil(100)
	assert.Equal(t, []int32{2}, r.got)
}

func TestPostOrderedMergesWithHeap(t *testing.T) {
	r := &recorder{}
	e := NewEngine(r)
	e.PostOrdered(Event{At: 10, A: 1})
	e.Post(Event{At: 10, A: 2})
	e.PostOrdered(Event{At: 10, A: 3})
	e.Post(Event{At: 5, A: 4})
	e.PostOrdered(Event{At: 20, A: 5})
	e.Schedule(Event{At: 15, A: 6})
	assert.Equal(t, 6, e.Pending())
	assert.Panics(t, func() { e.PostOrdered(Event{At: 19}) }, "out of order")
	e.RunUntil(100)
	assert.Equal(t, []int32{4, 1, 2, 3, 6, 5}, r.got)
	assert.Zero(t, e.Pending())
}

func TestFnEvents(t *testing.T) {
	e := NewEngine(&recorder{})
	var got []string
	e.At(2, func() { got = append(got, "b") })
	e.At(1, func() {
		got = append(got, "a")
		e.After(5, func() { got = append(got, "c") })
	})
	e.RunUntil(clock.At(time.Second))
	assert.Equal(t, []string{"a", "b", "c"}, got)
}

// TestHeapAgainstNaiveQueue checks the heap against a sorted slice on random
// schedules with cancellations and reschedules.
func TestHeapAgainstNaiveQueue(t *testing.T) {
	type item struct {
		at  clock.Time
		seq int
		id  int32
	}
	seeds := uint64(200)
	if testing.Short() {
		seeds = 20
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 1))
		r := &recorder{}
		e := NewEngine(r)
		var naive []item
		timers := map[int32]Timer{}
		seq := 0
		var want []int32
		id := int32(0)
		var lastOrdered, lastOther clock.Time
		otherLane := e.NewLane()
		for step := 0; step < 2000; step++ {
			switch op := rng.IntN(10); {
			case op < 5:
				at := e.Now() + clock.Time(rng.IntN(50))
				timers[id] = e.Schedule(Event{At: at, A: id})
				seq++
				naive = append(naive, item{at, seq, id})
				id++
			case op < 6 && id > 0:
				victim := int32(rng.IntN(int(id)))
				stopped := e.Stop(timers[victim])
				i := slices.IndexFunc(naive, func(it item) bool { return it.id == victim })
				assert.Equal(t, i >= 0, stopped, "seed=%d stop %d", seed, victim)
				if i >= 0 {
					naive = slices.Delete(naive, i, i+1)
				}
			case op < 7 && id > 0:
				// reschedule: stop, then schedule again
				victim := int32(rng.IntN(int(id)))
				at := e.Now() + clock.Time(rng.IntN(50))
				ok := e.Stop(timers[victim])
				i := slices.IndexFunc(naive, func(it item) bool { return it.id == victim })
				assert.Equal(t, i >= 0, ok, "seed=%d reschedule %d", seed, victim)
				if ok {
					timers[victim] = e.Schedule(Event{At: at, A: victim})
					seq++
					naive[i] = item{at, seq, victim}
				}
			case op < 8:
				at := e.Now() + clock.Time(rng.IntN(50))
				e.Post(Event{At: at, A: -2})
				seq++
				naive = append(naive, item{at, seq, -2})
			case op < 9 && rng.IntN(2) == 0:
				// constant-delay posts through the default FIFO lane
				at := max(lastOrdered, e.Now()+clock.Time(rng.IntN(3)+20))
				lastOrdered = at
				e.PostOrdered(Event{At: at, A: -3})
				seq++
				naive = append(naive, item{at, seq, -3})
			case op < 9:
				// constant-delay posts through a second lane
				at := max(lastOther, e.Now()+clock.Time(rng.IntN(3)+30))
				lastOther = at
				e.PostOn(otherLane, Event{At: at, A: -4})
				seq++
				naive = append(naive, item{at, seq, -4})
			default:
				slices.SortFunc(naive, func(a, b item) int {
					if a.at != b.at {
						return int(a.at - b.at)
					}
					return a.seq - b.seq
				})
				if len(naive) > 0 {
					want = append(want, naive[0].id)
					naive = naive[1:]
				}
				e.Step()
			}
		}
		require.Equal(t, want, r.got, "seed=%d", seed)
	}
}

type counter struct {
	e *Engine
	n int
}

func (c *counter) Handle(ev *Event) {
	c.n++
	ev.At = ev.At.Add(time.Duration(1 + ev.X%997))
	c.e.Post(*ev)
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	c := &counter{}
	e := NewEngine(c)
	c.e = e
	for i := range uint64(1000) {
		e.Schedule(Event{At: clock.Time(i), X: i})
	}
	e.RunUntil(50_000)
	allocs := testing.AllocsPerRun(10, func() { e.RunUntil(e.Now() + 10_000) })
	assert.Zero(t, allocs)
}

func BenchmarkEngine(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			c := &counter{}
			e := NewEngine(c)
			c.e = e
			for i := range uint64(n) {
				e.Schedule(Event{At: clock.Time(i), X: i})
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Step()
			}
		})
	}
}

func TestStreamsAreIndependent(t *testing.T) {
	a1 := Stream(7, "client-jitter", 0)
	b1 := Stream(7, "client-jitter", 1)
	x := a1.Uint64()
	// Drawing from b does not change a's next value.
	a2 := Stream(7, "client-jitter", 0)
	for range 10 {
		b1.Uint64()
	}
	assert.Equal(t, x, a2.Uint64())
	assert.NotEqual(t, Stream(7, "client-jitter", 0).Uint64(), Stream(7, "network", 0).Uint64())
	assert.NotEqual(t, Stream(7, "x", 0).Uint64(), Stream(8, "x", 0).Uint64())
}

// A reset engine runs a schedule exactly as a new one does.
func TestResetEngineRunsLikeANewOne(t *testing.T) {
	run := func(e *Engine, r *recorder) []int32 {
		r.got = nil
		l := e.NewLane()
		for i := range int32(40) {
			e.Schedule(Event{At: clock.Time(i % 7), A: i})
			e.PostOn(l, Event{At: clock.Time(i), A: 100 + i})
			e.PostOrdered(Event{At: clock.Time(2 * i), A: 200 + i})
		}
		e.RunUntil(1000)
		return r.got
	}
	r := &recorder{}
	e := NewEngine(r)
	want := run(e, r)
	e.Schedule(Event{At: 2000, A: -1}) // left pending
	e.PostOrdered(Event{At: 3000, A: -2})
	e.Reset()
	assert.Equal(t, clock.Time(0), e.Now())
	assert.Zero(t, e.Pending())
	assert.Equal(t, want, run(e, r))
}

// pinger is hb-canonical's event pattern without the model: a wake posts a
// delivery (lane 0, 1 ms) and the next wake (a second lane, one ping period);
// a delivery posts the reply's delivery; the reply's delivery ends the cycle.
type pinger struct {
	e    *Engine
	lane Lane
	n    int
}

func (p *pinger) Handle(ev *Event) {
	switch ev.Kind {
	case 1:
		p.e.PostOrdered(Event{At: ev.At + clock.Time(time.Millisecond), Kind: 2, A: ev.A})
		p.e.PostOn(p.lane, Event{At: ev.At + clock.Time(3333*time.Millisecond), Kind: 1, A: ev.A})
	case 2:
		p.e.PostOrdered(Event{At: ev.At + clock.Time(time.Millisecond), Kind: 3, A: ev.A})
	case 3:
		p.n++
	}
}

// BenchmarkPingPattern is the engine's cost per event of hb-canonical's
// pattern: 1 000 clients, two lanes and a heap holding one far event each.
func BenchmarkPingPattern(b *testing.B) {
	p := &pinger{}
	e := NewEngine(p)
	p.e = e
	p.lane = e.NewLane()
	for i := range 1000 {
		e.PostOn(p.lane, Event{At: clock.Time(i) * clock.Time(3333*time.Microsecond), Kind: 1, A: int32(i)})
		e.Schedule(Event{At: clock.Time(i+1) * clock.Time(time.Hour), Kind: 4, A: int32(i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Step()
	}
}
