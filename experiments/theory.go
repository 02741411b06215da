package experiments

import (
	"math"
	"time"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"

	"hbsim/model"
)

// This file holds the analytic oracles of
// shared/reference/closed-forms.md §1–§3 as plain functions. All durations
// are float64 seconds; rates are per second; probabilities are in [0, 1].
// Notation: T is the negotiated session timeout, R the latency from the end
// of an outage until the server touches the session again, p the client's
// ping period on an idle connection, k the server's tickTime, D the outage
// length and A ~ U[0, p) the time from the last server touch to the outage
// start. Like the functions of package math, they return NaN (rather than an
// error) for parameters outside their domain, as documented on each.

// Quadrature used by ExpiryGeneral and ExpiryBucketedGeneral: every smooth
// piece of the integrand is split into theoryPanels equal panels, each
// integrated with a theoryNodes-point Gauss–Legendre rule (quad.Fixed).
const (
	theoryPanels = 64
	theoryNodes  = 16
)

// PingPeriod returns the ping period p, in seconds, that a ZooKeeper client
// uses on an idle connection with negotiated session timeout T (seconds).
// It reproduces the client's int millisecond arithmetic: T is rounded to
// whole milliseconds, then rt = T_ms*2/3 and p = rt/2 with integer division,
// i.e. p = floor(floor(2·T_ms/3)/2) ms. PingPeriod(10) = 3.333.
// It returns NaN for T < 0 or T = NaN.
func PingPeriod(T float64) float64 {
	if !(T >= 0) || math.IsInf(T, 0) {
		return math.NaN()
	}
	return model.PingPeriod(time.Duration(math.Round(T*1000)) * time.Millisecond).Seconds()
}

// ExpiryFixedD returns P(expire | D) for an outage of fixed length D
// (seconds) in the idealized model of §1: the session expires iff
// A + D + R > T with A ~ U[0, p). All arguments are seconds:
//
//	0                        if D <= T-R-p
//	(D - (T-R-p)) / p        if T-R-p < D <= T-R
//	1                        if D > T-R
//
// It returns NaN unless p > 0.
func ExpiryFixedD(T, R, p, D float64) float64 {
	if !(p > 0) {
		return math.NaN()
	}
	lo := T - R - p // never expires at or below this outage length
	switch {
	case D <= lo:
		return 0
	case D <= T-R:
		return (D - lo) / p
	default:
		return 1
	}
}

// ExpiryGeneral returns P(expire) in the idealized model of §1 for an outage
// length D with survival function survival(y) = P(D > y), y in seconds:
//
//	(1/p) ∫_{T-R-p}^{T-R} S(y) dy,   S(y) = 1 for y < 0 (survival is not called there)
//
// T, R and p are seconds. The integral is computed with composite
// Gauss–Legendre quadrature (gonum quad.Fixed, 64 panels of 16 nodes over
// [max(T-R-p, 0), T-R]); it is accurate to about machine precision for a
// smooth S, but only to about (panel width)/p times the jump for an S with
// jumps (a law with atoms): use ExpiryFixedD for a fixed D.
// It returns NaN unless p > 0.
func ExpiryGeneral(T, R, p float64, survival func(float64) float64) float64 {
	if !(p > 0) {
		return math.NaN()
	}
	a, b := T-R-p, T-R
	return theoryIntegrate(survival, a, b, nil) / p
}

// ExpiryExponential returns P(expire) in the idealized model of §1 for an
// exponentially distributed outage length D with mean m (seconds); T, R and
// p are seconds too:
//
//	(m/p)·exp(-(T-R)/m)·(exp(p/m) - 1)           if T-R >= p
//	(p-(T-R))/p + (m/p)·(1 - exp(-(T-R)/m))      if 0 <= T-R < p
//	1                                            if T-R < 0
//
// (evaluated in an overflow-free form with math.Expm1). m = 0 means D = 0,
// i.e. ExpiryFixedD(T, R, p, 0). It returns NaN unless p > 0 and m >= 0.
func ExpiryExponential(T, R, p, m float64) float64 {
	if !(p > 0) || !(m >= 0) {
		return math.NaN()
	}
	if m == 0 {
		return ExpiryFixedD(T, R, p, 0)
	}
	x := T - R
	switch {
	case x >= p:
		// (m/p)·(exp(-(x-p)/m) - exp(-x/m)), both exponents <= 0.
		return (m / p) * math.Exp(-(x-p)/m) * -math.Expm1(-p/m)
	case x >= 0:
		return (p-x)/p + (m/p)*-math.Expm1(-x/m)
	default:
		return 1
	}
}

