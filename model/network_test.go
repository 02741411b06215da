package model

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// The fast paths of Network (the per-client bit set, the ring of recent cut
// starts) answer exactly what the layered definition answers: a packet is
// lost if its path is cut at arrival or a cut covering it began in flight.
func TestNetworkLossAgainstDefinition(t *testing.T) {
	const clients, servers = 5, 3
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 9))
		fixed := Fixed(time.Millisecond)
		n := newNetwork(nil, clients, servers, NewSampler(fixed, rng))
		type cut struct {
			client, server int
			d              Direction
		}
		var open []cut
		now := clock.Time(0)
		for step := 0; step < 3000; step++ {
			now += clock.Time(rng.IntN(2000))
			switch op := rng.IntN(10); {
			case op < 2:
				c := cut{rng.IntN(clients+1) - 1, rng.IntN(servers+1) - 1, Direction(rng.IntN(3))}
				n.cut(now, c.client, c.server, c.d, +1)
				open = append(open, c)
			case op < 4 && len(open) > 0:
				i := rng.IntN(len(open))
				c := open[i]
				n.cut(now, c.client, c.server, c.d, -1)
				open = append(open[:i], open[i+1:]...)
			default:
				cl, sv, d := int32(rng.IntN(clients)), int32(rng.IntN(servers)), dir(rng.IntN(2))
				sent := max(0, now-clock.Time(rng.IntN(5000)))
				want := n.downLayers(cl, sv, d) || n.lastStart(cl, sv, d) >= sent
				require.Equal(t, want, n.lost(now, sent, cl, sv, d), "seed=%d step=%d", seed, step)
				require.Equal(t, n.downLayers(cl, sv, d), n.down(cl, sv, d), "seed=%d step=%d", seed, step)
			}
		}
	}
}
