package plots

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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

// datum is one drawable point. Invariant: lo <= est <= hi, all finite.
type datum struct {
	x           float64 // x value (s)
	xlo, xhi    float64 // x interval; xlo = xhi = x when x has none
	est, lo, hi float64 // y estimate and 95 % interval
	timeoutS    float64 // negotiated session timeout of the point (s)
	index       int     // PointResult.Index, to keep ties in sweep order
	sortKey     float64 // primary order within a series, before x
}

// series is one line of a chart, its points sorted by x.
type series struct {
	label    string
	timeoutS float64 // the series' session timeout (s); NaN if it mixes several
	data     []datum
}

// groupKey orders series: by timeout when byTimeout, then by the position of
// each other axis' value in the axis, as in the sweep's expansion order.
type groupKey struct {
	timeoutS float64
	ranks    []float64
	label    string
}

func compareKeys(a, b groupKey) int {
	if c := cmp.Compare(a.timeoutS, b.timeoutS); c != 0 {
		return c
	}
	if c := slices.Compare(a.ranks, b.ranks); c != 0 {
		return c
	}
	return strings.Compare(a.label, b.label)
}

// group gathers the points of one series.
type group struct {
	key groupKey
	s   series
}

// groups is a list of series being built, in first-seen order.
type groups []*group

// get returns the group with key k, adding it when new.
func (gs *groups) get(k groupKey, timeoutS float64) *group {
	for _, g := range *gs {
		if compareKeys(g.key, k) == 0 {
			return g
		}
	}
	g := &group{key: k, s: series{label: k.label, timeoutS: timeoutS}}
	*gs = append(*gs, g)
	return g
}

// series returns the series sorted by key, the points of each sorted by
// (sortKey, x, index): the same Result always gives the same order.
func (gs groups) series() []series {
	sorted := slices.Clone(gs)
	slices.SortStableFunc(sorted, func(a, b *group) int { return compareKeys(a.key, b.key) })
	out := make([]series, 0, len(sorted))
	for _, g := range sorted {
		s := g.s
		slices.SortStableFunc(s.data, func(a, b datum) int {
			if c := cmp.Compare(a.sortKey, b.sortKey); c != 0 {
				return c
			}
			if c := cmp.Compare(a.x, b.x); c != 0 {
				return c
			}
			return cmp.Compare(a.index, b.index)
		})
		out = append(out, s)
	}
	return out
}

// collect builds one series per combination of the values of the axes
// others (and per timeout when byTimeout), with x from xOf and y from
// metric. Points without a finite x or metric are left out.
func collect(r experiments.Result, metric string, others []experiments.Axis, byTimeout bool,
	xOf func(experiments.PointResult) float64) []series {
	var gs groups
	for _, pt := range r.Points {
		x := xOf(pt)
		est, lo, hi, ok := metricOf(pt, metric)
		if !ok || !finite(x) {
			continue
		}
		t := timeoutOf(r, pt)
		k := otherKey(pt, others)
		seriesT := math.NaN()
		if byTimeout {
			if !finite(t) {
				continue
			}
			k.timeoutS, seriesT = t, t
			k.label = joinLabel(timeoutLabel(t), k.label)
		}
		g := gs.get(k, seriesT)
		g.s.data = append(g.s.data, datum{x: x, xlo: x, xhi: x, est: est, lo: lo, hi: hi, timeoutS: t, index: pt.Index})
	}
	return gs.series()
}

// collectXY builds one series per session timeout, with x and y the
// estimates and intervals of metrics xMetric and yMetric, its points in
// sweep order.
func collectXY(r experiments.Result, xMetric, yMetric string) []series {
	var gs groups
	for _, pt := range r.Points {
		x, xlo, xhi, okx := metricOf(pt, xMetric)
		est, lo, hi, oky := metricOf(pt, yMetric)
		if !okx || !oky {
			continue
		}
		t := timeoutOf(r, pt)
		g := gs.get(groupKey{timeoutS: t, label: timeoutLabel(t)}, t)
		g.s.data = append(g.s.data, datum{
			x: x, xlo: xlo, xhi: xhi, est: est, lo: lo, hi: hi, timeoutS: t, index: pt.Index, sortKey: float64(pt.Index),
		})
	}
	return gs.series()
}

