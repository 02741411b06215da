package plots

import (
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hbsim/experiments"
)

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
