package clock

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestArithmetic(t *testing.T) {
	t0 := At(90 * time.Second)
	assert.Equal(t, "1m30s", t0.String())
	assert.Equal(t, Time(95*time.Second), t0.Add(5*time.Second))
	assert.Equal(t, 5*time.Second, t0.Add(5*time.Second).Sub(t0))
	assert.True(t, t0.Before(t0.Add(1)))
	assert.True(t, t0.Add(1).After(t0))
	assert.False(t, t0.Before(t0))
	assert.Equal(t, int64(90_000), t0.Millis())
	assert.Equal(t, "never", Never.String())
	assert.Equal(t, t0, Max(t0, Zero))
	assert.Equal(t, Zero, Min(t0, Zero))
}

func TestFromSeconds(t *testing.T) {
	tests := []struct {
		in   float64
		want time.Duration
	}{
		{1.5, 1500 * time.Millisecond},
		{0.0000000014, 1},
		{0.0000000015, 2},
		{-0.0000000015, -2},
		{math.NaN(), 0},
		{math.Inf(1), time.Duration(math.MaxInt64)},
		{math.Inf(-1), time.Duration(math.MinInt64)},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, FromSeconds(tc.in), "in=%v", tc.in)
	}
}
