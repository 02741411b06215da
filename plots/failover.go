package plots

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"hbsim/experiments"
)

// NameFailover is the file name of the Failover chart.
const NameFailover = "failover.png"

// Failover draws what server-side faults (leader crashes, partitions,
// pauses, rolling restarts) cost, against the session timeout, in three
// panels stacked in one PNG of Width × 2·Height: the expiry metric (the
// share of the clients an episode hit whose session expired), the time
// without a serving leader per episode, and the reconnect storm (the most
// ConnectRequests one server received within one second). Each panel is
// ExpiryVsTimeout of its metric, with its 95 % band.
func Failover(r experiments.Result, expiry string) ([]byte, error) {
	metrics := []string{expiry, experiments.MetricNoLeader, experiments.MetricReconnectStorm}
	var ps []*plot.Plot
	for _, m := range metrics {
		p, err := ExpiryVsTimeout(r, m)
		if err != nil {
			return nil, err
		}
		p.Title.Text = metricTitle(m)
		p.Title.TextStyle.Font = sans(vg.Points(13))
		ps = append(ps, p)
	}
	ps[0].Title.Text = fmt.Sprintf("%s: server-side faults — %s", resultName(r), metricTitle(expiry))
	if expiry == experiments.MetricExpiryPerOutage {
		ps[0].Title.Text = resultName(r) + ": server-side faults — P(expiry | client hit by an episode)"
		ps[0].Y.Label.Text = "P(session expires)"
	}
	if r.Partial {
		ps[0].Title.Text += " (partial run)"
	}
	h := 2 * Height
	img := vgimg.NewWith(vgimg.UseWH(Width, h), vgimg.UseDPI(vgimg.DefaultDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(ps), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadY: vg.Points(10)}
	cs := plot.Align([][]*plot.Plot{{ps[0]}, {ps[1]}, {ps[2]}}, tiles, dc)
	for i, p := range ps {
		p.Draw(cs[i][0])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: failover: render: %w", err)
	}
	return buf.Bytes(), nil
}
