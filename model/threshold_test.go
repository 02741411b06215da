package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// TestThresholdGrid checks the reference's survival criterion
// φ + D + w < T + g (zk-semantics §3.1) over a grid of timeouts, phases and
// outage lengths, with w and g read from each run's own trace: g from the
// deadline of the last touch before the outage, w from the first time the
// tracker is reached after it (by a retransmitted ping, the orphaned socket or
// a reconnect), for both SYN schedules.
func TestThresholdGrid(t *testing.T) {
	type grid struct {
		timeout time.Duration
		phases  []float64
		lengths []float64
	}
	grids := []grid{
		{10 * time.Second, []float64{0.1, 0.8, 1.6, 2.4, 3.2}, []float64{3, 5, 6.5, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11, 11.5, 12, 14}},
		{30 * time.Second, []float64{0.3, 2.5, 5, 7.5, 9.8}, []float64{10, 18, 20, 22, 24, 26, 28, 29, 30, 31, 32, 34}},
	}
	seeds := uint64(4)
	if testing.Short() {
		seeds = 1
	}
	survived, expired := 0, 0
	for _, syn := range []SYNSchedule{SYNClassic, SYNLinear} {
		for _, g := range grids {
			for _, phi := range g.phases {
				for _, d := range g.lengths {
					for seed := range seeds {
						name := fmt.Sprintf("syn=%s T=%v phi=%v D=%v seed=%d", syn, g.timeout, phi, d, seed)
						cfg := Config{
							Seed: seed, Horizon: 3 * time.Minute, Clients: 1, Servers: 1,
							Client:  ClientConfig{SessionTimeout: g.timeout},
							Network: NetworkConfig{Latency: &lan, SYN: syn},
							Faults: []Fault{{Kind: Outage, Target: Target{Client: 0, Server: AllServers, Direction: Both},
								Arrival: Scripted, At: []time.Duration{40 * time.Second}, Phase: secs(phi), PhaseSet: true,
								Duration: Fixed(secs(d))}},
						}
						c, st := runCaptured(t, cfg)
						out := c.filter("network", "outage-start")
						require.Len(t, out, 1, name)
						t0 := out[0].at
						heal := t0.Add(secs(d))
						// last touch of session 1 before the outage, and its deadline
						var tL, e clock.Time = -1, -1
						tR := clock.Never
						for _, r := range c.recs {
							if r.actor != "server-0" || r.field("session") != "0x1" {
								continue
							}
							switch {
							case r.event == "touch" && r.at <= t0:
								tL, e = r.at, r.seconds(t, "deadline")
							case (r.event == "touch" || r.event == "touch-failed") && r.at > t0 && tR == clock.Never:
								tR = r.at
							}
						}
						require.GreaterOrEqual(t, int64(tL), int64(0), name)
						phase := t0.Sub(tL)
						require.InDelta(t, phi, phase.Seconds(), 1e-9, name)
						grace := e.Sub(tL) - g.timeout
						require.True(t, grace > 0 && grace <= 2*time.Second, "%s: g=%v", name, grace)
						if tR == clock.Never {
							tR = clock.Zero.Add(cfg.Horizon) // never reached again: w is at least the rest of the run
						}
						w := tR.Sub(heal)
						survive := phase+secs(d)+w < g.timeout+grace
						gotExpired := st.Expiries > 0
						require.Equal(t, !survive, gotExpired, "%s: phi=%v D=%v w=%v g=%v T=%v", name, phase, d, w, grace, g.timeout)
						if survive {
							survived++
						} else {
							expired++
						}
					}
				}
			}
		}
	}
	require.Positive(t, survived)
	require.Positive(t, expired)
}