// ExpiryBucketedFixedD returns P(expire | D) for an outage of fixed length D
// with ZooKeeper's bucket rounding (§2): the session expires iff
// A + D + R > T + G, i.e. with probability P(A - G > T - R - D), where
// A ~ U[0, p) and G ~ U(0, k] are independent. All arguments are seconds.
//
// The law of A - G is a trapezoid, so the probability is computed exactly
// from its piecewise-quadratic CDF. It is 0 iff D + R + p <= T and 1 when
// D + R >= T + k (at equality the event fails only on a null set); k = 0
// gives ExpiryFixedD. It returns NaN unless p > 0 and k >= 0.
func ExpiryBucketedFixedD(T, R, p, k, D float64) float64 {
	if !(p > 0) || !(k >= 0) {
		return math.NaN()
	}
	if k == 0 {
		return ExpiryFixedD(T, R, p, D)
	}
	// A - G > T-R-D  <=>  A + (k-G) > k + T-R-D, and A + (k-G) is the sum of
	// U[0,p) and U[0,k); by the symmetry of that sum about (p+k)/2,
	// P(A + (k-G) > p+k-y) = P(A + (k-G) < y) with y = D+R+p-T.
	return trapezoidCDF(D+R+p-T, p, k)
}

// trapezoidCDF returns P(U + V <= y) for independent U ~ U[0, p] and
// V ~ U[0, k] (p > 0, k > 0), computed branch by branch so that small
// probabilities in either tail keep their relative precision.
func trapezoidCDF(y, p, k float64) float64 {
	a, b := math.Min(p, k), math.Max(p, k)
	switch {
	case y <= 0:
		return 0
	case y >= p+k:
		return 1
	case y <= a:
		return y * y / (2 * p * k)
	case y <= b:
		return (y - a/2) / b
	default:
		r := p + k - y
		return 1 - r*r/(2*p*k)
	}
}

// trapezoidPDF returns the density at y of U + V for independent
// U ~ U[0, p] and V ~ U[0, k] with p > 0, k > 0.
func trapezoidPDF(y, p, k float64) float64 {
	a, b := math.Min(p, k), math.Max(p, k)
	switch {
	case y <= 0 || y >= p+k:
		return 0
	case y <= a:
		return y / (p * k)
	case y <= b:
		return 1 / b
	default:
		return (p + k - y) / (p * k)
	}
}

// ExpiryBucketedGeneral returns P(expire) with bucket rounding (§2) for an
// outage length D with survival function survival(y) = P(D > y), y in
// seconds (S(y) = 1 for y < 0; survival is not called there). T, R, p and k
// are seconds. It averages ExpiryBucketedFixedD over the law of D, written
// after integrating by parts as
//
//	∫_{T-R-p}^{T-R+k} f(y + R + p - T) S(y) dy
//
// where f is the trapezoid density of A + (k - G). The integral is computed
// with composite Gauss–Legendre quadrature (gonum quad.Fixed) on each piece
// where f is linear, with the accuracy caveats of ExpiryGeneral. k = 0 gives
// ExpiryGeneral. It returns NaN unless p > 0 and k >= 0.
func ExpiryBucketedGeneral(T, R, p, k float64, survival func(float64) float64) float64 {
	if !(p > 0) || !(k >= 0) {
		return math.NaN()
	}
	if k == 0 {
		return ExpiryGeneral(T, R, p, survival)
	}
	shift := R + p - T // y = D + shift is the trapezoid's argument
	a, b := math.Min(p, k), math.Max(p, k)
	lo, hi := -shift, p+k-shift
	breaks := []float64{a - shift, b - shift} // kinks of the density
	weight := func(d float64) float64 { return trapezoidPDF(d+shift, p, k) }
	return theoryIntegrate(survival, lo, hi, &theoryWeight{f: weight, breaks: breaks})
}

