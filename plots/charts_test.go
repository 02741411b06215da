package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"

	"hbsim/experiments"
)

const (
	timeoutKey = "client.session_timeout"
	outageKey  = "fault.1.duration"
)

// wilson is the 95 % Wilson score interval of k successes in n trials.
func wilson(k, n float64) (lo, hi float64) {
	const z = 1.959963984540054
	p := k / n
	den := 1 + z*z/n
	mid := (p + z*z/(2*n)) / den
	half := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / den
	return max(0, mid-half), min(1, mid+half)
}

func proportion(name string, p, n float64) experiments.Metric {
	k := math.Round(p * n)
	lo, hi := wilson(k, n)
	return experiments.Metric{Name: name, Estimate: k / n, Lower: lo, Upper: hi, Count: k, Trials: n, Method: "wilson"}
}

// rate is a Poisson rate with a rough 95 % interval (exposure in session-days).
func rate(name string, perDay, exposure float64) experiments.Metric {
	k := math.Round(perDay * exposure)
	lo := max(0, k-1.96*math.Sqrt(k)) / exposure
	hi := (k + 1.96*math.Sqrt(k) + 3.7) / exposure
	return experiments.Metric{Name: name, Unit: "1/session-day", Estimate: k / exposure, Lower: lo, Upper: hi,
		Count: k, Trials: exposure, Method: "poisson-exact"}
}

func detection(t float64) experiments.Metric {
	est := 1.1*t + 0.4
	return experiments.Metric{Name: experiments.MetricDetectionTime, Unit: "s", Estimate: est,
		Lower: est - 0.04*t - 0.5, Upper: est + 0.05*t + 0.6, Method: "student-t"}
}

// ramp rises smoothly from 0 at x=a to 1 at x=b.
func ramp(x, a, b float64) float64 {
	f := min(1, max(0, (x-a)/(b-a)))
	return f * f * (3 - 2*f)
}

func secondsAxis(key string, vs ...float64) experiments.Axis {
	a := experiments.Axis{Key: key, Unit: "s", Numeric: vs}
	for _, v := range vs {
		a.Values = append(a.Values, strconv.FormatFloat(v, 'g', -1, 64)+"s")
	}
	return a
}

// sweep builds a Result over the cartesian product of axes (the first one
// outermost) with metrics from at, which gets each point's axis values.
func sweep(name string, axes []experiments.Axis, at func(v map[string]float64) []experiments.Metric) experiments.Result {
	r := experiments.Result{Name: name, Seed: 1, Replications: 200, HorizonS: 86400, Clients: 50, Axes: axes}
	idx := make([]int, len(axes))
	for {
		v := map[string]float64{}
		var params []experiments.Param
		for i, a := range axes {
			v[a.Key] = a.Numeric[idx[i]]
			params = append(params, experiments.Param{Key: a.Key, Value: a.Values[idx[i]], Numeric: a.Numeric[idx[i]]})
		}
		t := v[timeoutKey]
		r.Points = append(r.Points, experiments.PointResult{
			Index: len(r.Points), Params: params, SessionTimeoutS: t, RequestedSessionTimeoutS: t,
			TickTimeS: 2, Metrics: at(v),
		})
		i := len(axes) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(axes[i].Numeric) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return r
		}
	}
}

// outageSweep is 10 s vs 30 s over outage lengths 1-40 s: expiry rises from
// 0 to 1 at about 6-12 s for T=10s and about 19-32 s for T=30s.
func outageSweep() experiments.Result {
	axes := []experiments.Axis{
		secondsAxis(timeoutKey, 10, 30),
		secondsAxis(outageKey, 1, 2, 4, 6, 8, 9, 10, 11, 12, 14, 16, 19, 22, 25, 28, 30, 32, 36, 40),
	}
	return sweep("outage-sweep", axes, func(v map[string]float64) []experiments.Metric {
		t, d := v[timeoutKey], v[outageKey]
		p := ramp(d, 6, 12)
		if t == 30 {
			p = ramp(d, 19, 32)
		}
		return []experiments.Metric{
			proportion(experiments.MetricExpiryPerOutage, p, 200),
			rate(experiments.MetricExpiryRate, 24*p, 50),
			detection(t),
		}
	})
}

