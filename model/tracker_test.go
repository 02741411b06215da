package model

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// boundary's cached answer equals roundToNextInterval computed the way Java
// does (whole ms, then the tick), for times that mostly move forward a
// little, sometimes jump, and sometimes go back.
func TestTrackerBoundaryMatchesJava(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		tick := time.Duration(1+rng.IntN(5000)) * time.Millisecond
		theta := time.Duration(rng.Int64N(int64(tick)))
		tr := NewTracker(0, tick, theta, time.Minute, true)
		at := clock.Time(rng.Int64N(int64(time.Hour)))
		for i := range 5000 {
			switch r := rng.IntN(100); {
			case r < 90:
				at += clock.Time(rng.Int64N(int64(time.Second)))
			case r < 95:
				at += clock.Time(rng.Int64N(int64(time.Hour)))
			default:
				at = clock.Time(rng.Int64N(int64(at) + 1))
			}
			kms := tick.Milliseconds()
			local := (int64(at) + int64(theta)) / int64(time.Millisecond)
			wantN := local/kms + 1
			want := clock.Time(wantN*kms*int64(time.Millisecond) - int64(theta))
			n, got := tr.boundary(at)
			require.Equal(t, wantN, n, "seed=%d step=%d at=%v tick=%v theta=%v", seed, i, at, tick, theta)
			require.Equal(t, want, got, "seed=%d step=%d at=%v tick=%v theta=%v", seed, i, at, tick, theta)
		}
	}
}

// Every word a Client can note is a trace vocabulary word.
func TestNoteWordsAreInTheVocabulary(t *testing.T) {
	for n := noteNone + 1; int(n) < len(noteWords); n++ {
		require.Contains(t, Vocabulary, n.String(), "note %d", n)
	}
}

// The bucketed tracker expires exactly the sessions a naive table says, in
// the naive order (latest bucket change first), on random touches, adds and
// removals.
func TestTrackerExpiresLikeANaiveTable(t *testing.T) {
	type naive struct {
		deadline clock.Time
		changed  int // when the deadline last changed
		status   sessionStatus
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 9))
		tick := time.Duration(500+rng.IntN(3000)) * time.Millisecond
		theta := time.Duration(rng.Int64N(int64(tick)))
		timeout := time.Duration(2+rng.IntN(30)) * time.Second
		tr := NewTracker(0, tick, theta, timeout, true)
		ref := map[int64]*naive{}
		step := 0
		var now clock.Time
		for step < 4000 {
			step++
			if next := tr.NextBoundary(); rng.IntN(3) == 0 || now.Add(time.Second) > next {
				now = next
				got := tr.Expire(now, nil)
				var want []int64
				for id, s := range ref {
					if s.status == statusActive && s.deadline == now {
						want = append(want, id)
					}
				}
				slices.SortFunc(want, func(a, b int64) int { return ref[b].changed - ref[a].changed })
				for _, id := range want {
					ref[id].status = statusClosing
				}
				require.Equal(t, want, got, "seed=%d step=%d now=%v", seed, step, now)
				continue
			}
			now += clock.Time(rng.Int64N(int64(time.Second)))
			id := int64(1 + rng.IntN(60))
			s := ref[id]
			switch {
			case s == nil:
				d := tr.Add(now, id, timeout)
				ref[id] = &naive{deadline: d, changed: step, status: statusActive}
			case rng.IntN(20) == 0:
				tr.Remove(id)
				delete(ref, id)
			default:
				d, ok := tr.Touch(now, id, timeout)
				require.Equal(t, s.status == statusActive, ok, "seed=%d step=%d", seed, step)
				if ok && d != s.deadline {
					s.deadline, s.changed = d, step
				}
			}
		}
	}
}

// A tick that is not a whole number of milliseconds is truncated to Java's
// int ms everywhere: bucket boundaries, the expirer's steps and the bucket
// it drains agree, and an untouched session expires in (T, T+k].
func TestTrackerSubMillisecondTick(t *testing.T) {
	tick := 2*time.Second + 300*time.Microsecond
	tr := NewTracker(0, tick, 0, time.Minute, true)
	const timeout = 10 * time.Second
	tr.Add(0, 1, timeout)
	var expiredAt clock.Time
	for expiredAt == 0 {
		now := tr.NextBoundary()
		require.Less(t, now, clock.Zero.Add(time.Minute), "the session never expired")
		if got := tr.Expire(now, nil); len(got) > 0 {
			require.Equal(t, []int64{1}, got)
			expiredAt = now
		}
	}
	assert.Greater(t, expiredAt, clock.Zero.Add(timeout))
	assert.LessOrEqual(t, expiredAt, clock.Zero.Add(timeout+2*time.Second))
}
