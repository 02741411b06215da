package fit

import (
	"math"
	"slices"
)

// Goodness of fit for episodes. The outage end X is observed exactly for
// some episodes and only within an interval for others, so there is no
// plain empirical distribution to compare with. The comparison is the
// standard one for interval-censored data: each interval observation
// spreads its unit mass over its interval as the fitted law would (the
// E-step of the self-consistency estimator), exact observations keep
// theirs, and the result is compared with the fitted law of X given that
// the client noticed the outage (X > rt), pooled over the episodes' read
// timeouts.

// episodeGrid is where the episode distributions are compared: every
// observed value and interval end, plus an even grid over their range.
func episodeGrid(eps []Episode) []float64 {
	xs := make([]float64, 0, 2*len(eps)+201)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range eps {
		xs = append(xs, e.Lo)
		lo, hi = math.Min(lo, e.Detect), math.Max(hi, e.Lo)
		if !math.IsInf(e.Hi, 1) {
			xs = append(xs, e.Hi)
			hi = math.Max(hi, e.Hi)
		}
	}
	for i := range 201 {
		xs = append(xs, lo+(hi-lo)*float64(i)/200)
	}
	slices.Sort(xs)
	return slices.Compact(xs)
}

// episodeCDFs returns, at each grid point, the imputed empirical CDF of X
// (emp), its left limit (empLeft, which differs at exact observations) and
// the fitted CDF of X given X > rt (model), each pooled over eps.
func episodeCDFs(eps []Episode, l law, grid []float64) (emp, empLeft, model []float64) {
	n := float64(len(eps))
	emp = make([]float64, len(grid))
	empLeft = make([]float64, len(grid))
	model = make([]float64, len(grid))
	type key struct{ rt, p float64 }
	sx := map[key][]float64{} // S_X on the grid, per read timeout
	counts := map[key]int{}
	var keys []key
	for _, e := range eps {
		k := key{e.Detect, e.Period}
		if _, ok := sx[k]; !ok {
			s := make([]float64, len(grid))
			for i, x := range grid {
				s[i] = l.survivalX(x, e.Period)
			}
			sx[k] = s
			keys = append(keys, k)
		}
		counts[k]++
	}
	for _, k := range keys { // first-seen order: deterministic sums
		s, norm := sx[k], l.survivalX(k.rt, k.p)
		w := float64(counts[k]) / n
		for i, x := range grid {
			if x > k.rt && norm > 0 {
				model[i] += w * (1 - s[i]/norm)
			}
		}
	}
	for _, e := range eps {
		if e.Exact() {
			i, _ := slices.BinarySearch(grid, e.Lo)
			for j := i; j < len(grid); j++ {
				emp[j] += 1 / n
			}
			for j := i + 1; j < len(grid); j++ {
				empLeft[j] += 1 / n
			}
			continue
		}
		k := key{e.Detect, e.Period}
		s := sx[k]
		slo, shi := l.survivalX(e.Lo, e.Period), 0.0
		if !math.IsInf(e.Hi, 1) {
			shi = l.survivalX(e.Hi, e.Period)
		}
		mass := slo - shi
		i, _ := slices.BinarySearch(grid, e.Lo)
		for j := i; j < len(grid); j++ {
			var g float64
			switch {
			case grid[j] >= e.Hi:
				g = 1
			case mass > 0:
				g = math.Min(1, math.Max(0, (slo-s[j])/mass))
			case !math.IsInf(e.Hi, 1):
				g = (grid[j] - e.Lo) / (e.Hi - e.Lo)
			}
			emp[j] += g / n
			empLeft[j] += g / n
		}
	}
	return emp, empLeft, model
}

// ksEpisodes is the Kolmogorov–Smirnov distance between the imputed
// empirical distribution of X and the fitted one.
func ksEpisodes(eps []Episode, l law) float64 {
	grid := episodeGrid(eps)
	emp, left, model := episodeCDFs(eps, l, grid)
	var d float64
	for i := range grid {
		d = math.Max(d, math.Max(math.Abs(emp[i]-model[i]), math.Abs(left[i]-model[i])))
	}
	return d
}
