package plots

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

func s(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

// pings are a ping every 3.33 s from from to to, each answered 0.2 ms later.
func pings(from, to float64) (sent, replies []time.Duration) {
	for t := from; t < to; t += 3.333 {
		sent = append(sent, s(t))
		replies = append(replies, s(t+0.0002))
	}
	return sent, replies
}

// steps are the deadlines of touches at the given instants, with T = 10 s
// and 2 s buckets at phase 1.659 s.
func steps(at ...float64) []experiments.DeadlineStep {
	var out []experiments.DeadlineStep
	for _, t := range at {
		e := 1.659 + 2*float64(int((t+10-1.659)/2)+1)
		out = append(out, experiments.DeadlineStep{At: s(t), Deadline: s(e)})
	}
	return out
}

// unplugTimeline is a hand-made cable unplug: an outage, a read timeout,
// the expiry at the server and the client learning it.
func unplugTimeline() experiments.Timeline {
	sent, rep := pings(3, 33)
	sent2, rep2 := pings(48.6, 120)
	return experiments.Timeline{
		Title: "unplug", Description: "an 11 s outage of a client with T = 10 s", Horizon: 2 * time.Minute,
		Timeout: 10 * time.Second, Tick: 2 * time.Second, Rounding: true,
		Clients: []experiments.ClientLane{{
			Name: "client-0",
			States: []experiments.StateSpan{
				{From: s(3), To: s(3.1), State: experiments.StateConnecting},
				{From: s(3.1), To: s(39.75), State: experiments.StateConnected, Session: "0x1"},
				{From: s(39.75), To: s(43.659), State: experiments.StateDisconnected, Session: "0x1"},
				{From: s(43.659), To: s(48.52), State: experiments.StateExpired, Session: "0x1"},
				{From: s(48.52), To: s(120), State: experiments.StateConnected, Session: "0x2"},
			},
			Pings: append(sent, sent2...), Replies: append(rep, rep2...),
			Lost:     []time.Duration{s(36.3), s(36.5), s(36.9), s(37.7), s(39.3)},
			Connects: []experiments.ConnectSpan{{From: s(41.5), To: s(48.52), Server: 0, Result: "rejected"}},
		}},
		Sessions: []experiments.SessionLine{
			{ID: "0x1", Client: 0, Created: s(3), Steps: steps(3, 6.3, 9.6, 13, 16.3, 19.6, 23, 26.3, 29.6, 33), Expired: true, End: s(43.659)},
			{ID: "0x2", Client: 0, Created: s(48.52), Steps: steps(48.52, 51.85, 55.2, 58.5), End: s(120)},
		},
		Buckets: []experiments.BucketEpoch{{From: 0, To: s(120), Phase: s(1.659)}},
		Faults:  []experiments.FaultSpan{{Kind: experiments.FaultOutage, From: s(34.5), To: s(45.5), Track: "client 0 ↔ all servers", Label: "outage 11s"}},
		Events: []experiments.Event{
			{At: s(33), Kind: experiments.EventLastTouch, Client: 0, Session: "0x1", Deadline: s(43.659), Label: "last touch"},
			{At: s(34.5), Kind: experiments.EventFaultStart, Client: -1, Track: "client 0 ↔ all servers", Label: "outage starts"},
			{At: s(39.65), Kind: experiments.EventConnectionLost, Client: 0, Label: "read timeout"},
			{At: s(43.659), Kind: experiments.EventSessionExpired, Client: 0, Session: "0x1", Deadline: s(43.659), Label: "expired"},
			{At: s(45.5), Kind: experiments.EventFaultEnd, Client: -1, Track: "client 0 ↔ all servers", Label: "outage ends"},
			{At: s(48.52), Kind: experiments.EventExpiredSeen, Client: 0, Session: "0x1", Label: "learns Expired"},
		},
		Outcome: []experiments.Outcome{{Client: 0, Session: "0x1", Expired: true, Text: "client-0's session 0x1 EXPIRED at 43.66s."}},
	}
}

// restartTimeline is a hand-made 30-minute server crash: the axis breaks.
func restartTimeline() experiments.Timeline {
	sent, rep := pings(3, 30)
	sent2, rep2 := pings(1834.6, 1920)
	var connects []experiments.ConnectSpan
	for t := 31.9; t < 1830; t += 1.6 {
		connects = append(connects, experiments.ConnectSpan{From: s(t), To: s(t + 0.0002), Result: "refused"})
	}
	connects = append(connects, experiments.ConnectSpan{From: s(1831.2), To: s(1831.27), Result: "connected"})
	st := steps(3, 6.3, 9.6, 13, 16.3, 19.6, 23, 26.3, 29.65)
	st = append(st, experiments.DeadlineStep{At: s(1830), Deadline: s(1840.39), Restored: true},
		experiments.DeadlineStep{At: s(1831.27), Deadline: s(1842.39)})
	return experiments.Timeline{
		Title: "restart", Horizon: 32 * time.Minute, Timeout: 10 * time.Second, Tick: 2 * time.Second, Rounding: true,
		Clients: []experiments.ClientLane{{
			Name: "client-0",
			States: []experiments.StateSpan{
				{From: s(3), To: s(30.1), State: experiments.StateConnected, Session: "0x1"},
				{From: s(30.1), To: s(1831.27), State: experiments.StateDisconnected, Session: "0x1"},
				{From: s(1831.27), To: s(1920), State: experiments.StateConnected, Session: "0x1"},
			},
			Pings: append(sent, sent2...), Replies: append(rep, rep2...), Connects: connects,
		}},
		Sessions: []experiments.SessionLine{{ID: "0x1", Client: 0, Created: s(3), Steps: st, End: s(1920)}},
		Buckets:  []experiments.BucketEpoch{{From: 0, To: s(30), Phase: s(1.659)}, {From: s(1830), To: s(1920), Phase: s(0.387)}},
		Faults:   []experiments.FaultSpan{{Kind: experiments.FaultServerCrash, From: s(30), To: s(1830), Track: "server-0", Label: "server-0 down"}},
		Events: []experiments.Event{
			{At: s(29.65), Kind: experiments.EventLastTouch, Client: 0, Session: "0x1", Deadline: s(39.659), Label: "last touch"},
			{At: s(30), Kind: experiments.EventFaultStart, Client: -1, Track: "server-0", Label: "server-0 crashes"},
			{At: s(30), Kind: experiments.EventConnectionLost, Client: 0, Label: "EOF"},
			{At: s(39.659), Kind: experiments.EventDeadlinePassed, Client: 0, Session: "0x1", Deadline: s(39.659), Label: "deadline passes"},
			{At: s(1830), Kind: experiments.EventServerRestarted, Client: 0, Session: "0x1", Deadline: s(1840.39), Label: "restart"},
			{At: s(1831.27), Kind: experiments.EventReconnected, Client: 0, Session: "0x1", Label: "reconnected"},
		},
		Outcome: []experiments.Outcome{{Client: 0, Session: "0x1", Text: "client-0's session 0x1 SURVIVED."}},
	}
}

// decodeTimeline checks that b is a TimelineWidth-wide PNG at least
// TimelineMinHeight high that is not blank, and writes it to the test's
// artifact directory for a person to look at.
func decodeTimeline(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err, name)
	bounds := img.Bounds()
	assert.Equal(t, 1152, bounds.Dx(), "%s: 12 in at 96 dpi", name)
	assert.GreaterOrEqual(t, bounds.Dy(), 720, "%s: at least 7.5 in", name)
	colours, frac := ink(t, name, img)
	assert.Greater(t, colours, 50, "%s: distinct colours", name)
	assert.Greater(t, frac, 0.05, "%s: share of non-white pixels", name)
	assert.Less(t, frac, 0.7, "%s: share of non-white pixels", name)
	require.NoError(t, os.WriteFile(filepath.Join(t.ArtifactDir(), name), b, 0o644))
	return img
}

