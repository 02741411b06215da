package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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
