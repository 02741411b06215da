package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"hbsim/clock"
)

// LawKind names a probability law for durations.
type LawKind uint8

// The duration laws. Parameters are in seconds.
const (
	LawFixed       LawKind = iota // Value
	LawUniform                    // Min, Max
	LawExponential                // Mean
	LawLogNormal                  // Median, Sigma (of the underlying normal)
	LawWeibull                    // Scale, Shape
	LawPareto                     // Scale (xm), Shape (alpha)
	LawEmpirical                  // Samples, drawn uniformly with replacement
)

var lawNames = [...]string{"fixed", "uniform", "exponential", "lognormal", "weibull", "pareto", "empirical"}

func (k LawKind) String() string {
	if int(k) < len(lawNames) {
		return lawNames[k]
	}
	return fmt.Sprintf("LawKind(%d)", k)
}

// ParseLawKind maps a law name to its kind.
func ParseLawKind(s string) (LawKind, bool) {
	i := slices.Index(lawNames[:], s)
	return LawKind(i), i >= 0
}

// Law describes a distribution of non-negative durations, in seconds. It is
// plain data; Sampler binds it to a random source.
type Law struct {
	Kind    LawKind
	Value   float64   // fixed
	Min     float64   // uniform
	Max     float64   // uniform
	Mean    float64   // exponential
	Median  float64   // lognormal
	Sigma   float64   // lognormal
	Scale   float64   // weibull (lambda), pareto (xm)
	Shape   float64   // weibull (k), pareto (alpha)
	Samples []float64 // empirical
}

// MaxDuration is the longest duration a Config may hold (its horizon and
// every setting) and the longest a law's draw lasts: a draw beyond it lasts
// MaxDuration, which is past the horizon, so it lasts to the horizon. Sums
// of a few such durations stay far inside clock.Time's range (about 292
// years), so no event time can overflow.
const MaxDuration = 10000 * 24 * time.Hour

// The largest finite values of math/rand/v2's generators, whose ziggurat
// tails draw -log(U) with U >= 2^-53: ExpFloat64 returns at most
// re + 53 ln 2, and NormFloat64 at most rn + sqrt(2 · 53 ln 2) in absolute
// value (its tail loop accepts x only when x² <= -2 log(U')). They bound
// what a law's parameters can make a draw reach (LargestDraw).
var (
	maxExpDraw  = 7.69711747013104972 + 53*math.Ln2
	maxNormDraw = 3.442619855899 + math.Sqrt(2*53*math.Ln2)
	maxLogFloat = math.Log(math.MaxFloat64)
)

// Fixed is the law that always gives d.
func Fixed(d time.Duration) Law { return Law{Kind: LawFixed, Value: d.Seconds()} }

// Validate reports a bad parameter set.
func (l Law) Validate() error {
	pos := func(name string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%s law: %s must be a positive finite number, got %v", l.Kind, name, v)
		}
		return nil
	}
	switch l.Kind {
	case LawFixed:
		if !(l.Value >= 0) || math.IsInf(l.Value, 0) {
			return fmt.Errorf("fixed law: value must be a non-negative finite number, got %v", l.Value)
		}
	case LawUniform:
		if !(l.Min >= 0) || !(l.Max > l.Min) || math.IsInf(l.Max, 0) {
			return fmt.Errorf("uniform law: need 0 <= min < max, got min=%v max=%v", l.Min, l.Max)
		}
	case LawExponential:
		if err := pos("mean", l.Mean); err != nil {
			return err
		}
	case LawLogNormal:
		if err := errors.Join(pos("median", l.Median), pos("sigma", l.Sigma)); err != nil {
			return err
		}
	case LawWeibull, LawPareto:
		if err := errors.Join(pos("scale", l.Scale), pos("shape", l.Shape)); err != nil {
			return err
		}
	case LawEmpirical:
		if len(l.Samples) == 0 {
			return errors.New("empirical law: no samples")
		}
		for i, s := range l.Samples {
			if !(s >= 0) || math.IsInf(s, 0) {
				return fmt.Errorf("empirical law: sample %d is %v, want a non-negative finite number", i+1, s)
			}
		}
	default:
		return fmt.Errorf("unknown law kind %d", l.Kind)
	}
	return l.finite()
}

