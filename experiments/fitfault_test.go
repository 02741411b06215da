package experiments

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"hbsim/experiments/fit"
)

func lognormalDurations(seed uint64, n int) []float64 {
	d := distuv.LogNormal{Mu: 1, Sigma: 0.5, Src: rand.NewPCG(seed, 1)}
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = d.Rand()
	}
	return xs
}

// The table FitFault writes parses as an experiment file's fault, with the
// fitted law and rate, for every law and for the rate placeholder.
func TestFitFault(t *testing.T) {
	xs := lognormalDurations(3, 400)
	starts := make([]float64, len(xs))
	res, err := fit.Fit(&fit.Data{Source: fit.SourceCSV, Files: []string{"d.csv"}, Durations: xs,
		Arrivals: []fit.Arrivals{{File: "d.csv", Count: len(starts), Span: 3600 * 10}}})
	require.NoError(t, err)
	require.Equal(t, fit.LogNormal, res.Best().Law)
	block, err := FitFault(res, FitFaultOptions{Law: -1})
	require.NoError(t, err)
	s, err := Parse("x.toml", []byte("[experiment]\nname = \"x\"\n"+block))
	require.NoError(t, err)
	pts, err := s.Points()
	require.NoError(t, err)
	f := pts[0].Config.Faults[0]
	assert.Equal(t, "lognormal", f.Duration.Kind.String())
	assert.InEpsilon(t, res.Best().Params[0].Value, f.Duration.Median, 1e-3)
	assert.InEpsilon(t, res.Best().Params[1].Value, f.Duration.Sigma, 1e-3)
	assert.InEpsilon(t, 36000.0/399, f.Every.Seconds(), 1e-3)
	assert.Contains(t, block, "# median 2.")

	for i, e := range res.Candidates {
		b, err := FitFault(res, FitFaultOptions{Law: i, CSV: "/tmp/d.csv", Kind: "client-pause"})
		require.NoError(t, err, "%s", e.Law)
		assert.Contains(t, b, `law = "`+e.Law.String()+`"`)
		assert.Contains(t, b, `kind = "client-pause"`)
	}

	noRate, err := fit.Fit(&fit.Data{Source: fit.SourceCSV, Files: []string{"d.csv"}, Durations: xs})
	require.NoError(t, err)
	b, err := FitFault(noRate, FitFaultOptions{Law: -1})
	require.NoError(t, err)
	assert.Contains(t, b, "NOT ESTIMATED")
	b, err = FitFault(noRate, FitFaultOptions{Law: -1, Every: 90 * time.Minute})
	require.NoError(t, err)
	assert.Contains(t, b, `every = "90m"`)

	_, err = FitFault(res, FitFaultOptions{Law: -1, Kind: "meteor-strike"})
	require.ErrorIs(t, err, ErrFitFault)
	assert.Contains(t, err.Error(), "kind")
	_, err = FitFault(res, FitFaultOptions{Law: len(res.Candidates) - 1})
	assert.ErrorContains(t, err, "empirical law needs the path")
}

func TestFitDuration(t *testing.T) {
	for s, want := range map[float64]string{0.0000123: "12.3us", 0.1202: "120.2ms", 3.4167: "3.417s", 605: "10.08m", 36000: "10h", 123456789: "34290h"} {
		assert.Equal(t, want, fitDuration(s), "%g", s)
		_, err := parseDurationText(want)
		assert.NoError(t, err, want)
	}
	assert.False(t, strings.Contains(fitDuration(1e9), "e"))
}
