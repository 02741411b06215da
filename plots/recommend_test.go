package plots

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

// recommendation is a search like the timeout example's: the target needs
// a timeout beyond the server's 40 s cap; a few candidates saw no expiry.
func recommendation() experiments.Recommendation {
	cand := func(t, p, n float64, verdict string, step int) experiments.Candidate {
		return experiments.Candidate{TimeoutS: t, Replications: int(n), Verdict: verdict, Step: step, BeyondServerMax: t > 40,
			Metrics: []experiments.Metric{proportion(experiments.MetricExpiryPerOutage, p, 13*n), detection(t)}}
	}
	return experiments.Recommendation{
		Name: "timeout-10s-vs-30s", Seed: 1,
		Target:      experiments.Target{Metric: experiments.MetricExpiryPerOutage, Value: 1e-3},
		MinTimeoutS: 4, MaxTimeoutS: 40, TickTimeS: 2, BucketRounding: true, CeilingS: 90,
		Candidates: []experiments.Candidate{
			cand(10, 0.63, 400, experiments.VerdictBaseline, 9),
			cand(40, 0.16, 400, experiments.VerdictMisses, 1),
			cand(60, 0.014, 400, experiments.VerdictMisses, 3),
			cand(65, 0.0056, 400, experiments.VerdictMisses, 5),
			cand(68.7, 0.0019, 1600, experiments.VerdictNotShown, 7),
			cand(69.3, 0.0004, 1600, experiments.VerdictMeets, 8),
			cand(70, 0.00043, 1600, experiments.VerdictMeets, 4),
			cand(80, 0, 400, experiments.VerdictMeets, 2),
		},
		Recommended: 5, Baseline: 0,
	}
}

func TestRecommendChart(t *testing.T) {
	rec := recommendation()
	p, err := Recommend(rec)
	b := render(t, "recommend-beyond-cap.png", p, err)
	p2, err := Recommend(rec)
	require.NoError(t, err)
	b2, err := RenderPNG(p2)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(b, b2), "same recommendation, same bytes")
	assert.Contains(t, p.Title.Text, "<= 0.001")

	// Inside the server's range, on a linear axis, without rounding.
	lin := experiments.Recommendation{
		Name: "linear", Target: experiments.Target{Metric: experiments.MetricExpiryPerOutage, Value: 0.1},
		MinTimeoutS: 4, MaxTimeoutS: 40, TickTimeS: 2, Recommended: 2, Baseline: -1,
	}
	for i, tp := range [][2]float64{{10, 0.35}, {12.5, 0.16}, {13, 0.08}, {15, 0.02}, {22, 0.01}, {40, 0.005}} {
		v := experiments.VerdictMisses
		if tp[1] < 0.1 {
			v = experiments.VerdictMeets
		}
		lin.Candidates = append(lin.Candidates, experiments.Candidate{TimeoutS: tp[0], Verdict: v, Step: i + 1,
			Metrics: []experiments.Metric{proportion(experiments.MetricExpiryPerOutage, tp[1], 400)}})
	}
	p, err = Recommend(lin)
	render(t, "recommend-linear.png", p, err)
	assert.Contains(t, p.X.Label.Text, "lingers T")
}

func TestRecommendChartNoData(t *testing.T) {
	_, err := Recommend(experiments.Recommendation{Target: experiments.Target{Metric: experiments.MetricExpiryRate, Value: 1}})
	assert.ErrorIs(t, err, ErrNoData)
}