// finite reports a parameter set whose draws can overflow float64 (+Inf):
// such a law describes no duration, and Draw would have nothing to return.
// The message gives the bound that keeps every draw finite.
func (l Law) finite() error {
	if !math.IsInf(l.LargestDraw(), 1) {
		return nil
	}
	switch l.Kind {
	case LawLogNormal:
		return fmt.Errorf("lognormal law: sigma %v lets draws overflow to +Inf; with median %vs it must be below %.4g",
			l.Sigma, l.Median, (maxLogFloat-math.Log(l.Median))/maxNormDraw)
	case LawWeibull:
		return fmt.Errorf("weibull law: shape %v lets draws overflow to +Inf; with scale %vs it must be above %.4g",
			l.Shape, l.Scale, math.Log(53*math.Ln2)/(maxLogFloat-math.Log(l.Scale)))
	case LawPareto:
		return fmt.Errorf("pareto law: shape %v lets draws overflow to +Inf; with scale %vs it must be above %.4g",
			l.Shape, l.Scale, maxExpDraw/(maxLogFloat-math.Log(l.Scale)))
	}
	return fmt.Errorf("%s law: its draws can overflow to +Inf", l.Kind)
}

// LargestDraw is the largest value in seconds that a draw from the law can
// take, given how gonum's samplers use math/rand/v2 (before Draw caps it at
// MaxDuration); +Inf when the parameters let a draw overflow float64.
func (l Law) LargestDraw() float64 {
	switch l.Kind {
	case LawFixed:
		return l.Value
	case LawUniform:
		return l.Max
	case LawExponential:
		return l.Mean * maxExpDraw
	case LawLogNormal:
		return math.Exp(math.Log(l.Median) + l.Sigma*maxNormDraw)
	case LawWeibull: // the quantile at U = 1 - 2^-53
		return l.Scale * math.Pow(53*math.Ln2, 1/l.Shape)
	case LawPareto:
		return l.Scale * math.Exp(maxExpDraw/l.Shape)
	case LawEmpirical:
		if len(l.Samples) == 0 {
			return 0
		}
		return slices.Max(l.Samples)
	}
	return math.Inf(1)
}

// Distribution returns the gonum distribution for the law, drawing from src.
// Fixed and empirical laws have no gonum counterpart and return nil.
func (l Law) Distribution(src rand.Source) distuv.Rander {
	switch l.Kind {
	case LawUniform:
		return distuv.Uniform{Min: l.Min, Max: l.Max, Src: src}
	case LawExponential:
		return distuv.Exponential{Rate: 1 / l.Mean, Src: src}
	case LawLogNormal:
		return distuv.LogNormal{Mu: math.Log(l.Median), Sigma: l.Sigma, Src: src}
	case LawWeibull:
		return distuv.Weibull{Lambda: l.Scale, K: l.Shape, Src: src}
	case LawPareto:
		return distuv.Pareto{Xm: l.Scale, Alpha: l.Shape, Src: src}
	}
	return nil
}

// Survival returns P(D > x seconds) under the law (the closed forms need it).
func (l Law) Survival(x float64) float64 {
	switch l.Kind {
	case LawFixed:
		if x < l.Value {
			return 1
		}
		return 0
	case LawEmpirical:
		n := 0
		for _, s := range l.Samples {
			if s > x {
				n++
			}
		}
		return float64(n) / float64(len(l.Samples))
	}
	if x < 0 {
		return 1
	}
	type survivor interface{ Survival(float64) float64 }
	return l.Distribution(nil).(survivor).Survival(x)
}

