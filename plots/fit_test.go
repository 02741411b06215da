package plots

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"
	"gonum.org/v1/plot"

	"hbsim/experiments/fit"
)

// The fit chart draws complete data (GC pauses over three decades: log x)
// and episodes from ZooKeeper logs, the same bytes each time.
func TestFitChart(t *testing.T) {
	d := distuv.LogNormal{Mu: -2, Sigma: 1.2, Src: rand.NewPCG(1, 2)}
	xs := make([]float64, 500)
	for i := range xs {
		xs[i] = d.Rand()
	}
	res, err := fit.Fit(&fit.Data{Source: fit.SourceGC, Files: []string{"gc.log"}, Durations: xs})
	require.NoError(t, err)
	p, err := Fit(res, "pauses")
	b := render(t, "fit-complete.png", p, err)
	assert.IsType(t, plot.LogScale{}, p.Y.Scale)
	assert.IsType(t, plot.LogScale{}, p.X.Scale)
	p2, err := Fit(res, "pauses")
	require.NoError(t, err)
	b2, err := RenderPNG(p2)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(b, b2), "same fit, same bytes")

	var eps []fit.Episode
	for i := range 60 {
		x := 7 + float64(i%20)*0.4
		e := fit.Episode{Detect: 6.666, Period: 3.333, Lo: x, Hi: x}
		if i%3 == 0 {
			e.Lo, e.Hi = 6.666, 8.1
		}
		eps = append(eps, e)
	}
	zk, err := fit.Fit(&fit.Data{Source: fit.SourceZK, Files: []string{"zk.log"}, Episodes: eps,
		Exposure: []fit.Exposure{{Detect: 6.666, Period: 3.333, Seconds: 36000}}})
	require.NoError(t, err)
	p, err = Fit(zk, "outages")
	render(t, "fit-episodes.png", p, err)
	assert.Contains(t, p.X.Label.Text, "given X > rt")
}