// otherKey is the group key of pt over the axes others.
func otherKey(pt experiments.PointResult, others []experiments.Axis) groupKey {
	var k groupKey
	var parts []string
	for _, a := range others {
		prm, ok := param(pt, a.Key)
		if !ok {
			parts = append(parts, a.Key+"=?")
			k.ranks = append(k.ranks, math.Inf(1))
			continue
		}
		parts = append(parts, a.Key+"="+prm.Value)
		rank := float64(slices.Index(a.Values, prm.Value))
		if rank < 0 {
			rank = float64(len(a.Values)) + prm.Numeric
		}
		k.ranks = append(k.ranks, rank)
	}
	k.label = strings.Join(parts, ", ")
	return k
}

func joinLabel(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + ", " + b
}

func allZero(ss []series) bool {
	for _, s := range ss {
		for _, d := range s.data {
			if d.est != 0 {
				return false
			}
		}
	}
	return true
}

// metricOf returns the estimate and interval of metric name at pt, with a
// non-finite or inverted bound replaced by the estimate.
func metricOf(pt experiments.PointResult, name string) (est, lo, hi float64, ok bool) {
	m, ok := pt.Metric(name)
	if !ok || !finite(m.Estimate) {
		return 0, 0, 0, false
	}
	est, lo, hi = m.Estimate, m.Lower, m.Upper
	if !finite(lo) || lo > est {
		lo = est
	}
	if !finite(hi) || hi < est {
		hi = est
	}
	return est, lo, hi, true
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func hasMetric(r experiments.Result, name string) bool {
	for _, pt := range r.Points {
		if _, _, _, ok := metricOf(pt, name); ok {
			return true
		}
	}
	return false
}

// expiryMetric is the metric the expiry charts of Charts show.
func expiryMetric(r experiments.Result) (string, bool) {
	for _, m := range []string{
		experiments.MetricExpiryPerOutage,
		experiments.MetricExpiryRate,
		experiments.MetricExpiryInHorizon,
	} {
		if hasMetric(r, m) {
			return m, true
		}
	}
	return "", false
}

func param(pt experiments.PointResult, key string) (experiments.Param, bool) {
	for _, p := range pt.Params {
		if p.Key == key {
			return p, true
		}
	}
	return experiments.Param{}, false
}

// isTimeoutKey reports whether key is the session-timeout axis.
func isTimeoutKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "session_timeout") || strings.Contains(k, "sessiontimeout")
}

// IsOutageKey reports whether the swept key is an outage length: after
// splitting at '.', '[' and ']', some segment containing "duration" follows
// a segment containing "fault" or "outage" (any case).
func IsOutageKey(key string) bool {
	segs := strings.FieldsFunc(strings.ToLower(key), func(r rune) bool {
		return r == '.' || r == '[' || r == ']'
	})
	underFault := false
	for _, s := range segs {
		if underFault && strings.Contains(s, "duration") {
			return true
		}
		if strings.Contains(s, "fault") || strings.Contains(s, "outage") {
			underFault = true
		}
	}
	return false
}

func outageAxis(r experiments.Result) (string, bool) {
	for _, a := range r.Axes {
		if IsOutageKey(a.Key) {
			return a.Key, true
		}
	}
	return "", false
}

func axesExcept(r experiments.Result, drop func(string) bool) []experiments.Axis {
	var out []experiments.Axis
	for _, a := range r.Axes {
		if !drop(a.Key) {
			out = append(out, a)
		}
	}
	return out
}

func timeoutSwept(r experiments.Result) bool {
	for _, a := range r.Axes {
		if isTimeoutKey(a.Key) && len(a.Values) > 1 {
			return true
		}
	}
	seen := math.NaN()
	for _, pt := range r.Points {
		t := timeoutOf(r, pt)
		if !finite(t) {
			continue
		}
		if finite(seen) && t != seen {
			return true
		}
		seen = t
	}
	return false
}

