package plots

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

// failoverResult is a leader-crash sweep over T: no expiry, about half a
// second without a leader, a storm of a few hundred connects per second.
func failoverResult() experiments.Result {
	return sweep("leader-failover", []experiments.Axis{secondsAxis(timeoutKey, 6, 10, 20, 40)}, func(v map[string]float64) []experiments.Metric {
		mean := func(name, unit string, est, half float64) experiments.Metric {
			return experiments.Metric{Name: name, Unit: unit, Estimate: est, Lower: est - half, Upper: est + half, Count: 24, Trials: 24,
				Method: experiments.MethodStudentT}
		}
		return []experiments.Metric{
			proportion(experiments.MetricExpiryPerOutage, 0, 24000),
			mean(experiments.MetricNoLeader, "s", 0.4+0.001*v[timeoutKey], 0.05),
			mean(experiments.MetricDropped, "connections", 1000, 0),
			mean(experiments.MetricReconnectStorm, "connects/s", 470, 12),
		}
	})
}

func TestFailoverChart(t *testing.T) {
	r := failoverResult()
	b, err := Failover(r, experiments.MetricExpiryPerOutage)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 768, 960), img.Bounds(), "three panels, 8x10 in at 96 dpi")
	colours, frac := ink(t, NameFailover, img)
	assert.Greater(t, colours, 20)
	assert.Greater(t, frac, 0.02)
	assert.Less(t, frac, 0.6)
	require.NoError(t, os.WriteFile(filepath.Join(t.ArtifactDir(), NameFailover), b, 0o644))

	again, err := Failover(r, experiments.MetricExpiryPerOutage)
	require.NoError(t, err)
	assert.Equal(t, b, again, "same result, same bytes")

	cs, err := Charts(r)
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	assert.Contains(t, names, NameFailover, "Charts draws it for server-side faults")

	// Without the ensemble's metrics it does not apply.
	for i := range r.Points {
		r.Points[i].Metrics = r.Points[i].Metrics[:1]
	}
	cs, err = Charts(r)
	require.NoError(t, err)
	for _, c := range cs {
		assert.NotEqual(t, NameFailover, c.Name)
	}
}
