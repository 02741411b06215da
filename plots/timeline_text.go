package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hbsim/experiments"
)

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