// timeoutOf is the negotiated session timeout of pt in seconds, or the
// value of the session-timeout axis when that is not set, or NaN.
func timeoutOf(r experiments.Result, pt experiments.PointResult) float64 {
	if finite(pt.SessionTimeoutS) && pt.SessionTimeoutS > 0 {
		return pt.SessionTimeoutS
	}
	for _, a := range r.Axes {
		if !isTimeoutKey(a.Key) {
			continue
		}
		if prm, ok := param(pt, a.Key); ok && finite(prm.Numeric) && prm.Numeric > 0 {
			return prm.Numeric
		}
	}
	return math.NaN()
}

func timeoutLabel(t float64) string {
	if !finite(t) {
		return "T=?"
	}
	return "T=" + formatNum(t) + "s"
}

func formatNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func resultName(r experiments.Result) string {
	if r.Name != "" {
		return r.Name
	}
	return "experiment"
}

// metricTitle is the short name of a metric for chart titles.
func metricTitle(name string) string {
	switch name {
	case experiments.MetricExpiryPerOutage:
		return "P(expiry | outage)"
	case experiments.MetricExpiryRate:
		return "expiry rate"
	case experiments.MetricExpiryInHorizon:
		return "P(expiry in horizon)"
	case experiments.MetricDisconnectRate:
		return "disconnect rate"
	case experiments.MetricDisconnectedFraction:
		return "disconnected fraction"
	case experiments.MetricDetectionTime:
		return "dead-client detection time"
	case experiments.MetricNoLeader:
		return "time without a leader"
	case experiments.MetricDropped:
		return "dropped connections"
	case experiments.MetricReconnectStorm:
		return "reconnect storm"
	}
	return name
}

// metricLabel is the axis label of a metric, with its unit.
func metricLabel(r experiments.Result, name string) string {
	switch name {
	case experiments.MetricExpiryPerOutage:
		return "P(session expiry | client hit by outage)"
	case experiments.MetricExpiryRate:
		return "session expiries per session-day"
	case experiments.MetricExpiryInHorizon:
		return "P(session expires within horizon)"
	case experiments.MetricDisconnectRate:
		return "disconnects per session-day"
	case experiments.MetricDisconnectedFraction:
		return "fraction of session time disconnected"
	case experiments.MetricDetectionTime:
		return "dead-client detection time (s)"
	case experiments.MetricNoLeader:
		return "no serving leader, s per episode"
	case experiments.MetricDropped:
		return "client connections dropped per episode"
	case experiments.MetricReconnectStorm:
		return "peak ConnectRequests/s at one server"
	}
	for _, pt := range r.Points {
		if m, ok := pt.Metric(name); ok && m.Unit != "" {
			return name + " (" + m.Unit + ")"
		}
	}
	return name
}

// yScale is the chosen y axis.
type yScale struct {
	log     bool
	floor   float64 // log only: where values below cut are drawn
	cut     float64 // log only: values below it (and all <= 0) go to floor
	min     float64 // log only: axis range, whole decades
	max     float64
	clamped bool // some value was drawn at the floor
}

// chooseY picks a log axis when the positive estimates span more than 1.5
// decades. The axis then runs over whole decades. Values <= 0, and lower
// bounds more than three decades below the smallest positive estimate,
// cannot be drawn as they are: they get one more decade at the bottom,
// whose lowest tick (the floor, at most a tenth of every other value)
// stands for 0.
func chooseY(ss []series) yScale {
	minEst, maxEst := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, d := range s.data {
			if d.est > 0 {
				minEst, maxEst = min(minEst, d.est), max(maxEst, d.est)
			}
		}
	}
	if !(maxEst > minEst) || math.Log10(maxEst/minEst) <= 1.5 {
		return yScale{}
	}
	lowest := minEst / 1000
	minAll, maxAll := minEst, maxEst
	clamped := false
	for _, s := range ss {
		for _, d := range s.data {
			for _, v := range []float64{d.est, d.lo, d.hi} {
				if v < lowest || v <= 0 {
					clamped = true
					continue
				}
				minAll, maxAll = min(minAll, v), max(maxAll, v)
			}
		}
	}
	ys := yScale{log: true, clamped: clamped, cut: lowest, min: math.Pow10(decade(minAll)), max: math.Pow10(decade(maxAll))}
	if ys.max < maxAll {
		ys.max *= 10
	}
	if ys.clamped {
		ys.min /= 10
	}
	ys.floor = ys.min
	return ys
}