func TestTimelinePNG(t *testing.T) {
	tests := []struct {
		name string
		tl   experiments.Timeline
		opts TimelineOptions
	}{
		{"unplug.png", unplugTimeline(), TimelineOptions{}},
		{"restart-broken-axis.png", restartTimeline(), TimelineOptions{}},
		{"restart-from-to.png", restartTimeline(), TimelineOptions{From: 20 * time.Second, To: 60 * time.Second}},
		{"unplug-whole-run.png", unplugTimeline(), TimelineOptions{From: 0, To: 2 * time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Timeline(tc.tl, tc.opts)
			require.NoError(t, err)
			decodeTimeline(t, tc.name, b)
			again, err := Timeline(tc.tl, tc.opts)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(b, again), "the same timeline gives the same bytes")
		})
	}
}

func TestTimelineManyClients(t *testing.T) {
	tl := unplugTimeline()
	for i := 1; i < MaxTimelineClients+3; i++ {
		c := tl.Clients[0]
		c.Name = "client-" + string(rune('0'+i))
		tl.Clients = append(tl.Clients, c)
	}
	b, err := Timeline(tl, TimelineOptions{})
	require.NoError(t, err)
	img := decodeTimeline(t, "many-clients.png", b)
	assert.Greater(t, img.Bounds().Dy(), 720, "the figure grows with the lanes")
}