// MeanSeconds is the law's mean in seconds.
func (l Law) MeanSeconds() float64 {
	switch l.Kind {
	case LawFixed:
		return l.Value
	case LawEmpirical:
		s := 0.0
		for _, v := range l.Samples {
			s += v
		}
		return s / float64(len(l.Samples))
	}
	type meaner interface{ Mean() float64 }
	return l.Distribution(nil).(meaner).Mean()
}

// Sampler draws durations from a Law with one random stream.
type Sampler struct {
	law  Law
	rng  *rand.Rand
	dist distuv.Rander
	bad  float64 // the first draw that was not a finite number (LawError); 0 when none
}

// NewSampler binds law to the stream rng. The same rng is the gonum Src.
func NewSampler(law Law, rng *rand.Rand) *Sampler {
	return &Sampler{law: law, rng: rng, dist: law.Distribution(rng)}
}

// Draw returns the next duration, at most MaxDuration. A draw that is not a
// finite number (which Validate's parameters rule out but for the
// generators' measure-zero edges) lasts MaxDuration and is kept for Err.
func (s *Sampler) Draw() time.Duration {
	switch s.law.Kind {
	case LawFixed:
		return capDraw(s.law.Value)
	case LawEmpirical:
		return capDraw(s.law.Samples[s.rng.IntN(len(s.law.Samples))])
	}
	x := s.dist.Rand()
	if !(x < math.Inf(1)) && s.bad == 0 { // +Inf or NaN
		s.bad = x
	}
	return capDraw(x)
}

// Err is a *LawError naming where when a draw was not a finite number,
// and nil otherwise.
func (s *Sampler) Err(where string, fault int) error {
	if s == nil || s.bad == 0 {
		return nil
	}
	return &LawError{Where: where, Fault: fault, Law: s.law, Value: s.bad}
}

// lawErr is the first LawError of the run's samplers (the fault processes
// report theirs as they draw), or nil.
func (w *World) lawErr() error {
	if err := w.net.latency.Err("network latency", -1); err != nil {
		return err
	}
	for i := range w.clients {
		if err := w.clients[i].requests.Err("client request interval", -1); err != nil {
			return err
		}
	}
	for i := range w.servers {
		if err := w.servers[i].syncTime.Err("server sync time", -1); err != nil {
			return err
		}
	}
	return nil
}

// capDraw converts a draw in seconds to a duration of at most MaxDuration
// (+Inf and NaN included, which the caller reports).
func capDraw(x float64) time.Duration {
	if !(x < MaxDuration.Seconds()) {
		return MaxDuration
	}
	return max(clock.FromSeconds(x), 0)
}

// LawError is a law that drew a value that is not a finite number of
// seconds (+Inf or NaN): bad input, not a broken invariant. Law.Validate
// rules out the parameters that allow it.
type LawError struct {
	Where string  // "network latency", "client request interval", "server sync time", "duration" (of Fault)
	Fault int     // the fault's index in Config.Faults, or -1
	Law   Law     // the law's parameters
	Value float64 // what it drew
}

func (e *LawError) Error() string {
	where := e.Where
	if e.Fault >= 0 {
		where = fmt.Sprintf("fault %d %s", e.Fault+1, e.Where)
	}
	return fmt.Sprintf("model: %s: the %s law drew %v, not a finite duration", where, e.Law.Kind, e.Value)
}

// CDF returns P(D <= x seconds) under the law.
func (l Law) CDF(x float64) float64 { return 1 - l.Survival(x) }

// Quantile returns the smallest duration in seconds with CDF >= p, for p in
// [0, 1]: inverse-transform sampling draws Quantile(U) with U uniform.
func (l Law) Quantile(p float64) float64 {
	switch l.Kind {
	case LawFixed:
		return l.Value
	case LawEmpirical:
		s := slices.Clone(l.Samples)
		slices.Sort(s)
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	type quantiler interface{ Quantile(float64) float64 }
	return l.Distribution(nil).(quantiler).Quantile(p)
}
