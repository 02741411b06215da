package plots

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

// massResult has two points of 50 sessions: a binomial one and one with a
// heavier tail than its binomial (sessions that expire together).
func massResult() experiments.Result {
	r := experiments.Result{Name: "mass-expiry", Seed: 1, Replications: 200, Clients: 50,
		Axes: []experiments.Axis{secondsAxis(timeoutKey, 10, 12)}}
	for i, spec := range []struct {
		t float64
		p float64
		// spread widens the distribution: 1 is binomial
		spread float64
	}{{10, 0.37, 1}, {12, 0.1, 2}} {
		var rows []experiments.MassExpiry
		for k := 1; k <= 50; k++ {
			// A binomial tail with the k axis stretched about the mean.
			kk := int(float64(50)*spec.p + (float64(k)-float64(50)*spec.p)/spec.spread + 0.5)
			want := experiments.PAtLeastKOfN(max(kk, 1), 50, spec.p)
			m := proportion("", want, 200)
			rows = append(rows, experiments.MassExpiry{K: k, Episodes: 200, Count: int(m.Count),
				Estimate: m.Estimate, Lower: m.Lower, Upper: m.Upper, MeanHit: 50})
		}
		r.Points = append(r.Points, experiments.PointResult{Index: i, SessionTimeoutS: spec.t, Clients: 50,
			Params:     []experiments.Param{{Key: timeoutKey, Value: formatNum(spec.t) + "s", Numeric: spec.t}},
			Metrics:    []experiments.Metric{proportion(experiments.MetricExpiryPerOutage, spec.p, 10000)},
			MassExpiry: rows})
	}
	return r
}

func TestMassExpiryChart(t *testing.T) {
	r := massResult()
	p, err := MassExpiry(r)
	render(t, "mass-expiry.png", p, err)
	assert.Contains(t, p.X.Label.Text, "of 50 hit")

	cs, err := Charts(r)
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	assert.Contains(t, names, NameMassExpiry, "Charts registers the mass-expiry chart")

	// One point whose episodes never expire a session: a linear axis.
	one := massResult()
	one.Points = one.Points[:1]
	for i := range one.Points[0].MassExpiry {
		row := &one.Points[0].MassExpiry[i]
		row.Count, row.Estimate, row.Lower, row.Upper = 0, 0, 0, 0.0183
	}
	p, err = MassExpiry(one)
	render(t, "mass-expiry-none.png", p, err)
}

func TestMassExpiryChartNoData(t *testing.T) {
	_, err := MassExpiry(outageSweep())
	assert.ErrorIs(t, err, ErrNoData)
	cs, err := Charts(outageSweep())
	require.NoError(t, err)
	for _, c := range cs {
		assert.NotEqual(t, NameMassExpiry, c.Name)
	}
}
