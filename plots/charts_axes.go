package plots

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
)

// yScale is the chosen y axis.
type yScale struct {
	log     bool
	floor   float64 // log only: where values below cut are drawn
	cut     float64 // log only: values below it (and all <= 0) go to floor
	min     float64 // log only: axis range, whole decades
	max     float64
	clamped bool // some value was drawn at the floor
}

// chooseY picks a log axis when the positive estimates span more than 1.5
// decades. The axis then runs over whole decades. Values <= 0, and lower
// bounds more than three decades below the smallest positive estimate,
// cannot be drawn as they are: they get one more decade at the bottom,
// whose lowest tick (the floor, at most a tenth of every other value)
// stands for 0.
func chooseY(ss []series) yScale {
	minEst, maxEst := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, d := range s.data {
			if d.est > 0 {
				minEst, maxEst = min(minEst, d.est), max(maxEst, d.est)
			}
		}
	}
	if !(maxEst > minEst) || math.Log10(maxEst/minEst) <= 1.5 {
		return yScale{}
	}
	lowest := minEst / 1000
	minAll, maxAll := minEst, maxEst
	clamped := false
	for _, s := range ss {
		for _, d := range s.data {
			for _, v := range []float64{d.est, d.lo, d.hi} {
				if v < lowest || v <= 0 {
					clamped = true
					continue
				}
				minAll, maxAll = min(minAll, v), max(maxAll, v)
			}
		}
	}
	ys := yScale{log: true, clamped: clamped, cut: lowest, min: math.Pow10(decade(minAll)), max: math.Pow10(decade(maxAll))}
	if ys.max < maxAll {
		ys.max *= 10
	}
	if ys.clamped {
		ys.min /= 10
	}
	ys.floor = ys.min
	return ys
}

// decade is floor(log10(v)) for v > 0, exact at powers of ten.
func decade(v float64) int {
	e := int(math.Floor(math.Log10(v)))
	if math.Pow10(e+1) <= v {
		e++
	}
	if math.Pow10(e) > v {
		e--
	}
	return e
}

// label is the y axis label: base, and on a second line the scale notes.
func (ys yScale) label(base string) string {
	switch {
	case ys.log && ys.clamped:
		return base + "\nlog scale; 0 shown at floor"
	case ys.log:
		return base + "\nlog scale"
	}
	return base
}

// apply returns a copy of ss with the values a log axis cannot show raised
// to the floor.
func (ys yScale) apply(ss []series) []series {
	out := make([]series, len(ss))
	for i, s := range ss {
		out[i] = s
		out[i].data = slices.Clone(s.data)
		if !ys.log {
			continue
		}
		for j := range out[i].data {
			d := &out[i].data[j]
			d.est, d.lo, d.hi = ys.clamp(d.est), ys.clamp(d.lo), ys.clamp(d.hi)
		}
	}
	return out
}

func (ys yScale) clamp(v float64) float64 {
	if v <= 0 || v < ys.cut {
		return ys.floor
	}
	return v
}

// configure sets the y axis of p, after the data are added.
func (ys yScale) configure(p *plot.Plot) {
	if !ys.log {
		p.Y.Min = min(p.Y.Min, 0) // a linear axis starts at zero
		if !(p.Y.Max > p.Y.Min) {
			p.Y.Max = p.Y.Min + 1 // all zero
		}
		p.Y.Tick.Marker = niceTicks{}
		return
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{zeroAt: ys.floor, zero: ys.clamped}
	p.Y.Min, p.Y.Max = ys.min, ys.max
}

// logTicks labels every decade and marks 2..9 between them. When zero is
// set, the decade starting at zeroAt holds only values drawn at the floor:
// its tick reads "0" and it gets no minor ticks.
type logTicks struct {
	zeroAt float64
	zero   bool
}

var _ plot.Ticker = logTicks{}

func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := decade(lo); e <= decade(hi); e++ {
		v := math.Pow10(e)
		zeroDecade := t.zero && v == t.zeroAt
		lbl := formatNum(v)
		if zeroDecade {
			lbl = "0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: lbl})
		if zeroDecade {
			continue
		}
		for i := 2; i < 10; i++ {
			if m := v * float64(i); m <= hi {
				ticks = append(ticks, plot.Tick{Value: m})
			}
		}
	}
	return ticks
}

// niceTicks labels about eight steps of 1, 2 or 5 times a power of ten,
// with a minor tick halfway.
type niceTicks struct{}

var _ plot.Ticker = niceTicks{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 8
	e := decade(raw)
	mag := math.Pow10(e)
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -decade(step))
	var ticks []plot.Tick
	for k := math.Ceil(lo / step * 2); k/2*step <= hi+step*1e-9; k++ {
		v := k / 2 * step
		if math.Mod(k, 2) != 0 {
			ticks = append(ticks, plot.Tick{Value: v})
			continue
		}
		lbl := strconv.FormatFloat(v, 'f', prec, 64)
		if lbl == "-0" {
			lbl = "0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: lbl})
	}
	return ticks
}
