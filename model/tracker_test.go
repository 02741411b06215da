package model

import (
	"math/rand/v2"
	"testing"
	"time"

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
