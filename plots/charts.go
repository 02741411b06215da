package plots

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"hbsim/experiments"
)

// Size of the rendered charts: 768x480 pixels at vgimg's 96 dpi.
const (
	Width  = 8 * vg.Inch
	Height = 5 * vg.Inch
)

// File names of the charts Charts returns.
const (
	NameExpiryVsTimeout = "expiry-vs-timeout.png"
	NameExpiryVsOutage  = "expiry-vs-outage.png"
	NameTradeOff        = "tradeoff.png"
)

// MaxLines is the most lines a chart draws. A sweep with more combinations
// shows MaxLines of them, evenly spread over the sweep order and always
// including the first and the last, and the legend says how many are shown.
// It equals the number of colours, so every line has its own.
const MaxLines = 7

var (
	// ErrNoData means there is nothing to draw: no points, or none with a
	// finite value of the requested metric.
	ErrNoData = errors.New("plots: no data")
	// ErrNoAxis means the chart needs a swept axis the Result does not have.
	ErrNoAxis = errors.New("plots: axis not swept")
)

// Chart is one rendered chart.
type Chart struct {
	Name string // file name, e.g. "expiry-vs-timeout.png"
	PNG  []byte // Width x Height PNG image
}

// Charts renders every chart that applies to r, in this order:
//
//   - NameExpiryVsTimeout when the session timeout is swept or r has more
//     than one point;
//   - NameExpiryVsOutage when r sweeps an outage-length axis (IsOutageKey;
//     the first such axis);
//   - NameTradeOff when some point has experiments.MetricDetectionTime;
//   - NameMassExpiry when some point has mass-expiry rows (MassExpiry);
//   - NameFailover when some point has experiments.MetricNoLeader (an
//     experiment with server-side faults).
//
// The expiry charts show experiments.MetricExpiryPerOutage, or the first of
// MetricExpiryRate and MetricExpiryInHorizon that r has when it lacks that.
// When no chart applies the error wraps ErrNoData.
func Charts(r experiments.Result) ([]Chart, error) {
	var out []Chart
	add := func(name string, p *plot.Plot, err error) error {
		if err != nil {
			return fmt.Errorf("plots: %s: %w", name, err)
		}
		b, err := RenderPNG(p)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", name, err)
		}
		out = append(out, Chart{Name: name, PNG: b})
		return nil
	}

	metric, haveExpiry := expiryMetric(r)
	if haveExpiry && (timeoutSwept(r) || len(r.Points) > 1) {
		p, err := ExpiryVsTimeout(r, metric)
		if err := add(NameExpiryVsTimeout, p, err); err != nil {
			return nil, err
		}
	}
	if key, ok := outageAxis(r); ok && haveExpiry {
		p, err := ExpiryVsOutage(r, metric, key)
		if err := add(NameExpiryVsOutage, p, err); err != nil {
			return nil, err
		}
	}
	if hasMetric(r, experiments.MetricDetectionTime) {
		p, err := TradeOff(r)
		if err := add(NameTradeOff, p, err); err != nil {
			return nil, err
		}
	}
	if hasMassExpiry(r) {
		p, err := MassExpiry(r)
		if err := add(NameMassExpiry, p, err); err != nil {
			return nil, err
		}
	}
	if hasMetric(r, experiments.MetricNoLeader) && haveExpiry {
		b, err := Failover(r, metric)
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %w", NameFailover, err)
		}
		out = append(out, Chart{Name: NameFailover, PNG: b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("plots: no chart applies to %s: %w", resultName(r), ErrNoData)
	}
	return out, nil
}

// RenderPNG draws p at Width x Height and returns the PNG bytes.
func RenderPNG(p *plot.Plot) ([]byte, error) {
	w, err := p.WriterTo(Width, Height, "png")
	if err != nil {
		return nil, fmt.Errorf("plots: render: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: render: %w", err)
	}
	return buf.Bytes(), nil
}

// ExpiryVsTimeout plots metric (experiments.MetricExpiryPerOutage when
// empty) against the negotiated session timeout in seconds: estimate as
// points and line, 95 % confidence interval as a shaded band. When r sweeps
// other axes too, each combination of their values gets its own line,
// labelled "key=value" (at most MaxLines of them).
func ExpiryVsTimeout(r experiments.Result, metric string) (*plot.Plot, error) {
	if metric == "" {
		metric = experiments.MetricExpiryPerOutage
	}
	others := axesExcept(r, isTimeoutKey)
	ss := collect(r, metric, others, false, func(pt experiments.PointResult) float64 {
		return timeoutOf(r, pt)
	})
	if len(ss) == 0 {
		return nil, fmt.Errorf("plots: %s: no point has %s: %w", resultName(r), metric, ErrNoData)
	}
	if len(ss) == 1 && ss[0].label == "" {
		ss[0].label = "estimate"
	}
	c := newChart(fmt.Sprintf("%s: %s vs session timeout", resultName(r), metricTitle(metric)), r)
	c.p.X.Label.Text = "negotiated session timeout T (s)"
	ys := chooseY(ss)
	c.p.Y.Label.Text = ys.label(metricLabel(r, metric))
	c.bands(ss, ys, false)
	return c.finish(), nil
}