// decade is floor(log10(v)) for v > 0, exact at powers of ten.
func decade(v float64) int {
	e := int(math.Floor(math.Log10(v)))
	if math.Pow10(e+1) <= v {
		e++
	}
	if math.Pow10(e) > v {
		e--
	}
	return e
}

// label is the y axis label: base, and on a second line the scale notes.
func (ys yScale) label(base string) string {
	switch {
	case ys.log && ys.clamped:
		return base + "\nlog scale; 0 shown at floor"
	case ys.log:
		return base + "\nlog scale"
	}
	return base
}

// apply returns a copy of ss with the values a log axis cannot show raised
// to the floor.
func (ys yScale) apply(ss []series) []series {
	out := make([]series, len(ss))
	for i, s := range ss {
		out[i] = s
		out[i].data = slices.Clone(s.data)
		if !ys.log {
			continue
		}
		for j := range out[i].data {
			d := &out[i].data[j]
			d.est, d.lo, d.hi = ys.clamp(d.est), ys.clamp(d.lo), ys.clamp(d.hi)
		}
	}
	return out
}

func (ys yScale) clamp(v float64) float64 {
	if v <= 0 || v < ys.cut {
		return ys.floor
	}
	return v
}

// configure sets the y axis of p, after the data are added.
func (ys yScale) configure(p *plot.Plot) {
	if !ys.log {
		p.Y.Min = min(p.Y.Min, 0) // a linear axis starts at zero
		if !(p.Y.Max > p.Y.Min) {
			p.Y.Max = p.Y.Min + 1 // all zero
		}
		p.Y.Tick.Marker = niceTicks{}
		return
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{zeroAt: ys.floor, zero: ys.clamped}
	p.Y.Min, p.Y.Max = ys.min, ys.max
}

// logTicks labels every decade and marks 2..9 between them. When zero is
// set, the decade starting at zeroAt holds only values drawn at the floor:
// its tick reads "0" and it gets no minor ticks.
type logTicks struct {
	zeroAt float64
	zero   bool
}

var _ plot.Ticker = logTicks{}

func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := decade(lo); e <= decade(hi); e++ {
		v := math.Pow10(e)
		zeroDecade := t.zero && v == t.zeroAt
		lbl := formatNum(v)
		if zeroDecade {
			lbl = "0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: lbl})
		if zeroDecade {
			continue
		}
		for i := 2; i < 10; i++ {
			if m := v * float64(i); m <= hi {
				ticks = append(ticks, plot.Tick{Value: m})
			}
		}
	}
	return ticks
}

// niceTicks labels about eight steps of 1, 2 or 5 times a power of ten,
// with a minor tick halfway.
type niceTicks struct{}

var _ plot.Ticker = niceTicks{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 8
	e := decade(raw)
	mag := math.Pow10(e)
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -decade(step))
	var ticks []plot.Tick
	for k := math.Ceil(lo / step * 2); k/2*step <= hi+step*1e-9; k++ {
		v := k / 2 * step
		if math.Mod(k, 2) != 0 {
			ticks = append(ticks, plot.Tick{Value: v})
			continue
		}
		lbl := strconv.FormatFloat(v, 'f', prec, 64)
		if lbl == "-0" {
			lbl = "0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: lbl})
	}
	return ticks
}

// Palette: Okabe-Ito colours, told apart by colour-blind readers too.
var palette = []color.RGBA{
	{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}, // vermillion
	{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
	{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
	{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF}, // reddish purple
	{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
	{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF}, // sky blue
	{R: 0x00, G: 0x00, B: 0x00, A: 0xFF}, // black
}

// glyphs tell the series apart in grey print too.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
	draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
}

func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

func translucent(c color.RGBA, a uint8) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

func glyphStyle(i int) draw.GlyphStyle {
	return draw.GlyphStyle{Color: colorOf(i), Radius: vg.Points(3.5), Shape: glyphs[i%len(glyphs)]}
}

func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

var (
	markStyle = draw.LineStyle{Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(4)}}
	grey      = color.Gray{Y: 0x55}
)

// chart is a plot being built and its legend.
type chart struct {
	p      *plot.Plot
	legend *sideLegend
}

// newChart is a plot with the house fonts, a grid and a title.
func newChart(title string, r experiments.Result) chart {
	p := plot.New()
	if r.Partial {
		title += " (partial run)"
	}
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(vg.Points(15))
	p.Title.Padding = vg.Points(10)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(vg.Points(13))
		a.Label.Padding = vg.Points(4)
		a.Tick.Label.Font = sans(vg.Points(11))
		a.Tick.Marker = niceTicks{}
	}
	p.Y.Label.TextStyle.Handler = narrowHandler{p.Y.Label.TextStyle.Handler}
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xDD}
	g.Horizontal.Color = color.Gray{Y: 0xDD}
	p.Add(g)
	return chart{p: p, legend: newSideLegend()}
}

