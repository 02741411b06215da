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

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"hbsim/experiments"
)

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
