package model

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// Canonical is the hb-canonical workload of the performance issue: idle
// clients at T = 10 s against one standalone server, tick 2 s, 1 ms one-way
// latency, 50 ms connect latency, per-client Poisson outages (1 per hour,
// exponential durations with mean 5 s, both directions), ideal transport,
// client profile 3.8, seed 1.
func Canonical(clients int, horizon time.Duration) Config {
	lat := Fixed(time.Millisecond)
	return Config{
		Seed: 1, Horizon: horizon, Clients: clients, Servers: 1,
		Client:  ClientConfig{SessionTimeout: 10 * time.Second, Version: V38},
		Server:  ServerConfig{TickTime: 2 * time.Second},
		Network: NetworkConfig{Latency: &lat, Transport: Ideal, ConnectLatency: 50 * time.Millisecond},
		Faults: []Fault{{Kind: Outage, Target: Target{Client: AllClients, Server: AllServers, Direction: Both},
			Arrival: Poisson, Every: time.Hour, Duration: Law{Kind: LawExponential, Mean: 5}}},
	}
}

// BenchmarkCanonical reports events/s, simulated session-hours per second,
// allocations per event and bytes per session for hb-canonical.
func BenchmarkCanonical(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			cfg := Canonical(n, time.Hour)
			b.ReportAllocs()
			var events, runAllocs uint64
			var ms0, ms1 runtime.MemStats
			for b.Loop() {
				w, err := NewWorld(cfg, Options{})
				if err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&ms0)
				st, err := w.Run()
				if err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&ms1)
				runAllocs += ms1.Mallocs - ms0.Mallocs
				events += st.Events
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(events)/sec, "events/s")
			b.ReportMetric(float64(b.N)*float64(n)*cfg.Horizon.Hours()/sec, "session-hours/s")
			// allocations while running, setup excluded (buffers still warming up)
			b.ReportMetric(float64(runAllocs)/float64(events), "allocs/event")
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}

// BenchmarkMemoryPerSession measures the live heap of a world per session
// after a simulated hour of hb-canonical (reconnects included).
func BenchmarkMemoryPerSession(b *testing.B) {
	const n = 20000
	cfg := Canonical(n, time.Hour)
	for b.Loop() {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		w, err := NewWorld(cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Run(); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/n, "bytes/session")
		runtime.KeepAlive(w)
	}
}

// TestSteadyStateAllocations: after an hour of hb-canonical (every buffer at
// its working size), a further simulated hour allocates nothing per event.
func TestSteadyStateAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates two hours of 200 sessions")
	}
	w, err := NewWorld(Canonical(200, 3*time.Hour), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RunFor(time.Hour); err != nil {
		t.Fatal(err)
	}
	before := w.Engine().Fired()
	allocs := testing.AllocsPerRun(1, func() {
		if err := w.RunFor(time.Hour); err != nil {
			t.Fatal(err)
		}
	})
	events := w.Engine().Fired() - before
	t.Logf("steady state: %v allocations over %d events", allocs, events)
	if allocs/float64(events) > 1e-5 {
		t.Fatalf("%v allocations over %d events in steady state", allocs, events)
	}
}