// narrowHandler measures text as zero wide and otherwise is its Handler.
// plot sizes the rotated y-axis label's glyph box from the label's width,
// placed at the axis' arithmetic mid-value; on a log axis that lies near the
// top, and the box pushes the data area down by half the label's length.
// Drawing aligns by the font's own widths and is unaffected.
type narrowHandler struct{ text.Handler }

var _ text.Handler = narrowHandler{}

func (h narrowHandler) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	_, height, depth = h.Handler.Box(txt, fnt)
	return 0, height, depth
}

// finish adds the legend, drawn last, and returns the plot.
func (c chart) finish() *plot.Plot {
	c.p.Add(c.legend)
	return c.p
}

// thin keeps at most MaxLines of ss, evenly spread and always the first and
// the last, and returns the legend note saying so ("" when all are kept).
func thin(ss []series) ([]series, string) {
	if len(ss) <= MaxLines {
		return ss, ""
	}
	out := make([]series, MaxLines)
	for i := range out {
		out[i] = ss[(i*(len(ss)-1)+(MaxLines-1)/2)/(MaxLines-1)]
	}
	return out, fmt.Sprintf("%d of %d lines shown", MaxLines, len(ss))
}

// bands adds, per series (not yet clamped for ys), a shaded 95 % band, the
// estimate as line and points, and a legend entry. With markT it adds a
// dashed line of the series' colour at x = its session timeout when that
// lies within the data.
func (c chart) bands(ss []series, ys yScale, markT bool) {
	ss, note := thin(ss)
	ss = ys.apply(ss)
	p := c.p
	for i, s := range ss {
		est := make(plotter.XYs, len(s.data))
		for j, d := range s.data {
			est[j] = plotter.XY{X: d.x, Y: d.est}
		}
		var thumbs []plot.Thumbnailer
		if len(s.data) > 1 {
			ring := make(plotter.XYs, 0, 2*len(s.data))
			for _, d := range s.data {
				ring = append(ring, plotter.XY{X: d.x, Y: d.hi})
			}
			for j := len(s.data) - 1; j >= 0; j-- {
				ring = append(ring, plotter.XY{X: s.data[j].x, Y: s.data[j].lo})
			}
			band := &plotter.Polygon{XYs: []plotter.XYs{ring}, Color: translucent(colorOf(i), 0x40)}
			p.Add(band)
			thumbs = append(thumbs, band)
		} else {
			bars := yErrorBars(s.data)
			bars.LineStyle.Color = colorOf(i)
			p.Add(bars)
		}
		line := &plotter.Line{XYs: est, LineStyle: draw.LineStyle{Color: colorOf(i), Width: vg.Points(2)}}
		points := &plotter.Scatter{XYs: est, GlyphStyle: glyphStyle(i)}
		p.Add(line, points)
		thumbs = append(thumbs, line, points)
		c.legend.add(s.label, thumbs...)
	}
	ys.configure(p)
	marked := false
	for i, s := range ss {
		if !markT || !finite(s.timeoutS) || s.timeoutS < p.X.Min || s.timeoutS > p.X.Max {
			continue
		}
		st := markStyle
		st.Color = colorOf(i)
		p.Add(vline{x: s.timeoutS, style: st})
		marked = true
	}
	c.legend.add("95 % CI", bandThumb{})
	if marked {
		st := markStyle
		st.Color = grey
		c.legend.add("outage length = T", lineThumb{style: st})
	}
	if note != "" {
		c.legend.add(note)
	}
}

