package fit

import "math"

// Source is the kind of input the observations came from.
type Source uint8

// Sources.
const (
	SourceCSV Source = iota // durations, one per line, with an optional start-time column
	SourceZK                // ZooKeeper Java client logs
	SourceGC                // JVM garbage-collection logs
)

var sourceNames = [...]string{"CSV of durations", "ZooKeeper client log", "JVM GC log"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "unknown source"
}

// Data is what the readers found in a set of files of one source.
type Data struct {
	Source Source
	Files  []string

	// Durations are complete observations in seconds (CSV, GC): each one
	// is a draw from the law.
	Durations []float64
	// Arrivals are, per file with start times, how many episodes started
	// and the time from the first start to the last: the Poisson rate's
	// sufficient statistics. Empty when the input has no start times.
	Arrivals []Arrivals

	// Episodes are the disconnections ZooKeeper clients noticed by their
	// read timeout (ZooKeeper logs), in file and line order.
	Episodes []Episode
	// Exposure is the time the clients spent connected (and so able to
	// notice an outage), by read timeout.
	Exposure []Exposure

	// Notes say what was left out and why, one sentence each.
	Notes []string
	// Raw marks the naive reading of ZooKeeper logs (RawDisconnections).
	Raw bool
}

// Arrivals is one file's episode starts.
type Arrivals struct {
	File  string
	Count int     // starts seen
	Span  float64 // seconds from the first start to the last
}

// Episode is one disconnection that a ZooKeeper client noticed because it
// heard nothing for its read timeout: an outage seen through the client
// loop (zk-semantics §1.7). Times are seconds after the client last heard
// from the server, the instant its read-timeout clock started.
//
// The outage started A after that instant, A uniform on [0, Period) (an
// outage starts at a random point of the ping cycle, zk-semantics §1.4),
// and lasted D, so it ended at X = A + D. The client noticed it only
// because X > Detect — its read timeout rt when the client hears again the
// instant the outage ends (the ideal transport); over TCP, the time of the
// last retransmission of the lost ping before rt, since an outage that ends
// after it is heard of only at the next one, too late (zk-semantics §1.6,
// DetectTCP) — and learned when it ended only from its reconnection:
// X lies in (Lo, Hi], or is exactly Lo when Lo == Hi.
type Episode struct {
	File    string
	Line    int    // the line of the read timeout
	Session string // "0x1"
	Detect  float64
	Period  float64
	Lo, Hi  float64
	// Raw is the disconnection as a naive reading sees it: from the read
	// timeout to the reconnection (or to the expiry), seconds.
	Raw     float64
	Expired bool // the session had expired when the client reconnected
}

// Exact reports whether the episode's outage end is known exactly.
func (e Episode) Exact() bool { return e.Lo == e.Hi }

// Exposure is connected time of clients that noticed outages ending more
// than Detect after they last heard (see Episode).
type Exposure struct {
	Detect, Period float64
	Seconds        float64
}

// addExposure adds s seconds of connected time at rt, p.
func addExposure(xs []Exposure, detect, p, s float64) []Exposure {
	for i := range xs {
		if xs[i].Detect == detect && xs[i].Period == p {
			xs[i].Seconds += s
			return xs
		}
	}
	return append(xs, Exposure{Detect: detect, Period: p, Seconds: s})
}

// survivalX is P(X > x) for X = A + D, A ~ U[0, p): (1/p) ∫_{x-p}^{x} S(y) dy.
func (l law) survivalX(x, p float64) float64 { return l.integral(x-p, x) / p }

// densityX is the density of X at x: (S(x-p) - S(x)) / p, from whichever of
// S and F keeps its precision.
func (l law) densityX(x, p float64) float64 {
	if l.survival(x-p) < 0.5 {
		return (l.survival(x-p) - l.survival(x)) / p
	}
	return (l.cdf(x) - l.cdf(x-p)) / p
}

// probX is P(lo < X <= hi): S_X(lo) - S_X(hi), written as a difference of
// two integrals of width hi - lo so that narrow intervals keep their
// precision.
func (l law) probX(lo, hi, p float64) float64 {
	if math.IsInf(hi, 1) {
		return l.survivalX(lo, p)
	}
	return (l.integral(lo-p, hi-p) - l.integral(lo, hi)) / p
}

// episodeLogLik is the log-likelihood of one episode: the observed part of
// X given that the client noticed the outage (X > Detect).
func (l law) episodeLogLik(e Episode, norm float64) float64 {
	var v float64
	if e.Exact() {
		v = l.densityX(e.Lo, e.Period)
	} else {
		v = l.probX(e.Lo, e.Hi, e.Period)
	}
	if !(v > 0) || !(norm > 0) {
		return math.Inf(-1)
	}
	return math.Log(v) - math.Log(norm)
}

// DetectTCP is when a client with read timeout rt and ping period p
// notices an outage over TCP: its ping (or the server's reply) sent at p
// is lost and retransmitted at p + o_k, o the retransmission offsets
// (seconds after the original); an outage that ends before the last of
// those at or before rt is heard of in time, one that ends after it is not.
func DetectTCP(rt, p float64, offsets []float64) float64 {
	last := 0.0
	for _, o := range offsets {
		if p+o <= rt {
			last = o
		}
	}
	return p + last
}

// Retransmits are the offsets, in seconds after the original, at which a
// Linux sender resends a lost segment with its first RTO rto: with the tail
// loss probe (tcp_early_retrans=3, the default since 3.10) at rto, 2·rto,
// 4·rto, ...; without it at rto, 3·rto, 7·rto, ... (zk-semantics §1.6).
func Retransmits(rto float64, tlp bool) []float64 {
	var out []float64
	for k, at := 0, 0.0; at < 600; k++ {
		if tlp {
			at = rto * math.Pow(2, float64(k))
		} else {
			at = rto * (math.Pow(2, float64(k+1)) - 1)
		}
		out = append(out, at)
	}
	return out
}
