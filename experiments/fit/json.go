package fit

import (
	"encoding/json"
	"math"
)

// num is a float64 that encodes NaN and infinities as JSON null.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// MarshalJSON encodes unknown bounds as null.
func (p Param) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name     string `json:"name"`
		Value    num    `json:"value"`
		Lower    num    `json:"lower"`
		Upper    num    `json:"upper"`
		Duration bool   `json:"duration"`
	}{p.Name, num(p.Value), num(p.Lower), num(p.Upper), p.Duration})
}

// MarshalJSON encodes the empirical law's missing likelihood as null.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Law        Kind    `json:"law"`
		Params     []Param `json:"params"`
		LogLik     num     `json:"log_likelihood"`
		AIC        num     `json:"aic"`
		KS         num     `json:"ks"`
		KSCritical num     `json:"ks_critical"`
		Rejected   bool    `json:"rejected"`
		Err        string  `json:"error,omitempty"`
	}{e.Law, e.Params, num(e.LogLik), num(e.AIC), num(e.KS), num(e.KSCritical), e.Rejected, e.Err})
}

// MarshalText names a Source in JSON.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