// theoryWeight is a piecewise-smooth weight function with known kinks.
type theoryWeight struct {
	f      func(float64) float64
	breaks []float64 // sorted points where f is not smooth
}

// theoryIntegrate returns ∫_lo^hi w(y)·S(y) dy with S(y) = 1 for y < 0 and
// survival(y) otherwise, and w = 1 when weight is nil. The interval is split
// at 0 and at the kinks of w, and each piece is integrated with composite
// Gauss–Legendre quadrature.
func theoryIntegrate(survival func(float64) float64, lo, hi float64, weight *theoryWeight) float64 {
	if !(hi > lo) {
		return 0
	}
	s := func(y float64) float64 {
		if y < 0 {
			return 1
		}
		return survival(y)
	}
	f := s
	cuts := []float64{lo}
	if weight != nil {
		f = func(y float64) float64 { return weight.f(y) * s(y) }
		for _, c := range weight.breaks {
			if c > lo && c < hi {
				cuts = append(cuts, c)
			}
		}
	}
	cuts = append(cuts, hi)
	var sum float64
	for i := 0; i+1 < len(cuts); i++ {
		x0, x1 := cuts[i], cuts[i+1]
		if x0 < 0 && x1 > 0 {
			sum += theoryComposite(f, x0, 0) + theoryComposite(f, 0, x1)
		} else {
			sum += theoryComposite(f, x0, x1)
		}
	}
	return sum
}

// theoryComposite integrates f over [x0, x1] with theoryPanels panels of a
// theoryNodes-point Gauss–Legendre rule.
func theoryComposite(f func(float64) float64, x0, x1 float64) float64 {
	if !(x1 > x0) {
		return 0
	}
	h := (x1 - x0) / theoryPanels
	var sum float64
	for i := range theoryPanels {
		a := x0 + float64(i)*h
		b := x0 + float64(i+1)*h
		if i == theoryPanels-1 {
			b = x1
		}
		sum += quad.Fixed(f, a, b, theoryNodes, quad.Legendre{}, 0)
	}
	return sum
}

// PAtLeastOneExpiry returns the probability of at least one expiry within a
// horizon of H seconds when outages arrive as a Poisson process of rate
// lambda (per second) and each expires the session with probability P (§3):
// 1 - exp(-λ·P·H). It returns NaN for negative arguments or P > 1.
func PAtLeastOneExpiry(lambda, P, H float64) float64 {
	if !(lambda >= 0) || !(P >= 0 && P <= 1) || !(H >= 0) {
		return math.NaN()
	}
	return -math.Expm1(-lambda * P * H)
}

// MeanTimeBetweenExpiries returns the mean time, in seconds, between expiries
// of one session when outages arrive at rate lambda (per second) and each
// expires it with probability P (§3): 1/(λ·P), +Inf when λ·P = 0.
// It returns NaN for negative arguments or P > 1.
func MeanTimeBetweenExpiries(lambda, P float64) float64 {
	if !(lambda >= 0) || !(P >= 0 && P <= 1) {
		return math.NaN()
	}
	return 1 / (lambda * P)
}

// PAtLeastKOfN returns the probability that at least k of n sessions hit by
// the same outage expire, each independently with probability p (§3): the
// binomial tail P(X >= k), X ~ Binomial(n, p). It is computed from the
// identity P(X >= k) = I_p(k, n-k+1) with gonum's regularized incomplete
// beta function (the one behind distuv.Binomial.CDF), which keeps small tails
// precise where 1 - CDF would cancel. k <= 0 gives 1 and k > n gives 0;
// PAtLeastKOfN(1, n, p) = 1 - (1-p)^n. It returns NaN for n < 0 or p
// outside [0, 1].
func PAtLeastKOfN(k, n int, p float64) float64 {
	if n < 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	}
	return mathext.RegIncBeta(float64(k), float64(n-k+1), p)
}

// MassExpiryMean returns the expected number of expiries, a count, among n
// sessions hit by the same outage when each expires with probability p (§3):
// n·p. It returns NaN for n < 0 or p outside [0, 1].
func MassExpiryMean(n int, p float64) float64 {
	if n < 0 || !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	return float64(n) * p
}
