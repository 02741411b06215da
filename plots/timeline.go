package plots

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"hbsim/experiments"
)

// TimelineWidth is the width of a timeline figure (1152 pixels at 96 dpi).
// Its height grows with the number of lanes and events, from
// TimelineMinHeight.
const (
	TimelineWidth     = 12 * vg.Inch
	TimelineMinHeight = 7.5 * vg.Inch
)

// Timeline limits: more clients than MaxTimelineClients, or more events in
// the window than MaxTimelineEvents, are left out, and the figure says so.
const (
	MaxTimelineClients = 6
	MaxTimelineEvents  = 14
	maxSegments        = 3
)

// TimelineOptions choose the time window of a timeline figure.
type TimelineOptions struct {
	// From and To, when To > From, show exactly [From, To] on an unbroken
	// axis. Otherwise the window is chosen from the decisive events (see
	// Timeline).
	From, To time.Duration
}

// Timeline draws one run as a PNG figure of TimelineWidth: a header with
// the run's outcome in words; a lane per client showing its connection
// state as coloured bands (Connected, Disconnected, Expired: the server has
// expired the session and the client does not know yet), pings above the
// band and replies below it as ticks, lost ones as crosses, and connection
// attempts as thin bars; a row per fault with its episodes, which are also
// shaded across the whole figure; below, the tracker's deadline E of every
// session as a step line against the time, with the line "now = E" where a
// session expires and the tick-bucket boundaries as dotted lines; and
// numbered badges on the decisive events, told in order in the column on
// the right.
//
// The default window runs from a little before the first decisive event to
// a little after the last. Where nothing decisive happens for a long
// stretch (a 30-minute server crash, say), the time axis is broken: the
// stretch is squeezed to a narrow hatched gap that says how long it was.
// At most three stretches of activity are shown.
func Timeline(tl experiments.Timeline, opts TimelineOptions) ([]byte, error) {
	if len(tl.Clients) == 0 || tl.Horizon <= 0 {
		return nil, fmt.Errorf("plots: timeline %s: no client: %w", tl.Title, ErrNoData)
	}
	if opts.To > opts.From && (opts.From < 0 || opts.From >= tl.Horizon) {
		return nil, fmt.Errorf("plots: timeline %s: window start %v is not within the run [0, %v]", tl.Title, opts.From, tl.Horizon)
	}
	f := newFigure(tl, opts)
	return f.render()
}

// ---------------------------------------------------------------------------
// The window and the broken axis.

// seg is a stretch of the time axis, in seconds.
type seg struct{ a, b float64 }

func secs(d time.Duration) float64 { return d.Seconds() }

// dur is the duration of x seconds, for the axis bounds.
func dur(x float64) time.Duration { return time.Duration(math.Round(x * 1e9)) }

// window chooses the stretches of time to show and says what it left out.
func window(tl experiments.Timeline, opts TimelineOptions) ([]seg, []string) {
	h := secs(tl.Horizon)
	if opts.To > opts.From {
		return []seg{{secs(opts.From), math.Min(secs(opts.To), h)}}, nil
	}
	T := math.Max(secs(tl.Timeout), 1)
	before, after := math.Max(T/2, 3), math.Max(T/2, 3)
	maxGap := 3 * T
	// The decisive instants are the events with consequences: everything
	// but the edges of faults, which count only near such an event (a
	// pause every 20 s that nothing notices is not news).
	var keys, edges []float64
	for _, e := range tl.Events {
		if e.Kind == experiments.EventFaultStart || e.Kind == experiments.EventFaultEnd {
			continue
		}
		keys = append(keys, secs(e.At))
	}
	for _, fs := range tl.Faults {
		if !fs.Background && !minor(tl, fs) {
			edges = append(edges, secs(fs.From))
			if fs.To < tl.Horizon {
				edges = append(edges, secs(fs.To))
			}
		}
	}
	if len(keys) == 0 && len(edges) > 0 {
		// Nothing has consequences: show the first fault, ridden out.
		keys = []float64{slices.Min(edges)}
	}
	primary := slices.Clone(keys)
	for _, x := range edges {
		if slices.ContainsFunc(primary, func(k float64) bool { return math.Abs(k-x) <= maxGap }) {
			keys = append(keys, x)
		}
	}
	if len(keys) == 0 {
		// Nothing happens: show the start of the run.
		return []seg{{0, math.Min(h, 60)}}, nil
	}
	slices.Sort(keys)
	var segs []seg
	cur := seg{keys[0] - before, keys[0] + after}
	for _, k := range keys[1:] {
		if k-cur.b+after > maxGap+after {
			segs = append(segs, cur)
			cur = seg{k - before, k + after}
			continue
		}
		cur.b = k + after
	}
	segs = append(segs, cur)
	var notes []string
	if len(segs) > maxSegments {
		notes = append(notes, fmt.Sprintf("showing the first %d of %d stretches of activity (use --from/--to for others)", maxSegments, len(segs)))
		segs = segs[:maxSegments]
	}
	for i := range segs {
		segs[i].a = math.Max(segs[i].a, 0)
		segs[i].b = math.Min(segs[i].b, h)
	}
	// Merge what clipping made overlap.
	out := segs[:1]
	for _, s := range segs[1:] {
		if last := &out[len(out)-1]; s.a <= last.b {
			last.b = math.Max(last.b, s.b)
			continue
		}
		out = append(out, s)
	}
	return out, notes
}

// minor reports a fault episode too short to matter for a session: under
// a twentieth of T (and under a second), like a young-generation GC pause.
// It is drawn, but neither numbered nor used to choose the window.
func minor(tl experiments.Timeline, fs experiments.FaultSpan) bool {
	return fs.To-fs.From < min(tl.Timeout/20, time.Second)
}

// faultOf is the fault episode that starts or ends at a fault event.
func faultOf(tl experiments.Timeline, e experiments.Event) (experiments.FaultSpan, bool) {
	for _, fs := range tl.Faults {
		if fs.Background {
			continue
		}
		if fs.Track == e.Track && (e.Kind == experiments.EventFaultStart && fs.From == e.At || e.Kind == experiments.EventFaultEnd && fs.To == e.At) {
			return fs, true
		}
	}
	return experiments.FaultSpan{}, false
}

// gapFrac is the share of the axis each break takes.
const gapFrac = 0.045

// brokenScale is a plot.Normalizer that shows only its segments, each
// linearly, side by side, separated by gaps of gapFrac; values between two
// segments fall into their gap, values outside extend the outer segments.
type brokenScale struct{ segs []seg }

var _ plot.Normalizer = brokenScale{}

func (s brokenScale) unit() float64 {
	total := 0.0
	for _, g := range s.segs {
		total += g.b - g.a
	}
	return (1 - gapFrac*float64(len(s.segs)-1)) / total
}

