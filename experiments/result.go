package experiments

// Result is what a run of an experiment produces: one PointResult per sweep
// point, in sweep order. It is plain data (JSON-encodable) and is all that the
// plots package and the output writers read.
type Result struct {
	Name         string        `json:"name"`
	File         string        `json:"file,omitempty"`
	Seed         uint64        `json:"seed"`
	Replications int           `json:"replications"`
	HorizonS     float64       `json:"horizon_s"`
	Clients      int           `json:"clients"`
	Axes         []Axis        `json:"axes"`     // the swept keys, in expansion order
	Points       []PointResult `json:"points"`   // in sweep order
	Warnings     []string      `json:"warnings"` // e.g. timeouts clamped by the server
	Partial      bool          `json:"partial,omitempty"`
}

// Axis is one swept key and its values, as written in the file.
type Axis struct {
	Key    string   `json:"key"`    // dotted key, e.g. "client.session_timeout"
	Values []string `json:"values"` // as given ("10s")
	// Numeric holds each value as a number (seconds for durations), for charts.
	Numeric []float64 `json:"numeric"`
	Unit    string    `json:"unit"` // "s" for durations, "" otherwise
}

// Param is the value one sweep point takes on one axis.
type Param struct {
	Key     string  `json:"key"`
	Value   string  `json:"value"`
	Numeric float64 `json:"numeric"`
}

// PointResult holds the metrics of one sweep point.
type PointResult struct {
	Index  int     `json:"index"`
	Params []Param `json:"params"` // one per Axis, same order
	// SessionTimeoutS is the negotiated timeout T in seconds (after the
	// server's clamp), requested is what the client asked for.
	SessionTimeoutS          float64  `json:"session_timeout_s"`
	RequestedSessionTimeoutS float64  `json:"requested_session_timeout_s"`
	TickTimeS                float64  `json:"tick_time_s"`
	Clients                  int      `json:"clients"`
	Metrics                  []Metric `json:"metrics"`
	// MassExpiry is the distribution of simultaneous expiries over fault
	// episodes that hit every client at once (shared outages and pauses,
	// server crashes): row k is P(at least k of the clients hit expire).
	// Empty when no such episode happened.
	MassExpiry []MassExpiry `json:"mass_expiry,omitempty"`
}

// MassExpiry is P(at least K sessions expire in one shared fault episode),
// estimated over Episodes episodes, with its 95 % interval.
type MassExpiry struct {
	K        int     `json:"k"`
	Episodes int     `json:"episodes"`
	Count    int     `json:"count"` // episodes with at least K expiries
	Estimate float64 `json:"estimate"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	// MeanHit is the mean number of counted clients an episode hit.
	MeanHit float64 `json:"mean_hit"`
}

// Metric is one estimate with its 95 % confidence interval.
type Metric struct {
	Name     string  `json:"name"` // one of the Metric* constants
	Unit     string  `json:"unit"`
	Estimate float64 `json:"estimate"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	// Count and Trials are the raw numbers behind a proportion or rate
	// (events and trials, or events and exposure in session-days).
	Count  float64 `json:"count"`
	Trials float64 `json:"trials"`
	Method string  `json:"method"` // "wilson", "clopper-pearson", "poisson-exact", "student-t"
}

// Metric names, stable across versions (they are CSV column values).
const (
	MetricExpiryPerOutage      = "p_expiry_per_outage"         // P(expiry | a client was hit by an outage)
	MetricExpiryRate           = "expiries_per_session_day"    // tracker expiries per session-day
	MetricExpiryInHorizon      = "p_expiry_in_horizon"         // P(at least one expiry of a session within the horizon)
	MetricDisconnectRate       = "disconnects_per_session_day" // client Disconnected events per session-day
	MetricDisconnectedFraction = "disconnected_fraction"       // share of session time not SyncConnected
	MetricDetectionTime        = "dead_client_detection_s"     // a crashed client's session lingers this long
	// Points with server-side faults (crash, pause, partition, rolling
	// restart) also have these three.
	MetricNoLeader       = "no_leader_s_per_episode"         // time without a serving leader, per server-side episode
	MetricDropped        = "dropped_connections_per_episode" // client connections servers reset or closed, per episode
	MetricReconnectStorm = "reconnect_storm_per_s"           // the most ConnectRequests one server got in one second, per replication
)

// Metric returns the metric called name, or false.
func (p PointResult) Metric(name string) (Metric, bool) {
	for _, m := range p.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}
