package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hbsim/experiments"
)

// Recommend plots what "hbsim recommend" explored: the target metric with
// its 95 % interval against the session timeout, one marker per explored
// timeout (coloured by verdict), the target as a dashed horizontal line,
// the timeouts beyond the server's maxSessionTimeout shaded, and the
// recommended timeout ringed and labelled. The x axis is the cost: a
// crashed client's session lingers T to T + tickTime. Its file name is
// NameTradeOff. With no candidate that has the metric the error wraps
// ErrNoData.
func Recommend(rec experiments.Recommendation) (*plot.Plot, error) {
	metric := rec.Target.Metric
	verdicts := []struct {
		name  string
		label string
		color int // palette index
		glyph int
	}{
		{experiments.VerdictMeets, "meets the target (upper bound <= target)", 2, 0},
		{experiments.VerdictMisses, "misses it (lower bound > target)", 0, 1},
		{experiments.VerdictNotShown, "not shown within the budget", 4, 2},
		{experiments.VerdictBaseline, "baseline (one batch)", 1, 4},
	}
	var ss []series
	var all []datum
	for _, v := range verdicts {
		s := series{label: v.label, timeoutS: math.NaN()}
		for i, c := range rec.Candidates {
			if c.Verdict != v.name {
				continue
			}
			d, ok := candidateDatum(c, metric, i)
			if ok {
				s.data = append(s.data, d)
			}
		}
		ss = append(ss, s) // empty ones keep the colours aligned
	}
	for i, c := range rec.Candidates {
		if d, ok := candidateDatum(c, metric, i); ok {
			all = append(all, d)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("plots: %s: no explored timeout has %s: %w", rec.Name, metric, ErrNoData)
	}
	// The target line counts for the y range.
	withTarget := append(ss, series{data: []datum{{est: rec.Target.Value, lo: rec.Target.Value, hi: rec.Target.Value}}})
	ys := chooseY(withTarget)

	title := fmt.Sprintf("%s: session timeout for %s <= %s", nameOr(rec.Name), metricTitle(metric), formatNum(rec.Target.Value))
	c := newChart(title, experiments.Result{})
	c.p.X.Label.Text = fmt.Sprintf("session timeout T (s); a crashed client's session lingers T to T + %gs", rec.TickTimeS)
	if !rec.BucketRounding {
		c.p.X.Label.Text = "session timeout T (s); a crashed client's session lingers T"
	}
	c.p.Y.Label.Text = ys.label(metricLabelOf(metric))

	xmin, xmax := all[0].x, all[0].x
	for _, d := range all {
		xmin, xmax = min(xmin, d.x), max(xmax, d.x)
	}
	pad := 0.05 * max(xmax-xmin, 1)
	xlo, xhi := max(0, xmin-pad), xmax+pad

	// Beyond the server's cap: hypothetical. Drawn first, under the data.
	beyond := false
	for _, cd := range rec.Candidates {
		beyond = beyond || cd.BeyondServerMax
	}
	if rec.MaxTimeoutS > 0 && rec.MaxTimeoutS < xhi {
		st := markStyle
		st.Color = grey
		if beyond {
			shade := color.NRGBA{A: 0x14}
			c.p.Add(xspan{x0: rec.MaxTimeoutS, x1: math.Inf(1), color: shade})
			c.legend.add(fmt.Sprintf("beyond the server's maxSessionTimeout (%gs): needs a server change", rec.MaxTimeoutS), shadeThumb{color: shade})
		} else {
			c.legend.add(fmt.Sprintf("the server's maxSessionTimeout (%gs)", rec.MaxTimeoutS), lineThumb{style: st})
		}
		c.p.Add(vline{x: rec.MaxTimeoutS, style: st})
	}

	// The curve through every explored timeout, in timeout order.
	curve := ys.apply([]series{{data: all}})[0]
	line := make(plotter.XYs, len(curve.data))
	for i, d := range curve.data {
		line[i] = plotter.XY{X: d.x, Y: d.est}
	}
	if len(line) > 1 {
		c.p.Add(&plotter.Line{XYs: line, LineStyle: draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(1)}})
	}
	drawn := ys.apply(ss)
	for i, s := range drawn {
		if len(s.data) == 0 {
			continue
		}
		v := verdicts[i]
		yb := yErrorBars(s.data)
		yb.LineStyle.Color = colorOf(v.color)
		pts := make(plotter.XYs, len(s.data))
		for j, d := range s.data {
			pts[j] = plotter.XY{X: d.x, Y: d.est}
		}
		sc := &plotter.Scatter{XYs: pts, GlyphStyle: draw.GlyphStyle{Color: colorOf(v.color), Radius: vg.Points(4), Shape: glyphs[v.glyph]}}
		c.p.Add(yb, sc)
		c.legend.add(v.label, sc)
	}
	c.legend.add("95 % CI", errThumb{})

	ys.configure(c.p)
	c.p.X.Min, c.p.X.Max = xlo, xhi
	if !ys.log {
		c.p.Y.Max = max(c.p.Y.Max, rec.Target.Value) * 1.08
	}

	tst := draw.LineStyle{Color: colorOf(6), Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}
	c.p.Add(hline{y: ys.clampY(rec.Target.Value), style: tst})
	c.legend.add("target "+formatNum(rec.Target.Value), lineThumb{style: tst})

	if rec.Recommended >= 0 {
		best := rec.Candidates[rec.Recommended]
		if d, ok := candidateDatum(best, metric, rec.Recommended); ok {
			d = ys.apply([]series{{data: []datum{d}}})[0].data[0]
			ring := &plotter.Scatter{XYs: plotter.XYs{{X: d.x, Y: d.est}},
				GlyphStyle: draw.GlyphStyle{Color: colorOf(6), Radius: vg.Points(9), Shape: draw.RingGlyph{}}}
			c.p.Add(ring)
			lbl := "use " + strconv.FormatFloat(best.TimeoutS, 'f', -1, 64) + " s"
			c.p.Add(&plotter.Labels{XYs: plotter.XYs{{X: d.x, Y: d.est}}, Labels: []string{lbl},
				// Below and left of the point: on a falling curve that corner is empty.
				TextStyle: []text.Style{{Font: sans(vg.Points(13)), Color: color.Black, Handler: c.p.TextHandler,
					XAlign: draw.XRight, YAlign: draw.YTop}},
				Offset: vg.Point{X: vg.Points(-10), Y: vg.Points(-10)}})
			c.legend.add("recommended: "+lbl, ring)
		}
	}
	if rec.Baseline >= 0 && (rec.Recommended < 0 || rec.Baseline != rec.Recommended) {
		b := rec.Candidates[rec.Baseline]
		c.legend.add(fmt.Sprintf("baseline T = %gs", b.TimeoutS))
	}
	return c.finish(), nil
}