// ExpiryVsOutage plots metric (experiments.MetricExpiryPerOutage when
// empty) against the outage length on axis outageKey, one line with its
// 95 % band per session timeout, labelled "T=10s", and a dashed line of the
// same colour at outage length = T. An empty outageKey picks the first
// axis for which IsOutageKey holds; a key r does not sweep gives ErrNoAxis.
// Other swept axes split the lines further ("T=10s, key=value"; at most
// MaxLines lines, and then no dashed lines).
func ExpiryVsOutage(r experiments.Result, metric, outageKey string) (*plot.Plot, error) {
	if metric == "" {
		metric = experiments.MetricExpiryPerOutage
	}
	if outageKey == "" {
		k, ok := outageAxis(r)
		if !ok {
			return nil, fmt.Errorf("plots: %s: no outage-length axis: %w", resultName(r), ErrNoAxis)
		}
		outageKey = k
	}
	ax := slices.IndexFunc(r.Axes, func(a experiments.Axis) bool { return a.Key == outageKey })
	if ax < 0 {
		return nil, fmt.Errorf("plots: %s: %q: %w", resultName(r), outageKey, ErrNoAxis)
	}
	others := axesExcept(r, func(k string) bool { return k == outageKey || isTimeoutKey(k) })
	ss := collect(r, metric, others, true, func(pt experiments.PointResult) float64 {
		if prm, ok := param(pt, outageKey); ok {
			return prm.Numeric
		}
		return math.NaN()
	})
	if len(ss) == 0 {
		return nil, fmt.Errorf("plots: %s: no point has %s: %w", resultName(r), metric, ErrNoData)
	}
	c := newChart(fmt.Sprintf("%s: %s vs outage length", resultName(r), metricTitle(metric)), r)
	unit := r.Axes[ax].Unit
	if unit == "" {
		unit = "s"
	}
	c.p.X.Label.Text = fmt.Sprintf("outage length, %s (%s)", outageKey, unit)
	ys := chooseY(ss)
	c.p.Y.Label.Text = ys.label(metricLabel(r, metric))
	c.bands(ss, ys, len(others) == 0)
	if c.p.X.Min > 0 && c.p.X.Min < 0.2*c.p.X.Max {
		c.p.X.Min = 0 // outage lengths start at zero
	}
	return c.finish(), nil
}

// TradeOff plots the false-expiry rate (experiments.MetricExpiryRate) on y
// against the dead-client detection time (experiments.MetricDetectionTime)
// on x, one point per session timeout, labelled "T=10s", with 95 % error
// bars in both directions. When the rate is zero at every point it plots
// experiments.MetricExpiryPerOutage instead and says so in the axis label.
// Up to MaxLines timeouts each get a colour and a legend entry; more share
// one colour and a line through them in timeout order. When r sweeps other
// axes besides the timeout, each timeout has one unlabelled point per
// combination of their values, and the legend says so.
func TradeOff(r experiments.Result) (*plot.Plot, error) {
	ss := collectXY(r, experiments.MetricDetectionTime, experiments.MetricExpiryRate)
	if len(ss) == 0 {
		return nil, fmt.Errorf("plots: %s: no point has both %s and %s: %w",
			resultName(r), experiments.MetricDetectionTime, experiments.MetricExpiryRate, ErrNoData)
	}
	ylabel := metricLabel(r, experiments.MetricExpiryRate)
	if allZero(ss) {
		if alt := collectXY(r, experiments.MetricDetectionTime, experiments.MetricExpiryPerOutage); len(alt) > 0 {
			ss = alt
			ylabel = metricLabel(r, experiments.MetricExpiryPerOutage) + "\n(expiry rate is 0 at every point)"
		}
	}
	var note string
	if others := axesExcept(r, isTimeoutKey); len(others) > 0 {
		keys := make([]string, len(others))
		for i, a := range others {
			keys[i] = a.Key
		}
		note = "one point per " + strings.Join(keys, " × ")
	}
	connect := false
	if len(ss) > MaxLines {
		all := series{label: "estimate", timeoutS: math.NaN()}
		for _, s := range ss {
			all.data = append(all.data, s.data...)
		}
		ss, connect = []series{all}, note == ""
	}
	c := newChart(fmt.Sprintf("%s: false expiries vs dead-client detection time", resultName(r)), r)
	c.p.X.Label.Text = metricLabel(r, experiments.MetricDetectionTime)
	ys := chooseY(ss)
	c.p.Y.Label.Text = ys.label(ylabel)
	c.errorBars(ss, ys, note == "", connect)
	if note != "" {
		c.legend.add(note)
	}
	return c.finish(), nil
}
