package plots

import (
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hbsim/experiments"
)

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