// Normalize ignores min and max: the axis runs from the first segment's
// start to the last one's end.
func (s brokenScale) Normalize(_, _, x float64) float64 {
	u := s.unit()
	off := 0.0
	for i, g := range s.segs {
		if x < g.a {
			if i == 0 {
				return (x - g.a) * u
			}
			prev := s.segs[i-1]
			start := off - gapFrac
			return start + (x-prev.b)/(g.a-prev.b)*gapFrac
		}
		if x <= g.b || i == len(s.segs)-1 {
			return off + (x-g.a)*u
		}
		off += (g.b-g.a)*u + gapFrac
	}
	return 1
}

// gaps returns the stretches between the segments.
func (s brokenScale) gaps() []seg {
	var out []seg
	for i := 1; i < len(s.segs); i++ {
		out = append(out, seg{s.segs[i-1].b, s.segs[i].a})
	}
	return out
}

// brokenTicks puts round ticks in each segment, about ten over the axis.
type brokenTicks struct {
	segs  []seg
	count float64 // labelled ticks wanted over the whole axis
}

var _ plot.Ticker = brokenTicks{}

func (t brokenTicks) Ticks(lo, hi float64) []plot.Tick {
	total := 0.0
	for _, g := range t.segs {
		total += g.b - g.a
	}
	var ticks []plot.Tick
	for _, g := range t.segs {
		want := math.Max(2, t.count*(g.b-g.a)/total)
		step := niceStep((g.b - g.a) / want)
		for v := math.Ceil(g.a/step) * step; v <= g.b+1e-9; v += step {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(roundTo(v, step), 'f', -1, 64)})
		}
		for v := math.Ceil(g.a/step*2) * step / 2; v <= g.b; v += step {
			if math.Abs(math.Remainder(v, step)) > 1e-9 {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// niceStep is the smallest of 1, 2, 5 × 10^k not below x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*0.999 {
			return m * p
		}
	}
	return 10 * p
}

func roundTo(v, step float64) float64 {
	d := math.Max(0, -math.Floor(math.Log10(step)))
	p := math.Pow(10, d)
	return math.Round(v*p) / p
}

// ---------------------------------------------------------------------------
// Colours and styles.

var (
	stateColor = map[experiments.LaneState]color.RGBA{
		experiments.StateConnecting:   {R: 0xC8, G: 0xC8, B: 0xC8, A: 0xFF},
		experiments.StateConnected:    {R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
		experiments.StateDisconnected: {R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
		experiments.StateExpired:      {R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}, // vermillion
		experiments.StateCrashed:      {R: 0x33, G: 0x33, B: 0x33, A: 0xFF},
	}
	faultColor = map[experiments.FaultKind]color.RGBA{
		experiments.FaultOutage:         {R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF}, // sky blue
		experiments.FaultServerCrash:    {R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF}, // reddish purple
		experiments.FaultClientPause:    {R: 0x99, G: 0x99, B: 0x99, A: 0xFF},
		experiments.FaultPartition:      {R: 0xF0, G: 0xE4, B: 0x42, A: 0xFF}, // yellow
		experiments.FaultServerPause:    {R: 0x77, G: 0x77, B: 0x77, A: 0xFF},
		experiments.FaultRollingRestart: {R: 0x88, G: 0xAA, B: 0x66, A: 0xFF},
	}
	serverColor = map[experiments.ServerState]color.RGBA{
		experiments.ServerServing:       {R: 0x00, G: 0x9E, B: 0x73, A: 0xFF},
		experiments.ServerLeading:       {R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
		experiments.ServerFollowing:     {R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
		experiments.ServerEstablishing:  {R: 0x7F, G: 0xB0, B: 0xD8, A: 0xFF},
		experiments.ServerSyncing:       {R: 0x80, G: 0xCE, B: 0xB9, A: 0xFF},
		experiments.ServerLooking:       {R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
		experiments.ServerDown:          {R: 0x33, G: 0x33, B: 0x33, A: 0xFF},
		experiments.ServerPausedProcess: {R: 0x99, G: 0x99, B: 0x99, A: 0xFF},
	}
	sessionColors = []color.RGBA{
		{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
		{R: 0x00, G: 0x00, B: 0x00, A: 0xFF},
		{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF},
		{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF},
	}
	expiryRed   = color.RGBA{R: 0xC0, G: 0x10, B: 0x10, A: 0xFF}
	bucketGrey  = color.Gray{Y: 0xC8}
	nowStyle    = draw.LineStyle{Color: color.Gray{Y: 0x70}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	bucketStyle = draw.LineStyle{Color: bucketGrey, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(1), vg.Points(2)}}
)

func sessionColor(i int) color.RGBA { return sessionColors[i%len(sessionColors)] }

func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: sans(size), Handler: plot.DefaultTextHandler, XAlign: draw.XLeft, YAlign: draw.YTop}
}

// ---------------------------------------------------------------------------
// The figure.

type figure struct {
	tl      experiments.Timeline
	segs    []seg
	scale   brokenScale
	notes   []string
	clients []int // indices of the lanes shown
	servers int   // server lanes shown: every server of an ensemble, none for a standalone one
	tracks  []string
	story   []numbered
}

// numbered is an event with its badge number.
type numbered struct {
	experiments.Event
	n int
}

func newFigure(tl experiments.Timeline, opts TimelineOptions) *figure {
	f := &figure{tl: tl}
	f.segs, f.notes = window(tl, opts)
	f.scale = brokenScale{segs: f.segs}
	for i := range tl.Clients {
		if len(f.clients) == MaxTimelineClients {
			f.notes = append(f.notes, fmt.Sprintf("showing %d of %d clients", MaxTimelineClients, len(tl.Clients)))
			break
		}
		f.clients = append(f.clients, i)
	}
	if len(tl.Servers) > 1 {
		f.servers = len(tl.Servers)
	}
	for _, fs := range tl.Faults {
		if f.onServerLane(fs) {
			continue // the server lane shows it
		}
		if f.visible(secs(fs.From), secs(fs.To)) && !slices.Contains(f.tracks, fs.Track) {
			f.tracks = append(f.tracks, fs.Track)
		}
	}
	n := 0
	for _, e := range tl.Events {
		if !f.inside(secs(e.At)) || e.Client >= 0 && !slices.Contains(f.clients, e.Client) {
			continue
		}
		if fs, ok := faultOf(tl, e); ok && minor(tl, fs) {
			continue
		}
		if n == MaxTimelineEvents {
			f.notes = append(f.notes, fmt.Sprintf("numbering the first %d events in the window", MaxTimelineEvents))
			break
		}
		n++
		f.story = append(f.story, numbered{Event: e, n: n})
	}
	return f
}

// onServerLane reports whether a fault span is a server's crash or pause
// that its lane shows (no track of its own).
func (f *figure) onServerLane(fs experiments.FaultSpan) bool {
	return f.serverRow(fs.Track) >= 0 && (fs.Kind == experiments.FaultServerCrash || fs.Kind == experiments.FaultServerPause)
}

// serverRow is the server lane a track names ("server-0", "server-0
// pauses"), or -1.
func (f *figure) serverRow(track string) int {
	name, _, _ := strings.Cut(track, " ")
	return slices.IndexFunc(f.tl.Servers[:f.servers], func(l experiments.ServerLane) bool { return l.Name == name })
}

func (f *figure) lo() float64 { return f.segs[0].a }
func (f *figure) hi() float64 { return f.segs[len(f.segs)-1].b }

// inside reports whether x is within a shown segment.
func (f *figure) inside(x float64) bool {
	for _, s := range f.segs {
		if x >= s.a && x <= s.b {
			return true
		}
	}
	return false
}

// visible reports whether [a, b] meets a shown segment.
func (f *figure) visible(a, b float64) bool {
	for _, s := range f.segs {
		if b >= s.a && a <= s.b {
			return true
		}
	}
	return false
}

// Vertical layout of the lanes panel, in its y units (top row highest):
// fault tracks, then server lanes, then client lanes.
const (
	trackHeight  = 0.7
	serverHeight = 0.7
	laneHeight   = 2.0
)

func (f *figure) laneBase(k int) float64 { return float64(len(f.clients)-1-k) * laneHeight }

func (f *figure) serverBase(k int) float64 {
	return float64(len(f.clients))*laneHeight + float64(f.servers-1-k)*serverHeight
}

func (f *figure) trackBase(k int) float64 {
	return float64(len(f.clients))*laneHeight + float64(f.servers)*serverHeight + float64(len(f.tracks)-1-k)*trackHeight
}

func (f *figure) lanesTop() float64 {
	return float64(len(f.clients))*laneHeight + float64(f.servers)*serverHeight + float64(len(f.tracks))*trackHeight
}

func (f *figure) render() ([]byte, error) {
	const colW = 3.35 * vg.Inch
	margin := vg.Points(10)
	W := TimelineWidth
	headerW := W - 2*margin
	header := f.header(headerW)
	column := f.column(colW - margin)
	headerH := header.height()
	panelsH := vg.Length(f.lanesInches()+deadlineInches) * vg.Inch
	H := max(TimelineMinHeight, headerH+max(panelsH, column.height())+2*margin)

	img := vgimg.NewWith(vgimg.UseWH(W, H), vgimg.UseDPI(vgimg.DefaultDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	top := H - margin
	header.draw(dc, margin, top)
	top -= headerH

	area := vg.Rectangle{Min: vg.Point{X: margin, Y: margin}, Max: vg.Point{X: W - colW - margin, Y: top}}
	column.draw(dc, W-colW, top)

	lanes := f.lanesPlot()
	dl := f.deadlinePlot()
	lanesH := (area.Max.Y - area.Min.Y) * vg.Length(f.lanesShare())
	cl := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: area.Min.X, Y: area.Max.Y - lanesH}, Max: area.Max}}
	cd := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: area.Min, Max: vg.Point{X: area.Max.X, Y: area.Max.Y - lanesH - vg.Points(6)}}}
	alignX([]*plot.Plot{lanes, dl}, []*draw.Canvas{&cl, &cd})
	lanes.Draw(cl)
	dl.Draw(cd)

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: timeline %s: render: %w", f.tl.Title, err)
	}
	return buf.Bytes(), nil
}