// errorBars adds, per series (not yet clamped for ys), its points with x
// and y 95 % error bars and a legend entry; with label, a "T=10s" text by
// each point; with connect, a thin line through the points.
func (c chart) errorBars(ss []series, ys yScale, label, connect bool) {
	ss = ys.apply(ss)
	p := c.p
	for i, s := range ss {
		est := make(plotter.XYs, len(s.data))
		labels := make([]string, len(s.data))
		for j, d := range s.data {
			est[j] = plotter.XY{X: d.x, Y: d.est}
			labels[j] = timeoutLabel(d.timeoutS)
		}
		if connect && len(est) > 1 {
			p.Add(&plotter.Line{XYs: est, LineStyle: draw.LineStyle{Color: colorOf(i), Width: vg.Points(1)}})
		}
		yb, xb := yErrorBars(s.data), xErrorBars(s.data)
		yb.LineStyle.Color, xb.LineStyle.Color = colorOf(i), colorOf(i)
		points := &plotter.Scatter{XYs: est, GlyphStyle: glyphStyle(i)}
		points.GlyphStyle.Radius = vg.Points(4.5)
		p.Add(yb, xb, points)
		if label {
			styles := make([]text.Style, len(labels))
			for k := range styles {
				styles[k] = text.Style{Font: sans(vg.Points(12)), Color: colorOf(i), Handler: p.TextHandler}
			}
			p.Add(&plotter.Labels{XYs: est, Labels: labels, TextStyle: styles,
				Offset: vg.Point{X: vg.Points(8), Y: vg.Points(6)}})
		}
		c.legend.add(s.label, points)
	}
	c.legend.add("95 % CI", errThumb{})
	ys.configure(p)
	// Room around the outermost bars and labels.
	dx := 0.06 * (p.X.Max - p.X.Min)
	p.X.Min, p.X.Max = p.X.Min-dx, p.X.Max+dx
	if !ys.log {
		p.Y.Max += 0.06 * (p.Y.Max - p.Y.Min)
	}
}

var barStyle = draw.LineStyle{Width: vg.Points(1.5)}

func yErrorBars(data []datum) *plotter.YErrorBars {
	xys := make(plotter.XYs, len(data))
	errs := make(plotter.YErrors, len(data))
	for i, d := range data {
		xys[i] = plotter.XY{X: d.x, Y: d.est}
		errs[i] = struct{ Low, High float64 }{d.est - d.lo, d.hi - d.est}
	}
	return &plotter.YErrorBars{XYs: xys, YErrors: errs, LineStyle: barStyle, CapWidth: vg.Points(7)}
}

func xErrorBars(data []datum) *plotter.XErrorBars {
	xys := make(plotter.XYs, len(data))
	errs := make(plotter.XErrors, len(data))
	for i, d := range data {
		xys[i] = plotter.XY{X: d.x, Y: d.est}
		errs[i] = struct{ Low, High float64 }{d.x - d.xlo, d.xhi - d.x}
	}
	return &plotter.XErrorBars{XYs: xys, XErrors: errs, LineStyle: barStyle, CapWidth: vg.Points(7)}
}

// vline draws a vertical line across the data area at x.
type vline struct {
	x     float64
	style draw.LineStyle
}

var _ plot.Plotter = vline{}

func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
}