func TestTimelineErrors(t *testing.T) {
	_, err := Timeline(experiments.Timeline{Title: "empty", Horizon: time.Minute}, TimelineOptions{})
	assert.ErrorIs(t, err, ErrNoData)
	_, err = Timeline(unplugTimeline(), TimelineOptions{From: 3 * time.Minute, To: 4 * time.Minute})
	assert.ErrorContains(t, err, "not within the run")
}

func TestTimelineWindow(t *testing.T) {
	t.Parallel()
	segs, notes := window(unplugTimeline(), TimelineOptions{})
	require.Len(t, segs, 1)
	assert.InDelta(t, 28, segs[0].a, 1e-9, "T/2 before the last touch")
	assert.InDelta(t, 53.52, segs[0].b, 1e-9, "T/2 after the client learns Expired")
	assert.Empty(t, notes)

	segs, _ = window(restartTimeline(), TimelineOptions{})
	require.Len(t, segs, 2, "the 30-minute crash breaks the axis")
	assert.InDelta(t, 24.65, segs[0].a, 1e-9)
	assert.InDelta(t, 44.659, segs[0].b, 1e-9)
	assert.InDelta(t, 1825, segs[1].a, 1e-9)
	assert.InDelta(t, 1836.27, segs[1].b, 1e-9)

	segs, _ = window(restartTimeline(), TimelineOptions{From: 20 * time.Second, To: time.Hour})
	assert.Equal(t, []seg{{20, 1920}}, segs, "an explicit window, clipped to the run")

	// Episodes without consequences do not widen the window; with nothing
	// decisive at all, the first episode is shown.
	quiet := unplugTimeline()
	quiet.Events = nil
	for i := range 50 {
		at := s(7 + 20*float64(i))
		quiet.Faults = append(quiet.Faults, experiments.FaultSpan{Kind: experiments.FaultClientPause, From: at, To: at + s(0.05), Track: "client-0 pauses"})
	}
	segs, _ = window(quiet, TimelineOptions{})
	require.Len(t, segs, 1)
	assert.InDelta(t, 34.5-5, segs[0].a, 1e-9, "around the outage, not the GC pauses")

	// More than three stretches: the first three, and a note.
	many := unplugTimeline()
	many.Horizon = time.Hour
	for i := range 5 {
		many.Events = append(many.Events, experiments.Event{At: s(600 + 600*float64(i)), Kind: experiments.EventConnectionLost, Client: 0})
	}
	segs, notes = window(many, TimelineOptions{})
	assert.Len(t, segs, maxSegments)
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], "first 3 of 6")
}

func TestBrokenScale(t *testing.T) {
	t.Parallel()
	sc := brokenScale{segs: []seg{{0, 10}, {100, 110}}}
	assert.InDelta(t, 0, sc.Normalize(0, 110, 0), 1e-12)
	assert.InDelta(t, 1, sc.Normalize(0, 110, 110), 1e-12)
	half := (1 - gapFrac) / 2
	assert.InDelta(t, half, sc.Normalize(0, 110, 10), 1e-12, "the first segment takes half of what the gap leaves")
	assert.InDelta(t, half+gapFrac, sc.Normalize(0, 110, 100), 1e-12)
	assert.InDelta(t, half+gapFrac/2, sc.Normalize(0, 110, 55), 1e-12, "the gap is linear too")
	prev := -1.0
	for x := -5.0; x <= 115; x += 0.5 {
		v := sc.Normalize(0, 110, x)
		assert.Greater(t, v, prev, "monotonic at %v", x)
		prev = v
	}
	assert.Equal(t, []seg{{10, 100}}, sc.gaps())

	ticks := brokenTicks{segs: sc.segs, count: 10}.Ticks(0, 110)
	for _, tk := range ticks {
		assert.True(t, tk.Value >= 0 && tk.Value <= 10 || tk.Value >= 100 && tk.Value <= 110, "tick %v in a segment", tk.Value)
	}
}

func TestFmtSpan(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{1.609: "1.61s", 99: "99s", 1780: "29m40s", 1800: "30m", 3600: "1h", 3660: "1h1m", 3700: "1h1m40s"} {
		assert.Equal(t, want, fmtSpan(in), "%v", in)
	}
}
