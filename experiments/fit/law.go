package fit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Kind names a candidate law. The parametric ones have the parameters, and
// the names, of the laws an experiment file accepts for a duration
// (exponential mean; lognormal median and sigma; Weibull and Pareto scale
// and shape), all durations in seconds.
type Kind uint8

// The candidate laws.
const (
	Exponential Kind = iota
	LogNormal
	Weibull
	Pareto
	Empirical // the observed durations themselves (complete data only)
)

var kindNames = [...]string{"exponential", "lognormal", "weibull", "pareto", "empirical"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Parametric are the parametric candidates, in the order they are listed.
var Parametric = []Kind{Exponential, LogNormal, Weibull, Pareto}

// paramNames are each parametric law's parameters, as an experiment file
// names them; the first is a duration (seconds), the second a number.
var paramNames = [...][]string{
	Exponential: {"mean"},
	LogNormal:   {"median", "sigma"},
	Weibull:     {"scale", "shape"},
	Pareto:      {"scale", "shape"},
}

// law is a parametric law with its natural parameters (a: mean, median or
// scale in seconds; b: sigma or shape). Its methods are the pieces the
// likelihoods need, each computed where it is accurate: a survival that is
// tiny is never found as 1 - (something close to 1).
type law struct {
	kind Kind
	a, b float64
}

// valid reports finite, positive parameters.
func (l law) valid() bool {
	ok := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	return ok(l.a) && (l.kind == Exponential || ok(l.b))
}

// survival is P(D > x).
func (l law) survival(x float64) float64 {
	if x <= 0 {
		return 1
	}
	switch l.kind {
	case Exponential:
		return math.Exp(-x / l.a)
	case LogNormal:
		return 0.5 * math.Erfc((math.Log(x/l.a)/l.b)/math.Sqrt2)
	case Weibull:
		return math.Exp(-math.Pow(x/l.a, l.b))
	case Pareto:
		if x <= l.a {
			return 1
		}
		return math.Exp(-l.b * math.Log(x/l.a))
	}
	panic("fit: survival of " + l.kind.String())
}

// cdf is P(D <= x).
func (l law) cdf(x float64) float64 {
	if x <= 0 {
		return 0
	}
	switch l.kind {
	case Exponential:
		return -math.Expm1(-x / l.a)
	case LogNormal:
		return 0.5 * math.Erfc(-(math.Log(x/l.a)/l.b)/math.Sqrt2)
	case Weibull:
		return -math.Expm1(-math.Pow(x/l.a, l.b))
	case Pareto:
		if x <= l.a {
			return 0
		}
		return -math.Expm1(-l.b * math.Log(x/l.a))
	}
	panic("fit: cdf of " + l.kind.String())
}

// logPDF is the log density at x > 0 (-Inf outside the support).
func (l law) logPDF(x float64) float64 {
	if x <= 0 {
		return math.Inf(-1)
	}
	switch l.kind {
	case Exponential:
		return -math.Log(l.a) - x/l.a
	case LogNormal:
		z := math.Log(x/l.a) / l.b
		return -0.5*z*z - math.Log(x*l.b) - 0.5*math.Log(2*math.Pi)
	case Weibull:
		z := x / l.a
		return math.Log(l.b/l.a) + (l.b-1)*math.Log(z) - math.Pow(z, l.b)
	case Pareto:
		if x < l.a {
			return math.Inf(-1)
		}
		return math.Log(l.b) + l.b*math.Log(l.a) - (l.b+1)*math.Log(x)
	}
	panic("fit: density of " + l.kind.String())
}

// quantile is the x with cdf(x) = q, for q in (0, 1).
func (l law) quantile(q float64) float64 {
	switch l.kind {
	case Exponential:
		return -l.a * math.Log1p(-q)
	case LogNormal:
		return l.a * math.Exp(l.b*math.Sqrt2*math.Erfinv(2*q-1))
	case Weibull:
		return l.a * math.Pow(-math.Log1p(-q), 1/l.b)
	case Pareto:
		return l.a * math.Exp(-math.Log1p(-q)/l.b)
	}
	panic("fit: quantile of " + l.kind.String())
}

// partial is ∫_0^x S(y) dy = E[min(D, x)] for x >= 0.
func (l law) partial(x float64) float64 {
	if x <= 0 {
		return 0
	}
	switch l.kind {
	case Exponential:
		return l.a * -math.Expm1(-x/l.a)
	case LogNormal:
		mu := math.Log(l.a)
		s := l.b
		mean := math.Exp(mu + s*s/2)
		z := (math.Log(x) - mu) / s
		return mean*normalCDF(z-s) + x*normalCDF(-z)
	case Weibull:
		z := math.Pow(x/l.a, l.b)
		a := 1 + 1/l.b
		return l.a*math.Gamma(a)*mathext.GammaIncReg(a, z) + x*math.Exp(-z)
	case Pareto:
		if x <= l.a {
			return x
		}
		if math.Abs(l.b-1) < 1e-9 {
			return l.a + l.a*math.Log(x/l.a)
		}
		return l.a + l.a*(math.Pow(x/l.a, 1-l.b)-1)/(1-l.b)
	}
	panic("fit: partial mean of " + l.kind.String())
}

// tail is ∫_x^∞ S(y) dy = E[(D - x)+] for x >= 0, +Inf when the mean is
// infinite (Pareto with shape <= 1).
func (l law) tail(x float64) float64 {
	x = math.Max(x, 0)
	switch l.kind {
	case Exponential:
		return l.a * math.Exp(-x/l.a)
	case LogNormal:
		mu := math.Log(l.a)
		s := l.b
		if x == 0 {
			return math.Exp(mu + s*s/2)
		}
		z := (math.Log(x) - mu) / s
		return math.Exp(mu+s*s/2)*normalCDF(s-z) - x*normalCDF(-z)
	case Weibull:
		z := math.Pow(x/l.a, l.b)
		a := 1 + 1/l.b
		return l.a*math.Gamma(a)*mathext.GammaIncRegComp(a, z) - x*math.Exp(-z)
	case Pareto:
		if l.b <= 1 {
			return math.Inf(1)
		}
		if x <= l.a {
			return l.a*l.b/(l.b-1) - x
		}
		return l.a * math.Pow(x/l.a, 1-l.b) / (l.b - 1)
	}
	panic("fit: tail mean of " + l.kind.String())
}

// integral is ∫_lo^hi S(y) dy for lo <= hi, with S(y) = 1 for y < 0. In the
// upper tail it subtracts two small tail means instead of two partial means
// close to E[D], so it keeps its relative precision where S is tiny.
func (l law) integral(lo, hi float64) float64 {
	if hi <= lo {
		return 0
	}
	var neg float64
	if lo < 0 {
		neg = math.Min(hi, 0) - lo
		lo = 0
		if hi <= 0 {
			return neg
		}
	}
	if l.survival(lo) < 0.5 {
		if t := l.tail(lo); !math.IsInf(t, 0) {
			return neg + math.Max(0, t-l.tail(hi))
		}
	}
	return neg + math.Max(0, l.partial(hi)-l.partial(lo))
}

// normalCDF is Φ(z).
func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
