package plots

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"hbsim/experiments"
)

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
