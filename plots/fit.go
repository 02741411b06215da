package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"hbsim/experiments"
	"hbsim/experiments/fit"
)

// NameFit is the file name of the fit chart.
const NameFit = "fit.png"

// Fit draws a fit (hbsim fit): the survival function of the observations,
// P(> x), as steps, and each fitted law's as a line, the chosen one
// thicker. The y axis is logarithmic, so that the tail — where laws differ
// and where expiries come from — is as visible as the body. For ZooKeeper
// logs the x axis is what the clients observed (the outage end given that
// it was noticed), not the outage length itself. The x axis is logarithmic
// when the data span more than two decades.
func Fit(r *fit.Result, title string) (*plot.Plot, error) {
	emp, fitted, xLabel := r.Survival()
	// The y axis reaches a decade below the smallest observed survival
	// (about 1/n): fitted tails below it are extrapolation.
	minY := math.Inf(1)
	minX, maxX := math.Inf(1), math.Inf(-1)
	for i, y := range emp.Y {
		if emp.X[i] > 0 {
			minX, maxX = min(minX, emp.X[i]), max(maxX, emp.X[i])
			if y > 0 {
				minY = min(minY, y)
			}
		}
	}
	if math.IsInf(minY, 1) || !(maxX > minX) {
		return nil, fmt.Errorf("plots: fit: %w", ErrNoData)
	}
	minY = math.Max(minY/10, 1e-9)
	ch := newChart(title, experiments.Result{})
	p := ch.p
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "P(> x)\nlog scale"
	logX := maxX/minX > 100
	keep := func(c fit.Curve) plotter.XYs {
		var xy plotter.XYs
		for i, y := range c.Y {
			if y >= minY && (!logX || c.X[i] > 0) {
				xy = append(xy, plotter.XY{X: c.X[i], Y: y})
			}
		}
		return xy
	}
	for i, c := range fitted {
		xy := keep(c)
		if len(xy) < 2 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("plots: fit: %w", err)
		}
		l.Color = colorOf(i)
		l.Width = vg.Points(1.5)
		label := c.Name
		if idx := candidateIndex(r, i); idx == r.Chosen {
			l.Width = vg.Points(3)
			label += " (chosen)"
		}
		p.Add(l)
		ch.legend.add(label, lineThumb{l.LineStyle})
	}
	exy := keep(emp)
	if len(exy) == 0 {
		return nil, fmt.Errorf("plots: fit: %w", ErrNoData)
	}
	el, err := plotter.NewLine(exy)
	if err != nil {
		return nil, fmt.Errorf("plots: fit: %w", err)
	}
	el.Color = color.Black
	el.Width = vg.Points(1.2)
	if r.Source != fit.SourceZK {
		el.StepStyle = plotter.PostStep
	}
	p.Add(el)
	ch.legend.add(emp.Name, lineThumb{draw.LineStyle{Color: color.Black, Width: vg.Points(1.2)}})
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Y.Min, p.Y.Max = math.Pow10(decade(minY)), 1
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Min, p.X.Max = math.Pow10(decade(minX)), math.Pow10(decade(maxX)+1)
		p.X.Label.Text += ", log scale"
	} else {
		p.X.Min = math.Max(0, minX-(maxX-minX)*0.02)
	}
	return ch.finish(), nil
}

// candidateIndex maps the i-th fitted curve back to its candidate.
func candidateIndex(r *fit.Result, i int) int {
	n := -1
	for j, e := range r.Candidates {
		if e.Err != "" || e.Law == fit.Empirical {
			continue
		}
		n++
		if n == i {
			return j
		}
	}
	return -1
}