// lineThumb is a legend thumbnail of a plain line.
type lineThumb struct{ style draw.LineStyle }

var _ plot.Thumbnailer = lineThumb{}

func (t lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(t.style, c.Min.X, y, c.Max.X, y)
}

// bandThumb is the legend thumbnail of a grey 95 % band.
type bandThumb struct{}

var _ plot.Thumbnailer = bandThumb{}

func (bandThumb) Thumbnail(c *draw.Canvas) {
	c.SetColor(translucent(color.RGBA{R: grey.Y, G: grey.Y, B: grey.Y}, 0x40))
	c.Fill(c.Rectangle.Path())
}

// errThumb is the legend thumbnail of a grey error bar.
type errThumb struct{}

var _ plot.Thumbnailer = errThumb{}

func (errThumb) Thumbnail(c *draw.Canvas) {
	st := barStyle
	st.Color = grey
	ctr := c.Center()
	w := vg.Points(5)
	c.StrokeLine2(st, c.Min.X+w, ctr.Y, c.Max.X-w, ctr.Y)
	c.StrokeLine2(st, c.Min.X+w, c.Min.Y, c.Min.X+w, c.Max.Y)
	c.StrokeLine2(st, c.Max.X-w, c.Min.Y, c.Max.X-w, c.Max.Y)
}

// sideLegend is a legend to the right of the data area, so that it never
// hides data. It is a plot.Plotter: its glyph box at the right edge makes
// plot reserve its width, and it draws into that space. Long texts wrap.
type sideLegend struct {
	entries []legendEntry
	style   text.Style
}

type legendEntry struct {
	lines  []string
	thumbs []plot.Thumbnailer // drawn on top of each other; none for a note
}

var (
	_ plot.Plotter    = (*sideLegend)(nil)
	_ plot.GlyphBoxer = (*sideLegend)(nil)
)

const (
	legendGap     = 18  // points between the data area and the legend
	legendThumb   = 26  // points, thumbnail width
	legendTextGap = 5   // points between thumbnail and text
	legendMaxText = 130 // points; longer texts wrap
	legendMargin  = 6   // points between the legend and the image's edge
)

func newSideLegend() *sideLegend {
	return &sideLegend{style: text.Style{
		Color: color.Black, Font: sans(vg.Points(11)), Handler: plot.DefaultTextHandler,
		XAlign: draw.XLeft, YAlign: draw.YCenter,
	}}
}

func (l *sideLegend) add(label string, thumbs ...plot.Thumbnailer) {
	l.entries = append(l.entries, legendEntry{lines: wrap(l.style, label, legendMaxText), thumbs: thumbs})
}

// wrap breaks s at spaces into lines at most maxPt wide where it can.
func wrap(sty text.Style, s string, maxPt vg.Length) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		if cur != "" && sty.Width(cur+" "+w) > maxPt {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur = strings.TrimSpace(cur + " " + w)
	}
	return append(lines, cur)
}

func (l *sideLegend) width() vg.Length {
	var w vg.Length
	for _, e := range l.entries {
		for _, line := range e.lines {
			w = max(w, l.style.Width(line))
		}
	}
	return legendGap + legendThumb + legendTextGap + w + legendMargin
}

// GlyphBoxes claims the legend's width to the right of the data area.
func (l *sideLegend) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Max: vg.Point{X: l.width()}}}}
}

// Plot draws the entries top down, starting level with the data area's top.
func (l *sideLegend) Plot(c draw.Canvas, _ *plot.Plot) {
	x := c.Max.X + legendGap
	y := c.Max.Y
	row := l.style.Font.Size * 1.3
	for _, e := range l.entries {
		tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y - row + row/5},
			Max: vg.Point{X: x + legendThumb, Y: y - row/5},
		}}
		for _, t := range e.thumbs {
			t.Thumbnail(&tc)
		}
		for i, line := range e.lines {
			c.FillText(l.style, vg.Point{X: x + legendThumb + legendTextGap, Y: y - row*(vg.Length(i)+0.5)}, line)
		}
		y -= row*vg.Length(len(e.lines)) + row/4
	}
}