// decadesSweep sweeps only the timeout; the expiry numbers fall over four
// decades down to zero.
func decadesSweep() experiments.Result {
	axes := []experiments.Axis{secondsAxis(timeoutKey, 4, 6, 10, 15, 20, 30, 40)}
	perOutage := map[float64]float64{4: 0.95, 6: 0.6, 10: 0.2, 15: 0.04, 20: 0.008, 30: 0.001, 40: 0}
	perDay := map[float64]float64{4: 40, 6: 9, 10: 1.5, 15: 0.2, 20: 0.03, 30: 0.004, 40: 0}
	return sweep("decades", axes, func(v map[string]float64) []experiments.Metric {
		t := v[timeoutKey]
		return []experiments.Metric{
			proportion(experiments.MetricExpiryPerOutage, perOutage[t], 5000),
			rate(experiments.MetricExpiryRate, perDay[t], 5000),
			detection(t),
		}
	})
}

// decode checks that b is a Width x Height PNG that is not blank, and writes
// it to the test's artifact directory for a person to look at.
func decode(t *testing.T, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err, name)
	assert.Equal(t, image.Rect(0, 0, 768, 480), img.Bounds(), "%s: 8x5 in at 96 dpi", name)

	colours, frac := ink(t, name, img)
	assert.Greater(t, colours, 20, "%s: distinct colours", name)
	assert.Greater(t, frac, 0.02, "%s: share of non-white pixels", name)
	assert.Less(t, frac, 0.6, "%s: share of non-white pixels", name)

	require.NoError(t, os.WriteFile(filepath.Join(t.ArtifactDir(), name), b, 0o644))
}

// ink counts an image's distinct colours and its share of non-white
// pixels, from the raw bytes (img.At per pixel is slow under -race).
func ink(t *testing.T, name string, img image.Image) (colours int, nonWhite float64) {
	t.Helper()
	var pix []uint8
	switch m := img.(type) {
	case *image.RGBA:
		pix = m.Pix
	case *image.NRGBA:
		pix = m.Pix
	default:
		require.Failf(t, "unexpected image type", "%s: %T", name, img)
	}
	seen := map[[4]uint8]bool{}
	n := 0
	for i := 0; i+3 < len(pix); i += 4 {
		c := [4]uint8{pix[i], pix[i+1], pix[i+2], pix[i+3]}
		seen[c] = true
		if c != [4]uint8{255, 255, 255, 255} {
			n++
		}
	}
	b := img.Bounds()
	return len(seen), float64(n) / float64(b.Dx()*b.Dy())
}

// render renders p, checks the image as decode does, and returns the PNG.
func render(t *testing.T, name string, p *plot.Plot, err error) []byte {
	t.Helper()
	require.NoError(t, err, name)
	b, err := RenderPNG(p)
	require.NoError(t, err, name)
	decode(t, name, b)
	return b
}

// TestCharts renders every chart of the outage sweep twice: same bytes
// each time, and images a person can read.
func TestCharts(t *testing.T) {
	r := outageSweep()
	cs, err := Charts(r)
	require.NoError(t, err)
	again, err := Charts(r)
	require.NoError(t, err)
	require.Len(t, again, len(cs))
	var names []string
	for i, c := range cs {
		names = append(names, c.Name)
		assert.Equal(t, c.Name, again[i].Name)
		assert.True(t, bytes.Equal(c.PNG, again[i].PNG), "%s differs between renders", c.Name)
		decode(t, c.Name, c.PNG)
	}
	assert.Equal(t, []string{NameExpiryVsTimeout, NameExpiryVsOutage, NameTradeOff}, names)
}

func TestExpiryVsOutage(t *testing.T) {
	r := outageSweep()
	for _, key := range []string{outageKey, ""} {
		p, err := ExpiryVsOutage(r, "", key)
		require.NoError(t, err, "key=%q", key) // TestCharts renders it
		assert.Contains(t, p.Title.Text, "outage-sweep", "key=%q", key)
		assert.Equal(t, "outage length, fault.1.duration (s)", p.X.Label.Text, "key=%q", key)
		assert.Equal(t, "P(session expiry | client hit by outage)", p.Y.Label.Text, "key=%q: linear, no floor", key)
		assert.IsType(t, plot.LinearScale{}, p.Y.Scale, "key=%q", key)
	}

	ss := collect(r, experiments.MetricExpiryPerOutage, nil, true, func(pt experiments.PointResult) float64 {
		prm, _ := param(pt, outageKey)
		return prm.Numeric
	})
	require.Len(t, ss, 2)
	assert.Equal(t, "T=10s", ss[0].label)
	assert.Equal(t, "T=30s", ss[1].label)
	for _, s := range ss {
		require.Len(t, s.data, 19, s.label)
		for i := 1; i < len(s.data); i++ {
			assert.Less(t, s.data[i-1].x, s.data[i].x, "%s: sorted by outage length", s.label)
		}
	}
	// The chart's point: a 19 s outage expires T=10s sessions, not T=30s ones.
	at19 := func(s series) float64 {
		for _, d := range s.data {
			if math.Abs(d.x-19) < 1e-9 {
				return d.est
			}
		}
		return math.NaN()
	}
	assert.InDelta(t, 1, at19(ss[0]), 1e-9)
	assert.InDelta(t, 0, at19(ss[1]), 1e-9)
}