// The panels' heights: 0.3 in per fault row and server lane, 1.15 in per
// client lane and 0.5 in for the axis; the deadline panel takes
// deadlineInches.
const deadlineInches = 3

func (f *figure) lanesInches() float64 {
	return 0.3*float64(len(f.tracks)+f.servers) + 1.15*float64(len(f.clients)) + 0.5
}

// lanesShare is the lanes panel's share of the height of both panels.
func (f *figure) lanesShare() float64 {
	return f.lanesInches() / (f.lanesInches() + deadlineInches)
}

// alignX narrows each canvas so that the plots' data areas line up.
func alignX(ps []*plot.Plot, cs []*draw.Canvas) {
	var left, right vg.Length
	for i, p := range ps {
		da := p.DataCanvas(*cs[i])
		left = max(left, da.Min.X-cs[i].Min.X)
		right = max(right, cs[i].Max.X-da.Max.X)
	}
	for i, p := range ps {
		da := p.DataCanvas(*cs[i])
		cs[i].Min.X += left - (da.Min.X - cs[i].Min.X)
		cs[i].Max.X -= right - (cs[i].Max.X - da.Max.X)
	}
}

// newPanel is a plot on the broken time axis with the house fonts.
func (f *figure) newPanel() *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(vg.Points(11))
		a.Tick.Label.Font = sans(vg.Points(9.5))
	}
	p.X.Min, p.X.Max = f.lo(), f.hi()
	p.X.Scale = f.scale
	p.X.Tick.Marker = brokenTicks{segs: f.segs, count: 12}
	p.Y.Padding = 0
	p.X.Padding = 0
	return p
}

// ---------------------------------------------------------------------------
// The lanes panel.

func (f *figure) lanesPlot() *plot.Plot {
	p := f.newPanel()
	p.Y.Min, p.Y.Max = 0, f.lanesTop()+0.35 // headroom for the badges of the top row
	p.Y.Tick.Marker = f.laneTicks()
	p.Y.Tick.Length = 0
	p.Y.LineStyle.Width = 0
	p.X.Label.Text = ""
	p.Add(plotFunc(f.drawFaultShades), plotFunc(f.drawLaneGuides), plotFunc(f.drawTracks), plotFunc(f.drawServers), plotFunc(f.drawLanes),
		f.drawGaps(false), plotFunc(f.drawLaneBadges))
	return p
}

// laneTicks labels each track and lane at its middle.
func (f *figure) laneTicks() plot.ConstantTicks {
	var ts []plot.Tick
	for k, tr := range f.tracks {
		ts = append(ts, plot.Tick{Value: f.trackBase(k) + trackHeight/2, Label: tr})
	}
	for k := range f.servers {
		ts = append(ts, plot.Tick{Value: f.serverBase(k) + serverHeight/2, Label: f.tl.Servers[k].Name})
	}
	for k, ci := range f.clients {
		name := f.tl.Clients[ci].Name
		if f.tl.Clients[ci].Probe {
			name += "\n(probe)"
		}
		ts = append(ts, plot.Tick{Value: f.laneBase(k) + laneHeight*0.5, Label: name})
	}
	return ts
}

// plotFunc is a plot.Plotter drawn by a function.
type plotFunc func(c draw.Canvas, p *plot.Plot)

var _ plot.Plotter = plotFunc(nil)

func (fn plotFunc) Plot(c draw.Canvas, p *plot.Plot) { fn(c, p) }

// clampX limits x to the axis.
func (f *figure) clampX(x float64) float64 { return math.Min(math.Max(x, f.lo()), f.hi()) }

// rect fills the data rectangle [x0, x1] × [y0, y1], clamped to the axis.
func (f *figure) rect(c draw.Canvas, p *plot.Plot, x0, x1, y0, y1 float64, clr color.Color) {
	x0, x1 = f.clampX(x0), f.clampX(x1)
	if x1 <= x0 {
		return
	}
	trX, trY := p.Transforms(&c)
	pts := []vg.Point{{X: trX(x0), Y: trY(y0)}, {X: trX(x1), Y: trY(y0)}, {X: trX(x1), Y: trY(y1)}, {X: trX(x0), Y: trY(y1)}}
	c.FillPolygon(clr, pts)
}

