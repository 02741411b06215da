package plots

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hbsim/experiments"
)

// NameMassExpiry is the file name of the MassExpiry chart.
const NameMassExpiry = "mass-expiry.png"

// hasMassExpiry reports whether some point of r has mass-expiry rows.
func hasMassExpiry(r experiments.Result) bool {
	for _, p := range r.Points {
		if len(p.MassExpiry) > 0 {
			return true
		}
	}
	return false
}

// MassExpiry plots, for every point with experiments.PointResult.MassExpiry
// rows (at most MaxLines of them), P(at least k of the n sessions hit by
// one shared fault episode expire) against k, with 95 % error bars (up to
// the first k that no episode reached, which stands for the rest), and as
// a dashed line of the same colour the binomial law 1 - BinomCDF(k-1; n, p̂)
// that independent sessions would follow (experiments.MassExpiryBinomial).
// The y axis is logarithmic when the values span more than 1.5 decades; the
// binomial line stops where it falls below the axis. Without rows the error
// wraps ErrNoData.
func MassExpiry(r experiments.Result) (*plot.Plot, error) {
	var ss []series
	type ref struct {
		n int
		p float64
	}
	var refs []ref
	maxN := 0
	for _, pt := range r.Points {
		rows := pt.MassExpiry
		if len(rows) == 0 {
			continue
		}
		n, ph := experiments.MassExpiryBinomial(rows)
		var parts []string
		for _, prm := range pt.Params {
			parts = append(parts, prm.Key+"="+prm.Value)
		}
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("point %d", pt.Index))
		}
		label := fmt.Sprintf("%s: %d episodes, per-session p = %.3g", strings.Join(parts, ", "), rows[0].Episodes, ph)
		s := series{label: label, timeoutS: pt.SessionTimeoutS}
		for i, row := range rows {
			est, lo, hi := row.Estimate, row.Lower, row.Upper
			if !finite(est) {
				continue
			}
			if i > 0 && rows[i-1].Count == 0 {
				break // the first row without an episode stands for the rest
			}
			lo, hi = min(lo, est), max(hi, est)
			x := float64(row.K)
			s.data = append(s.data, datum{x: x, xlo: x, xhi: x, est: est, lo: lo, hi: hi, timeoutS: pt.SessionTimeoutS, index: pt.Index})
		}
		if len(s.data) == 0 {
			continue
		}
		ss = append(ss, s)
		refs = append(refs, ref{n: n, p: ph})
		maxN = max(maxN, n)
	}
	if len(ss) == 0 {
		return nil, fmt.Errorf("plots: %s: no shared fault episode: %w", resultName(r), ErrNoData)
	}
	var note string
	if len(ss) > MaxLines {
		keep := make([]int, MaxLines)
		for i := range keep {
			keep[i] = (i*(len(ss)-1) + (MaxLines-1)/2) / (MaxLines - 1)
		}
		var ks []series
		var kr []ref
		for _, i := range keep {
			ks, kr = append(ks, ss[i]), append(kr, refs[i])
		}
		note = fmt.Sprintf("%d of %d points shown", MaxLines, len(ss))
		ss, refs = ks, kr
	}

	n0 := refs[0].n
	title := fmt.Sprintf("%s: simultaneous expiries in one shared episode", resultName(r))
	c := newChart(title, r)
	c.p.X.Label.Text = fmt.Sprintf("k: sessions (of %d hit) expired by the same episode", n0)
	if maxN != n0 {
		c.p.X.Label.Text = "k: sessions expired by the same episode"
	}
	ys := chooseY(ss)
	c.p.Y.Label.Text = ys.label("P(at least k sessions expire)")

	// On a log axis the binomial line stops at the bottom of the axis, or
	// where the decade of values drawn as 0 begins.
	cut := ys.min
	if ys.clamped {
		cut *= 10
	}
	drawn := ys.apply(ss)
	for i, s := range drawn {
		// The binomial reference, drawn under the data.
		var line plotter.XYs
		for k := 1; k <= refs[i].n; k++ {
			v := experiments.PAtLeastKOfN(k, refs[i].n, refs[i].p)
			if math.IsNaN(v) || (ys.log && v < cut) {
				break
			}
			line = append(line, plotter.XY{X: float64(k), Y: v})
		}
		if len(line) > 1 {
			st := draw.LineStyle{Color: colorOf(i), Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
			c.p.Add(&plotter.Line{XYs: line, LineStyle: st})
		}
		yb := yErrorBars(s.data)
		yb.LineStyle.Color = colorOf(i)
		yb.LineStyle.Width = vg.Points(1)
		yb.CapWidth = vg.Points(4)
		pts := make(plotter.XYs, len(s.data))
		for j, d := range s.data {
			pts[j] = plotter.XY{X: d.x, Y: d.est}
		}
		sc := &plotter.Scatter{XYs: pts, GlyphStyle: glyphStyle(i)}
		sc.GlyphStyle.Radius = vg.Points(2.5)
		c.p.Add(yb, sc)
		c.legend.add(s.label, sc)
	}
	c.legend.add("95 % CI", errThumb{})
	st := draw.LineStyle{Color: grey, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	c.legend.add("binomial(n, p): independent sessions", lineThumb{style: st})
	c.legend.add("rows after the first with no episode are left out")
	if note != "" {
		c.legend.add(note)
	}
	ys.configure(c.p)
	c.p.X.Min, c.p.X.Max = 0, float64(maxN)+1
	if !ys.log {
		c.p.Y.Max = 1.05
	}
	return c.finish(), nil
}