// candidateDatum is the drawable value of metric at candidate c.
func candidateDatum(c experiments.Candidate, metric string, index int) (datum, bool) {
	est, lo, hi, ok := metricOf(experiments.PointResult{Metrics: c.Metrics}, metric)
	if !ok || !finite(c.TimeoutS) {
		return datum{}, false
	}
	return datum{x: c.TimeoutS, xlo: c.TimeoutS, xhi: c.TimeoutS, est: est, lo: lo, hi: hi, timeoutS: c.TimeoutS, index: index}, true
}

func nameOr(n string) string {
	if n == "" {
		return "experiment"
	}
	return n
}

// metricLabelOf is metricLabel without a Result to look units up in.
func metricLabelOf(name string) string { return metricLabel(experiments.Result{}, name) }

// clampY is where a log axis draws v (the floor for values it cannot show).
func (ys yScale) clampY(v float64) float64 {
	if !ys.log {
		return v
	}
	return ys.clamp(v)
}

// hline draws a horizontal line across the data area at y.
type hline struct {
	y     float64
	style draw.LineStyle
}

var _ plot.Plotter = hline{}

func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.y)
	c.StrokeLine2(h.style, c.Min.X, y, c.Max.X, y)
}

// xspan shades the data area between x0 and x1 (clipped to it).
type xspan struct {
	x0, x1 float64
	color  color.Color
}

var _ plot.Plotter = xspan{}

func (s xspan) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x0 := max(c.Min.X, trX(max(s.x0, p.X.Min)))
	x1 := c.Max.X
	if !math.IsInf(s.x1, 1) {
		x1 = min(c.Max.X, trX(min(s.x1, p.X.Max)))
	}
	if x1 <= x0 {
		return
	}
	c.SetColor(s.color)
	c.Fill(vg.Rectangle{Min: vg.Point{X: x0, Y: c.Min.Y}, Max: vg.Point{X: x1, Y: c.Max.Y}}.Path())
}

// shadeThumb is the legend thumbnail of a shaded span.
type shadeThumb struct{ color color.Color }

var _ plot.Thumbnailer = shadeThumb{}

func (t shadeThumb) Thumbnail(c *draw.Canvas) {
	c.SetColor(t.color)
	c.Fill(c.Rectangle.Path())
}
