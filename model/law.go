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
		return pos("mean", l.Mean)
	case LawLogNormal:
		return errors.Join(pos("median", l.Median), pos("sigma", l.Sigma))
	case LawWeibull, LawPareto:
		return errors.Join(pos("scale", l.Scale), pos("shape", l.Shape))
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
	return nil
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
}

// NewSampler binds law to the stream rng. The same rng is the gonum Src.
func NewSampler(law Law, rng *rand.Rand) *Sampler {
	return &Sampler{law: law, rng: rng, dist: law.Distribution(rng)}
}

// Draw returns the next duration.
func (s *Sampler) Draw() time.Duration {
	switch s.law.Kind {
	case LawFixed:
		return clock.FromSeconds(s.law.Value)
	case LawEmpirical:
		return clock.FromSeconds(s.law.Samples[s.rng.IntN(len(s.law.Samples))])
	}
	return clock.FromSeconds(s.dist.Rand())
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
