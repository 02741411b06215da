package sim

import (
	"testing"

	"hbsim/clock"
)

type pinger struct {
	e    *Engine
	lane Lane
	n    int
}

func (p *pinger) Handle(ev *Event) {
	switch ev.Kind {
	case 1: // wake: send ping, re-arm
		p.e.PostOrdered(Event{At: ev.At + 1_000_000, Kind: 2, A: ev.A})
		p.e.PostOn(p.lane, Event{At: ev.At + 3_333_000_000, Kind: 1, A: ev.A})
	case 2:
		p.e.PostOrdered(Event{At: ev.At + 1_000_000, Kind: 3, A: ev.A})
	case 3:
		p.n++
	}
}

func BenchmarkPingPattern(b *testing.B) {
	p := &pinger{}
	e := NewEngine(p)
	p.e = e
	p.lane = e.NewLane()
	for i := range 1000 {
		e.PostOn(p.lane, Event{At: clock.Time(i) * 3_333_000, Kind: 1, A: int32(i)})
	}
	for i := range 1000 {
		e.Schedule(Event{At: clock.Time(i) * 3_600_000_000_000, Kind: 4, A: int32(i)})
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Step()
	}
}