func (f *figure) drawFaultShades(c draw.Canvas, p *plot.Plot) {
	for _, fs := range f.tl.Faults {
		if fs.Background {
			continue
		}
		f.rect(c, p, secs(fs.From), secs(fs.To), p.Y.Min, p.Y.Max, translucent(faultColor[fs.Kind], 0x30))
	}
}

func (f *figure) drawLaneGuides(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sep := draw.LineStyle{Color: color.Gray{Y: 0xE0}, Width: vg.Points(0.8)}
	for k := range f.clients {
		y := trY(f.laneBase(k) + laneHeight)
		c.StrokeLine2(sep, trX(f.lo()), y, trX(f.hi()), y)
	}
}

func (f *figure) drawTracks(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	lbl := textStyle(vg.Points(9), color.Black)
	lbl.YAlign = draw.YCenter
	for k, tr := range f.tracks {
		y0 := f.trackBase(k) + 0.15*trackHeight
		y1 := f.trackBase(k) + 0.85*trackHeight
		for _, fs := range f.tl.Faults {
			if fs.Track != tr || !f.visible(secs(fs.From), secs(fs.To)) {
				continue
			}
			clr := color.Color(faultColor[fs.Kind])
			label := fs.Label
			if fs.Background {
				clr = translucent(faultColor[fs.Kind], 0x60)
				label = "cut for the whole run"
			}
			f.rect(c, p, secs(fs.From), secs(fs.To), y0, y1, clr)
			// The label in the bar's first visible stretch, if it fits.
			for _, s := range f.segs {
				if secs(fs.To) >= s.a && secs(fs.From) <= s.b {
					x0 := math.Max(secs(fs.From), s.a)
					x1 := math.Min(secs(fs.To), s.b)
					if trX(x1)-trX(x0) > lbl.Width(label)+vg.Points(6) {
						c.FillText(lbl, vg.Point{X: trX(x0) + vg.Points(3), Y: trY((y0 + y1) / 2)}, label)
					}
					break
				}
			}
		}
	}
}

// drawServers draws each server's states as a band: leading, following,
// looking (connects are closed), syncing, down, paused.
func (f *figure) drawServers(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	lbl := textStyle(vg.Points(8.5), color.White)
	lbl.YAlign = draw.YCenter
	for k := range f.servers {
		y0 := f.serverBase(k) + 0.15*serverHeight
		y1 := f.serverBase(k) + 0.85*serverHeight
		for _, sp := range f.tl.Servers[k].States {
			if !f.visible(secs(sp.From), secs(sp.To)) {
				continue
			}
			f.rect(c, p, secs(sp.From), secs(sp.To), y0, y1, serverColor[sp.State])
			for _, s := range f.segs {
				if secs(sp.To) >= s.a && secs(sp.From) <= s.b {
					x0 := math.Max(secs(sp.From), s.a)
					x1 := math.Min(secs(sp.To), s.b)
					if trX(x1)-trX(x0) > lbl.Width(string(sp.State))+vg.Points(6) {
						c.FillText(lbl, vg.Point{X: trX(x0) + vg.Points(3), Y: trY((y0 + y1) / 2)}, string(sp.State))
					}
					break
				}
			}
		}
	}
}

// Positions within a client lane, as fractions of laneHeight.
const (
	lnConnect = 0.10 // connection attempt bars
	lnReply   = 0.27 // reply ticks (pointing down from the band)
	lnBandLo  = 0.34
	lnBandHi  = 0.62
	lnPing    = 0.69 // ping ticks (pointing up from the band)
	lnBadge   = 0.86
)

func (f *figure) drawLanes(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	stateText := textStyle(vg.Points(9), color.White)
	stateText.YAlign = draw.YCenter
	small := textStyle(vg.Points(7.5), color.Gray{Y: 0x40})
	small.YAlign = draw.YCenter
	tick := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	replyTick := draw.LineStyle{Color: color.Gray{Y: 0x55}, Width: vg.Points(1)}
	lostStyle := draw.GlyphStyle{Color: expiryRed, Radius: vg.Points(2.6), Shape: draw.CrossGlyph{}}
	for k, ci := range f.clients {
		lane := f.tl.Clients[ci]
		base := f.laneBase(k)
		y := func(frac float64) float64 { return base + frac*laneHeight }
		// Connection attempts.
		for _, cs := range lane.Connects {
			if !f.visible(secs(cs.From), secs(cs.To)) {
				continue
			}
			x0, x1 := secs(cs.From), math.Max(secs(cs.To), secs(cs.From))
			f.rect(c, p, x0, x1, y(lnConnect-0.03), y(lnConnect+0.03), color.Gray{Y: 0x80})
			if w := trX(f.clampX(x1)) - trX(f.clampX(x0)); w > vg.Points(22) {
				for _, l := range []string{fmt.Sprintf("→ server %d: %s", cs.Server, connectResult[cs.Result]), fmt.Sprintf("→ server %d", cs.Server)} {
					if small.Width(l) <= w+vg.Points(4) {
						c.FillText(small, vg.Point{X: trX(f.clampX(x0)), Y: trY(y(lnConnect + 0.09))}, l)
						break
					}
				}
			} else if f.inside(x0) {
				c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 0x80}, Width: vg.Points(1)}, trX(x0), trY(y(lnConnect-0.05)), trX(x0), trY(y(lnConnect+0.05)))
			}
		}
		// Many instant attempts (refused) say so once per stretch.
		for _, sg := range f.segs {
			n, first := 0, 0.0
			for _, cs := range lane.Connects {
				if x := secs(cs.From); cs.Result == "refused" && x >= sg.a && x <= sg.b {
					if n == 0 {
						first = x
					}
					n++
				}
			}
			if n >= 3 {
				c.FillText(small, vg.Point{X: trX(first), Y: trY(y(lnConnect + 0.1))}, fmt.Sprintf("%d connection attempts, each refused", n))
			}
		}
		// State bands.
		for _, sp := range lane.States {
			if !f.visible(secs(sp.From), secs(sp.To)) {
				continue
			}
			f.rect(c, p, secs(sp.From), secs(sp.To), y(lnBandLo), y(lnBandHi), stateColor[sp.State])
			label := string(sp.State)
			switch sp.State {
			case experiments.StateConnected:
				label = "Connected, session " + sp.Session
			case experiments.StateExpired:
				label = "Expired, the client unaware"
			case experiments.StateConnecting:
				label = ""
			}
			for _, s := range f.segs {
				a, b := math.Max(secs(sp.From), s.a), math.Min(secs(sp.To), s.b)
				if b <= a {
					continue
				}
				for _, l := range []string{label, string(sp.State)} {
					if l != "" && trX(b)-trX(a) > stateText.Width(l)+vg.Points(8) {
						c.FillText(stateText, vg.Point{X: trX(a) + vg.Points(4), Y: trY(y((lnBandLo + lnBandHi) / 2))}, l)
						break
					}
				}
			}
		}
		// Pings up, replies down, losses as crosses.
		for _, t := range lane.Pings {
			if x := secs(t); f.inside(x) {
				c.StrokeLine2(tick, trX(x), trY(y(lnBandHi)), trX(x), trY(y(lnPing+0.05)))
			}
		}
		for _, t := range lane.Replies {
			if x := secs(t); f.inside(x) {
				c.StrokeLine2(replyTick, trX(x), trY(y(lnBandLo)), trX(x), trY(y(lnReply-0.05)))
			}
		}
		for _, t := range lane.Lost {
			if x := secs(t); f.inside(x) {
				c.DrawGlyph(lostStyle, vg.Point{X: trX(x), Y: trY(y(lnPing + 0.03))})
			}
		}
		for _, t := range lane.LostBack {
			if x := secs(t); f.inside(x) {
				c.DrawGlyph(lostStyle, vg.Point{X: trX(x), Y: trY(y(lnReply - 0.03))})
			}
		}
	}
}