func TestExpiryVsTimeoutGroupsOtherAxes(t *testing.T) {
	r := outageSweep()
	p, err := ExpiryVsTimeout(r, "")
	require.NoError(t, err) // TestCharts renders it
	assert.Equal(t, "negotiated session timeout T (s)", p.X.Label.Text)

	others := axesExcept(r, isTimeoutKey)
	require.Len(t, others, 1)
	ss := collect(r, experiments.MetricExpiryPerOutage, others, false, func(pt experiments.PointResult) float64 {
		return timeoutOf(r, pt)
	})
	require.Len(t, ss, 19, "one line per outage length")
	assert.Equal(t, "fault.1.duration=1s", ss[0].label)
	assert.Equal(t, "fault.1.duration=40s", ss[18].label)
	for _, s := range ss {
		require.Len(t, s.data, 2, s.label)
		assert.InDelta(t, 10, s.data[0].x, 1e-9, s.label)
		assert.InDelta(t, 30, s.data[1].x, 1e-9, s.label)
	}
}

func TestExpiryVsTimeoutUsesNegotiatedTimeout(t *testing.T) {
	r := decadesSweep()
	r.Points[0].SessionTimeoutS = 4.5 // clamped by the server
	r.Points[1].SessionTimeoutS = 0   // unknown: fall back to the axis value
	ss := collect(r, experiments.MetricExpiryPerOutage, nil, false, func(pt experiments.PointResult) float64 {
		return timeoutOf(r, pt)
	})
	require.Len(t, ss, 1)
	require.Len(t, ss[0].data, 7)
	assert.InDelta(t, 4.5, ss[0].data[0].x, 1e-9)
	assert.InDelta(t, 6, ss[0].data[1].x, 1e-9)
}

// TestDecadesUseLogAxisWithFloor also builds and renders each chart twice:
// the log axis, floor and point labels are deterministic too.
func TestDecadesUseLogAxisWithFloor(t *testing.T) {
	r := decadesSweep()
	tests := []struct {
		name  string
		build func() (*plot.Plot, error)
	}{
		{"expiry-rate-vs-timeout.png", func() (*plot.Plot, error) { return ExpiryVsTimeout(r, experiments.MetricExpiryRate) }},
		{"tradeoff.png", func() (*plot.Plot, error) { return TradeOff(r) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.build()
			first := render(t, tc.name, p, err)
			p2, err := tc.build()
			require.NoError(t, err)
			second, err := RenderPNG(p2)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(first, second), "%s differs between renders", tc.name)
			assert.IsType(t, plot.LogScale{}, p.Y.Scale)
			assert.Contains(t, p.Y.Label.Text, "log scale")
			assert.Contains(t, p.Y.Label.Text, "0 shown at floor")
			assert.Greater(t, p.Y.Min, 0.0, "a log axis needs a positive minimum")
			assert.Less(t, p.Y.Min, 0.001/9, "the floor is at most a tenth of the smallest positive value")
		})
	}
}

func TestChooseY(t *testing.T) {
	t.Parallel()
	one := func(vals ...[3]float64) []series {
		s := series{}
		for i, v := range vals {
			s.data = append(s.data, datum{x: float64(i), est: v[0], lo: v[1], hi: v[2]})
		}
		return []series{s}
	}
	tests := []struct {
		name    string
		ss      []series
		log     bool
		clamped bool
		floor   float64
	}{
		{"one decade stays linear", one([3]float64{0.1, 0, 0.2}, [3]float64{1, 0.9, 1}), false, false, 0},
		{"zeros alone stay linear", one([3]float64{0, 0, 0.01}, [3]float64{0, 0, 0.01}), false, false, 0},
		{"two decades go log", one([3]float64{0.01, 0.005, 0.02}, [3]float64{1, 0.9, 1}), true, false, 0.001},
		{"zero bound goes to floor", one([3]float64{0.01, 0, 0.02}, [3]float64{1, 0.9, 1}), true, true, 0.001},
		{"tiny lower bound goes to floor", one([3]float64{0.01, 1e-12, 0.02}, [3]float64{1, 0.9, 1}), true, true, 0.001},
		{"zero estimate goes to floor", one([3]float64{0, 0, 0.003}, [3]float64{0.01, 0.004, 0.02}, [3]float64{1, 0.9, 1}), true, true, 0.0001},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ys := chooseY(tc.ss)
			assert.Equal(t, tc.log, ys.log)
			assert.Equal(t, tc.clamped, ys.clamped)
			if tc.log {
				assert.InEpsilon(t, tc.floor, ys.floor, 1e-9)
				for _, s := range ys.apply(tc.ss) {
					for _, d := range s.data {
						assert.GreaterOrEqual(t, d.lo, ys.floor)
					}
				}
			}
		})
	}
}

func TestIsOutageKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want bool
	}{
		{"fault.1.duration", true},
		{"fault[0].duration", true},
		{"faults.2.duration", true},
		{"Fault.1.Duration", true},
		{"outage.duration", true},
		{"fault.1.duration.mean", true},
		{"client.session_timeout", false},
		{"duration", false},
		{"network.latency.duration", false},
		{"fault.1.every", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, IsOutageKey(tc.key), tc.key)
	}
}

func TestTradeOffFallsBackWhenRateIsZero(t *testing.T) {
	r := decadesSweep()
	for i := range r.Points {
		for j, m := range r.Points[i].Metrics {
			if m.Name == experiments.MetricExpiryRate {
				r.Points[i].Metrics[j] = experiments.Metric{Name: m.Name, Upper: 0.7}
			}
		}
	}
	p, err := TradeOff(r)
	render(t, "tradeoff-fallback.png", p, err)
	assert.Contains(t, p.Y.Label.Text, "P(session expiry")
	assert.Contains(t, p.Y.Label.Text, "expiry rate is 0 at every point")
}

func TestChartsSinglePoint(t *testing.T) {
	r := decadesSweep()
	r.Axes = nil
	r.Points = r.Points[2:3]
	cs, err := Charts(r)
	require.NoError(t, err)
	require.Len(t, cs, 1, "neither timeout nor outage swept: only the trade-off applies")
	assert.Equal(t, NameTradeOff, cs[0].Name)
	decode(t, cs[0].Name, cs[0].PNG)
}

func TestNoData(t *testing.T) {
	allNaN := outageSweep()
	for i := range allNaN.Points {
		for j := range allNaN.Points[i].Metrics {
			allNaN.Points[i].Metrics[j].Estimate = math.NaN()
		}
	}
	noMetrics := outageSweep()
	for i := range noMetrics.Points {
		noMetrics.Points[i].Metrics = nil
	}
	tests := []struct {
		name string
		r    experiments.Result
	}{
		{"empty", experiments.Result{}},
		{"all NaN", allNaN},
		{"no metrics", noMetrics},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			_, err := Charts(r)
			assert.ErrorIs(t, err, ErrNoData)
			_, err = ExpiryVsTimeout(r, "")
			assert.ErrorIs(t, err, ErrNoData)
			_, err = TradeOff(r)
			assert.ErrorIs(t, err, ErrNoData)
			_, err = ExpiryVsOutage(r, "", outageKey)
			if len(r.Axes) == 0 {
				assert.ErrorIs(t, err, ErrNoAxis)
			} else {
				assert.ErrorIs(t, err, ErrNoData)
			}
		})
	}
}

func TestExpiryVsOutageUnknownAxis(t *testing.T) {
	_, err := ExpiryVsOutage(outageSweep(), "", "fault.9.duration")
	assert.ErrorIs(t, err, ErrNoAxis)
	_, err = ExpiryVsOutage(decadesSweep(), "", "")
	assert.ErrorIs(t, err, ErrNoAxis)
}

// TestExpiryVsOutageLogTails: small expiry probabilities before the ramp
// (as a long simulation finds) put the chart on a log axis with zeros at
// the floor.
func TestExpiryVsOutageLogTails(t *testing.T) {
	r := outageSweep()
	tail := map[[2]float64]float64{{10, 4}: 0.0005, {10, 6}: 0.004, {30, 16}: 0.0005, {30, 19}: 0.006}
	for i, pt := range r.Points {
		prm, ok := param(pt, outageKey)
		require.True(t, ok)
		m := pt.Metrics[0]
		require.Equal(t, experiments.MetricExpiryPerOutage, m.Name)
		p := m.Estimate
		if tp, ok := tail[[2]float64{pt.SessionTimeoutS, prm.Numeric}]; ok {
			p = tp
		}
		r.Points[i].Metrics[0] = proportion(experiments.MetricExpiryPerOutage, p, 20000)
	}
	p, err := ExpiryVsOutage(r, "", "")
	render(t, "expiry-vs-outage-log.png", p, err)
	assert.IsType(t, plot.LogScale{}, p.Y.Scale)
	assert.Contains(t, p.Y.Label.Text, "0 shown at floor")
}