// connectResult says how a connection attempt ended.
var connectResult = map[string]string{
	"connected": "connected",
	"refused":   "refused",
	"timeout":   "connect timeout",
	"rejected":  "told the session expired",
	"closed":    "closed",
	"open":      "connecting",
}

// drawGaps hatches the breaks of the time axis (and of a broken y axis)
// and, with note, says how long each time break is.
func (f *figure) drawGaps(note bool) plotFunc {
	return func(c draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&c)
		veil := color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xC8}
		zig := draw.LineStyle{Color: color.Gray{Y: 0x60}, Width: vg.Points(0.8)}
		zigzag := func(from, to vg.Point, vertical bool) {
			var pts []vg.Point
			for i, t := 0, vg.Length(0); ; i, t = i+1, t+vg.Points(4) {
				d := vg.Points(2)
				if i%2 == 1 {
					d = -d
				}
				if vertical {
					if from.Y+t > to.Y {
						break
					}
					pts = append(pts, vg.Point{X: from.X + d, Y: from.Y + t})
				} else {
					if from.X+t > to.X {
						break
					}
					pts = append(pts, vg.Point{X: from.X + t, Y: from.Y + d})
				}
			}
			c.StrokeLines(zig, pts)
		}
		st := textStyle(vg.Points(9), color.Black)
		st.Rotation = math.Pi / 2
		st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
		if ys, ok := p.Y.Scale.(brokenScale); ok {
			for _, g := range ys.gaps() {
				y0, y1 := trY(g.a), trY(g.b)
				c.FillPolygon(veil, []vg.Point{{X: c.Min.X, Y: y0}, {X: c.Max.X, Y: y0}, {X: c.Max.X, Y: y1}, {X: c.Min.X, Y: y1}})
				zigzag(vg.Point{X: c.Min.X, Y: y0}, vg.Point{X: c.Max.X, Y: y0}, false)
				zigzag(vg.Point{X: c.Min.X, Y: y1}, vg.Point{X: c.Max.X, Y: y1}, false)
			}
		}
		for _, g := range f.scale.gaps() {
			x0, x1 := trX(g.a), trX(g.b)
			c.FillPolygon(veil, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
			zigzag(vg.Point{X: x0, Y: c.Min.Y}, vg.Point{X: x0, Y: c.Max.Y}, true)
			zigzag(vg.Point{X: x1, Y: c.Min.Y}, vg.Point{X: x1, Y: c.Max.Y}, true)
			if note {
				c.FillText(st, vg.Point{X: (x0 + x1) / 2, Y: (c.Min.Y + c.Max.Y) / 2}, fmtSpan(g.b-g.a)+" not shown")
			}
		}
	}
}

// badge draws a numbered circle at pt.
func badge(c draw.Canvas, pt vg.Point, n int, clr color.Color) {
	r := vg.Points(6.5)
	var path vg.Path
	path.Move(vg.Point{X: pt.X + r, Y: pt.Y})
	path.Arc(pt, r, 0, 2*math.Pi)
	path.Close()
	c.SetColor(color.White)
	c.Fill(path)
	c.SetLineStyle(draw.LineStyle{Color: clr, Width: vg.Points(1.4)})
	c.Stroke(path)
	st := textStyle(vg.Points(8), clr)
	st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
	c.FillText(st, pt, strconv.Itoa(n))
}

// placed is a badge to draw for the point anchor.
type placed struct {
	anchor vg.Point
	n      int
	clr    color.Color
}

// drawBadgeRow draws badges rise above their anchors, raising one by a
// level when it would overlap the one before on its level, each with a
// leader line down to its anchor.
func drawBadgeRow(c draw.Canvas, bs []placed, rise vg.Length) {
	slices.SortStableFunc(bs, func(a, b placed) int { return cmp.Compare(a.anchor.X, b.anchor.X) })
	lastX := map[int]vg.Length{}
	leader := draw.LineStyle{Color: color.Gray{Y: 0x60}, Width: vg.Points(0.7)}
	for _, b := range bs {
		level := 0
		for ; level < 4; level++ {
			if x, ok := lastX[level]; !ok || b.anchor.X-x > vg.Points(15) {
				break
			}
		}
		lastX[level] = b.anchor.X
		pt := vg.Point{X: b.anchor.X, Y: b.anchor.Y + rise + vg.Length(level)*vg.Points(15)}
		c.StrokeLine2(leader, b.anchor.X, b.anchor.Y, pt.X, pt.Y)
		badge(c, pt, b.n, b.clr)
	}
}

func eventColor(e experiments.Event) color.Color {
	switch e.Kind {
	case experiments.EventSessionExpired, experiments.EventExpiredSeen:
		return expiryRed
	case experiments.EventReconnected, experiments.EventServerRestarted:
		return color.RGBA{R: 0x00, G: 0x7A, B: 0x58, A: 0xFF}
	}
	return color.Black
}

func (f *figure) drawLaneBadges(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	rows := map[float64][]placed{}
	for _, e := range f.story {
		if e.Server() {
			continue
		}
		var y float64
		switch k := slices.Index(f.clients, e.Client); {
		case e.OnServerLane() || (e.Kind == experiments.EventFaultStart || e.Kind == experiments.EventFaultEnd) && f.trackOf(e.Event) < 0:
			s := f.serverRow(e.Track)
			if s < 0 {
				continue
			}
			y = f.serverBase(s) + 0.85*serverHeight
		case e.Kind == experiments.EventFaultStart || e.Kind == experiments.EventFaultEnd:
			t := f.trackOf(e.Event)
			if t < 0 {
				continue
			}
			y = f.trackBase(t) + 0.85*trackHeight
		case k >= 0:
			y = f.laneBase(k) + lnPing*laneHeight
		default:
			continue
		}
		rows[y] = append(rows[y], placed{anchor: vg.Point{X: trX(secs(e.At)), Y: trY(y)}, n: e.n, clr: eventColor(e.Event)})
	}
	for _, y := range sortedKeys(rows) {
		rise := vg.Points(9)
		if y >= float64(len(f.clients))*laneHeight { // a fault track: badges inside the row
			rise = vg.Points(3)
		}
		drawBadgeRow(c, rows[y], rise)
	}
}

func sortedKeys(m map[float64][]placed) []float64 {
	var ks []float64
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// trackOf is the track row of a fault event, or -1.
func (f *figure) trackOf(e experiments.Event) int {
	if fs, ok := faultOf(f.tl, e); ok {
		return slices.Index(f.tracks, fs.Track)
	}
	return -1
}

// ---------------------------------------------------------------------------
// The deadline panel.

func (f *figure) deadlinePlot() *plot.Plot {
	p := f.newPanel()
	p.X.Label.Text = "time since the start of the run (s)"
	p.Y.Label.Text = "session deadline E at the server (s)"
	// The y axis shows deadlines: the same stretches, reaching T + k further.
	reach := secs(f.tl.Timeout + f.tl.Tick)
	var ys []seg
	for _, s := range f.segs {
		n := seg{s.a, s.b + reach}
		if len(ys) > 0 && n.a <= ys[len(ys)-1].b {
			ys[len(ys)-1].b = n.b
			continue
		}
		ys = append(ys, n)
	}
	p.Y.Min, p.Y.Max = ys[0].a, ys[len(ys)-1].b
	p.Y.Scale = brokenScale{segs: ys}
	p.Y.Tick.Marker = brokenTicks{segs: ys, count: 7}
	p.Add(plotFunc(f.drawFaultShades), plotFunc(f.drawBuckets), plotFunc(f.drawNow), plotFunc(f.drawDeadlines),
		plotFunc(f.drawSilences), f.drawGaps(true), plotFunc(f.drawServerBadges))
	return p
}

func (f *figure) drawBuckets(c draw.Canvas, p *plot.Plot) {
	if !f.tl.Rounding {
		return
	}
	trX, trY := p.Transforms(&c)
	for _, b := range f.tl.Buckets {
		// The expirer's runs (vertical) ...
		for _, t := range b.Boundaries(f.tl.Tick, dur(f.lo()), dur(f.hi())) {
			if x := secs(t); f.inside(x) {
				c.StrokeLine2(bucketStyle, trX(x), c.Min.Y, trX(x), c.Max.Y)
			}
		}
		// ... and the deadlines its touches set (horizontal), up to T + k
		// after its last one: every deadline lies on one.
		e := b
		e.To += f.tl.Timeout + f.tl.Tick
		for _, t := range e.Boundaries(f.tl.Tick, dur(p.Y.Min), dur(p.Y.Max)) {
			y := secs(t)
			c.StrokeLines(bucketStyle, c.ClipLinesXY([]vg.Point{{X: trX(f.lo()), Y: trY(y)}, {X: trX(f.hi()), Y: trY(y)}})...)
		}
	}
}

// drawNow draws now = E, where a deadline is reached.
func (f *figure) drawNow(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, s := range f.segs {
		c.StrokeLines(nowStyle, c.ClipLinesXY([]vg.Point{{X: trX(s.a), Y: trY(s.a)}, {X: trX(s.b), Y: trY(s.b)}})...)
	}
	// Name the line near the end of the last stretch, along its slope.
	s := f.segs[len(f.segs)-1]
	x := s.b - 0.12*(s.b-s.a)
	a, b := vg.Point{X: trX(s.a), Y: trY(s.a)}, vg.Point{X: trX(s.b), Y: trY(s.b)}
	st := textStyle(vg.Points(9), nowStyle.Color)
	st.Rotation = math.Atan2(float64(b.Y-a.Y), float64(b.X-a.X))
	st.XAlign, st.YAlign = draw.XCenter, draw.YBottom
	if pt := (vg.Point{X: trX(x), Y: trY(x) + vg.Points(2)}); c.Contains(pt) {
		c.FillText(st, pt, "now")
	}
}

func (f *figure) drawDeadlines(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	var labels []vg.Rectangle // session names placed so far
	for i, s := range f.tl.Sessions {
		if !slices.Contains(f.clients, s.Client) || len(s.Steps) == 0 {
			continue
		}
		clr := sessionColor(i)
		line := draw.LineStyle{Color: clr, Width: vg.Points(2)}
		dot := draw.GlyphStyle{Color: clr, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		down := line
		down.Width = vg.Points(1.2)
		down.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		// Each step is a level from its touch to the next; consecutive
		// levels meet in a vertical riser at the touch. A level is dashed
		// while the leader is down: no tracker holds it then.
		var prev *vg.Point
		for k, st := range s.Steps {
			end := s.End
			if k+1 < len(s.Steps) {
				end = s.Steps[k+1].At
			}
			x0, x1, y := secs(st.At), secs(end), secs(st.Deadline)
			if x1 < f.lo() || x0 > f.hi() {
				continue
			}
			a := vg.Point{X: trX(f.clampX(x0)), Y: trY(y)}
			if prev != nil {
				c.StrokeLines(line, c.ClipLinesXY([]vg.Point{*prev, a})...)
			}
			for _, piece := range f.cutByLeaderDown(x0, x1) {
				sty := line
				if piece.down {
					sty = down
				}
				c.StrokeLines(sty, c.ClipLinesXY([]vg.Point{{X: trX(f.clampX(piece.a)), Y: trY(y)}, {X: trX(f.clampX(piece.b)), Y: trY(y)}})...)
			}
			prev = &vg.Point{X: trX(f.clampX(x1)), Y: trY(y)}
			if f.inside(x0) {
				c.DrawGlyph(dot, vg.Point{X: trX(x0), Y: trY(y)})
			}
		}
		if prev == nil {
			continue
		}
		if s.Expired && f.inside(secs(s.End)) {
			e := secs(s.End)
			c.DrawGlyph(draw.GlyphStyle{Color: expiryRed, Radius: vg.Points(6), Shape: draw.CrossGlyph{}}, vg.Point{X: trX(e), Y: trY(e)})
		}
		// Name the session at its first visible step where the name does
		// not cover another one.
		lbl := textStyle(vg.Points(9), clr)
		lbl.YAlign = draw.YBottom
		name := "session " + s.ID
		for _, st := range s.Steps {
			if !f.inside(secs(st.At)) {
				continue
			}
			pt := vg.Point{X: trX(secs(st.At)) + vg.Points(2), Y: trY(secs(st.Deadline)) + vg.Points(2)}
			r := vg.Rectangle{Min: pt, Max: vg.Point{X: pt.X + lbl.Width(name), Y: pt.Y + lineHeight(lbl)}}
			if !c.Contains(r.Max) || slices.ContainsFunc(labels, func(o vg.Rectangle) bool { return overlaps(o, r) }) {
				continue
			}
			labels = append(labels, r)
			c.FillText(lbl, pt, name)
			break
		}
	}
}

// drawSilences measures, under the deadline line, the time from a session's
// last touch to the deadline it reached: why it expired (or would have).
func (f *figure) drawSilences(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	st := textStyle(vg.Points(9), expiryRed)
	st.XAlign, st.YAlign = draw.XCenter, draw.YTop
	line := draw.LineStyle{Color: expiryRed, Width: vg.Points(1)}
	for _, e := range f.story {
		if e.Kind != experiments.EventSessionExpired && e.Kind != experiments.EventDeadlinePassed {
			continue
		}
		var last time.Duration = -1
		for _, s := range f.tl.Sessions {
			if s.ID != e.Session {
				continue
			}
			for _, step := range s.Steps {
				if step.Deadline == e.Deadline || step.At <= e.At && s.Expired && e.Kind == experiments.EventSessionExpired {
					last = step.At
				}
			}
		}
		if last < 0 || !f.inside(secs(last)) {
			continue
		}
		x0, x1 := trX(secs(last)), trX(secs(e.At))
		y := trY(secs(e.Deadline)) - vg.Points(9)
		if x1-x0 < vg.Points(20) {
			continue
		}
		c.StrokeLine2(line, x0, y, x1, y)
		for _, x := range []vg.Length{x0, x1} {
			c.StrokeLine2(line, x, y-vg.Points(3), x, y+vg.Points(3))
		}
		label := fmtSecs(secs(e.At-last)) + " without a touch"
		if e.Kind == experiments.EventSessionExpired {
			label += " ≥ T = " + fmtSecs(secs(f.tl.Timeout))
		} else {
			label += ", but no server to expire it"
		}
		if st.Width(label) < x1-x0+vg.Points(40) {
			c.FillText(st, vg.Point{X: (x0 + x1) / 2, Y: y - vg.Points(3)}, label)
		}
	}
}

// piece is a stretch of a deadline level, with or without a leader.
type piece struct {
	a, b float64
	down bool
}

// cutByLeaderDown splits [a, b] where no leader serves.
func (f *figure) cutByLeaderDown(a, b float64) []piece {
	out := []piece{{a, b, false}}
	for _, iv := range f.tl.NoLeader {
		da, db := secs(iv.From), secs(iv.To)
		var next []piece
		for _, p := range out {
			if p.down || db <= p.a || da >= p.b {
				next = append(next, p)
				continue
			}
			if da > p.a {
				next = append(next, piece{p.a, da, false})
			}
			next = append(next, piece{math.Max(p.a, da), math.Min(p.b, db), true})
			if db < p.b {
				next = append(next, piece{db, p.b, false})
			}
		}
		out = next
	}
	return out
}

func (f *figure) drawServerBadges(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	var bs []placed
	hollow := draw.GlyphStyle{Color: expiryRed, Radius: vg.Points(5), Shape: draw.RingGlyph{}}
	for _, e := range f.story {
		if !e.Server() {
			continue
		}
		pt := vg.Point{X: trX(secs(e.At)), Y: trY(secs(e.Deadline))}
		if e.Kind == experiments.EventDeadlinePassed {
			c.DrawGlyph(hollow, pt)
		}
		bs = append(bs, placed{anchor: pt, n: e.n, clr: eventColor(e.Event)})
	}
	drawBadgeRow(c, bs, vg.Points(12))
}

// ---------------------------------------------------------------------------
// Text blocks: the header and the right-hand column.

// block is lines of styled text, laid out top down.
type block struct {
	items []blockItem
	width vg.Length
}

type blockItem struct {
	style  text.Style
	lines  []string
	indent vg.Length
	gap    vg.Length // space above
	thumb  func(c draw.Canvas, r vg.Rectangle)
	badge  int // a numbered badge left of the first line, 0 for none
	bcolor color.Color
}

func (b *block) add(it blockItem, s string) {
	it.lines = nil
	for _, para := range strings.Split(s, "\n") {
		it.lines = append(it.lines, wrap(it.style, para, b.width-it.indent)...)
	}
	b.items = append(b.items, it)
}

func lineHeight(st text.Style) vg.Length { return st.Font.Size * 1.25 }

func (b *block) height() vg.Length {
	var h vg.Length
	for _, it := range b.items {
		h += it.gap + lineHeight(it.style)*vg.Length(len(it.lines))
	}
	return h
}

func (b *block) draw(dc draw.Canvas, x, top vg.Length) {
	y := top
	for _, it := range b.items {
		y -= it.gap
		lh := lineHeight(it.style)
		if it.thumb != nil {
			it.thumb(dc, vg.Rectangle{Min: vg.Point{X: x, Y: y - lh + vg.Points(2)}, Max: vg.Point{X: x + vg.Points(22), Y: y - vg.Points(2)}})
		}
		if it.badge > 0 {
			badge(dc, vg.Point{X: x + vg.Points(8), Y: y - lh/2}, it.badge, it.bcolor)
		}
		for _, line := range it.lines {
			dc.FillText(it.style, vg.Point{X: x + it.indent, Y: y}, line)
			y -= lh
		}
	}
}

func (f *figure) header(width vg.Length) *block {
	b := &block{width: width}
	expired, survived := 0, 0
	for _, o := range f.tl.Outcome {
		switch {
		case o.Probe:
		case o.Expired:
			expired++
		default:
			survived++
		}
	}
	verdict := ""
	switch {
	case expired == 1:
		verdict = "a session expired"
	case expired > 1:
		verdict = strconv.Itoa(expired) + " sessions expired"
	case survived == 1:
		verdict = "the session survived"
	case survived > 1:
		verdict = "no session expired"
	}
	title := f.tl.Title
	if verdict != "" {
		title += ": " + verdict
	}
	b.add(blockItem{style: textStyle(vg.Points(16), color.Black)}, title)
	if f.tl.Description != "" {
		b.add(blockItem{style: textStyle(vg.Points(10), color.Gray{Y: 0x40}), gap: vg.Points(2)}, f.tl.Description)
	}
	for _, o := range f.tl.Outcome {
		var clr color.Color = color.RGBA{R: 0x00, G: 0x6A, B: 0x4E, A: 0xFF}
		switch {
		case o.Probe:
			clr = color.Gray{Y: 0x40}
		case o.Expired:
			clr = expiryRed
		}
		b.add(blockItem{style: textStyle(vg.Points(11), clr), gap: vg.Points(3)}, o.Text)
	}
	params := fmt.Sprintf("T = %s (negotiated), tick k = %s", fmtSecs(secs(f.tl.Timeout)), fmtSecs(secs(f.tl.Tick)))
	if !f.tl.Rounding {
		params += ", no bucket rounding"
	}
	for _, n := range f.notes {
		params += "; " + n
	}
	b.add(blockItem{style: textStyle(vg.Points(9.5), color.Gray{Y: 0x40}), gap: vg.Points(3)}, params)
	return b
}

func (f *figure) column(width vg.Length) *block {
	b := &block{width: width}
	head := textStyle(vg.Points(11), color.Black)
	item := textStyle(vg.Points(9), color.Black)
	b.add(blockItem{style: head}, "What happens")
	for _, e := range f.story {
		b.add(blockItem{style: item, indent: vg.Points(20), gap: vg.Points(3), badge: e.n, bcolor: eventColor(e.Event)},
			fmtSecs(secs(e.At))+"  "+e.Label)
	}
	if len(f.story) == 0 {
		b.add(blockItem{style: item, gap: vg.Points(3)}, "nothing decisive in this window")
	}
	b.add(blockItem{style: head, gap: vg.Points(12)}, "Key")
	key := func(label string, thumb func(c draw.Canvas, r vg.Rectangle)) {
		b.add(blockItem{style: item, indent: vg.Points(28), gap: vg.Points(2), thumb: thumb}, label)
	}
	fill := func(clr color.Color) func(c draw.Canvas, r vg.Rectangle) {
		return func(c draw.Canvas, r vg.Rectangle) {
			c.FillPolygon(clr, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
		}
	}
	serverStates := map[experiments.ServerState]bool{}
	for k := range f.servers {
		for _, sp := range f.tl.Servers[k].States {
			serverStates[sp.State] = serverStates[sp.State] || f.visible(secs(sp.From), secs(sp.To))
		}
	}
	for _, st := range []struct {
		s     experiments.ServerState
		label string
	}{
		{experiments.ServerLeading, "server leading: its tracker holds the sessions"},
		{experiments.ServerFollowing, "server following: forwards touches at the leader's pings"},
		{experiments.ServerEstablishing, "new leader syncing its followers: not serving yet"},
		{experiments.ServerSyncing, "follower syncing with its leader: not serving yet"},
		{experiments.ServerLooking, "server looking (in an election): closes client connects"},
		{experiments.ServerDown, "server process down: connects refused"},
		{experiments.ServerPausedProcess, "server process paused"},
	} {
		if serverStates[st.s] {
			key(st.label, fill(serverColor[st.s]))
		}
	}
	states := map[experiments.LaneState]bool{}
	lost := false
	for _, ci := range f.clients {
		lane := f.tl.Clients[ci]
		for _, sp := range lane.States {
			states[sp.State] = states[sp.State] || f.visible(secs(sp.From), secs(sp.To))
		}
		for _, t := range append(slices.Clone(lane.Lost), lane.LostBack...) {
			lost = lost || f.inside(secs(t))
		}
	}
	for _, st := range []struct {
		s     experiments.LaneState
		label string
	}{
		{experiments.StateConnected, "Connected (SyncConnected)"},
		{experiments.StateDisconnected, "Disconnected: reconnecting, the session is alive"},
		{experiments.StateExpired, "Expired at the server; the client learns it when it reconnects"},
		{experiments.StateConnecting, "connecting (before the first SyncConnected of a session)"},
		{experiments.StateCrashed, "the client process has crashed"},
	} {
		if states[st.s] {
			key(st.label, fill(stateColor[st.s]))
		}
	}
	key("ping sent (up) / reply read (down)", func(c draw.Canvas, r vg.Rectangle) {
		mid := (r.Min.Y + r.Max.Y) / 2
		for i := 0; i < 3; i++ {
			x := r.Min.X + vg.Points(4+7*float64(i))
			c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(1)}, x, mid, x, r.Max.Y)
			c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 0x55}, Width: vg.Points(1)}, x+vg.Points(2), mid, x+vg.Points(2), r.Min.Y)
		}
	})
	if lost {
		key("packet lost in an outage (each TCP try)", func(c draw.Canvas, r vg.Rectangle) {
			c.DrawGlyph(draw.GlyphStyle{Color: expiryRed, Radius: vg.Points(2.6), Shape: draw.CrossGlyph{}}, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2})
		})
	}
	key("connection attempt to a server", func(c draw.Canvas, r vg.Rectangle) {
		mid := (r.Min.Y + r.Max.Y) / 2
		c.FillPolygon(color.Gray{Y: 0x80}, []vg.Point{{X: r.Min.X, Y: mid - 1.5}, {X: r.Max.X, Y: mid - 1.5}, {X: r.Max.X, Y: mid + 1.5}, {X: r.Min.X, Y: mid + 1.5}})
	})
	kinds := map[experiments.FaultKind]string{
		experiments.FaultOutage:         "outage: packets dropped",
		experiments.FaultServerCrash:    "server process down",
		experiments.FaultClientPause:    "client process paused",
		experiments.FaultPartition:      "partition: quorum links cut",
		experiments.FaultServerPause:    "server process paused (its kernel buffers)",
		experiments.FaultRollingRestart: "rolling restart in progress",
	}
	for _, k := range []experiments.FaultKind{experiments.FaultOutage, experiments.FaultServerCrash, experiments.FaultClientPause,
		experiments.FaultPartition, experiments.FaultServerPause, experiments.FaultRollingRestart} {
		if slices.ContainsFunc(f.tl.Faults, func(fs experiments.FaultSpan) bool { return fs.Kind == k }) {
			key(kinds[k], fill(translucent(faultColor[k], 0x90)))
		}
	}
	deadlineKey := "deadline E: each touch moves it to the first tick boundary at least T ahead"
	if len(f.tl.NoLeader) > 0 {
		deadlineKey += " (dashed while no leader serves)"
	}
	key(deadlineKey, func(c draw.Canvas, r vg.Rectangle) {
		mid := (r.Min.Y + r.Max.Y) / 2
		c.StrokeLines(draw.LineStyle{Color: sessionColor(0), Width: vg.Points(2)},
			[]vg.Point{{X: r.Min.X, Y: mid - 3}, {X: r.Min.X + 10, Y: mid - 3}, {X: r.Min.X + 10, Y: mid + 3}, {X: r.Max.X, Y: mid + 3}})
	})
	key("now: when it reaches a session's deadline E, the server expires the session (×)", func(c draw.Canvas, r vg.Rectangle) {
		c.StrokeLines(nowStyle, []vg.Point{r.Min, r.Max})
	})
	if f.tl.Rounding {
		key(fmt.Sprintf("tick-bucket boundaries, every k = %s", fmtSecs(secs(f.tl.Tick))), func(c draw.Canvas, r vg.Rectangle) {
			mid := (r.Min.Y + r.Max.Y) / 2
			c.StrokeLine2(bucketStyle, r.Min.X, mid, r.Max.X, mid)
		})
	}
	return b
}

// fmtSecs formats an instant or a short duration in seconds with at most
// two decimals: "43.66s".
func fmtSecs(x float64) string {
	return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64) + "s"
}

// fmtSpan formats a duration: in seconds below 100 s, else in whole
// minutes and seconds ("29m40s", "30m").
func fmtSpan(x float64) string {
	if x < 100 {
		return fmtSecs(x)
	}
	s := (time.Duration(math.Round(x)) * time.Second).String()
	s = strings.TrimSuffix(s, "m0s")
	if strings.HasSuffix(s, "h0") {
		s = strings.TrimSuffix(s, "0")
	}
	if !strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "h") {
		s += "m"
	}
	return s
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}
