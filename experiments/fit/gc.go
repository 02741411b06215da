package fit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Reading JVM garbage-collection logs. Two wordings give a pause length:
//
//	[12.345s][info][gc] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.456ms
//	    unified logging (JDK 9+, -Xlog:gc): "Pause ..." ending in its length
//	2024-05-01T12:00:00.123+0000: 12.345: Total time for which application threads were stopped: 0.0034560 seconds, ...
//	    safepoint statistics (JDK 8 -XX:+PrintGCApplicationStoppedTime, or
//	    -Xlog:safepoint before JDK 17): every stop of the world
//
// When a log has both, the safepoint lines are used: they include the GC
// pauses and every other stop. Timestamps (the JVM uptime, or the date)
// give the arrival rate.

const gcStopped = "Total time for which application threads were stopped: "

var (
	reGCPause    = regexp.MustCompile(`\bPause\b.*?(\d+(?:\.\d+)?) ?ms$`)
	reGCStopped  = regexp.MustCompile(`^(\d+(?:\.\d+)?) seconds`)
	reGCUptime   = regexp.MustCompile(`^(\d+(?:\.\d+)?)(s|ms|ns)$`)
	reGCJDK8Time = regexp.MustCompile(`^(?:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}): )?(?:(\d+\.\d+): )?`)
)

// gcLine reports whether a line holds GC log wording fit reads.
func gcLine(s string) bool {
	return strings.Contains(s, gcStopped) || (strings.Contains(s, "Pause ") && strings.HasPrefix(s, "["))
}

// gcStamp reads a line's time in seconds and its message: the uptime
// decoration or prefix when there is one, else the date. ok is false when
// the line has neither.
func gcStamp(line string) (sec float64, msg string, ok bool) {
	if strings.HasPrefix(line, "[") { // unified logging decorations
		s := line
		var up, date float64
		hasUp, hasDate := false, false
		for strings.HasPrefix(s, "[") {
			i := strings.IndexByte(s, ']')
			if i < 0 {
				break
			}
			dec := s[1:i]
			s = s[i+1:]
			if m := reGCUptime.FindStringSubmatch(dec); m != nil && !hasUp {
				v, _ := strconv.ParseFloat(m[1], 64)
				switch m[2] {
				case "ms":
					v /= 1e3
				case "ns":
					v /= 1e9
				}
				up, hasUp = v, true
			} else if t, err := time.Parse("2006-01-02T15:04:05.000-0700", dec); err == nil && !hasDate {
				date, hasDate = float64(t.UnixMilli())/1e3, true
			}
		}
		if hasUp {
			return up, strings.TrimSpace(s), true
		}
		return date, strings.TrimSpace(s), hasDate
	}
	m := reGCJDK8Time.FindStringSubmatch(line)
	rest := line[len(m[0]):]
	if m[2] != "" {
		v, _ := strconv.ParseFloat(m[2], 64)
		return v, rest, true
	}
	if m[1] != "" {
		if t, err := time.Parse("2006-01-02T15:04:05.000-0700", m[1]); err == nil {
			return float64(t.UnixMilli()) / 1e3, rest, true
		}
	}
	return 0, line, false
}

// ReadGC reads one JVM GC log: each pause is a complete observation of a
// pause length, and the pauses' times give the arrival rate.
func ReadGC(name string, data []byte) (*Data, error) {
	type pause struct {
		at, dur float64
		hasAt   bool
	}
	var pauses, stops []pause
	for i, raw := range strings.Split(strings.TrimPrefix(string(data), "\ufeff"), "\n") {
		line := strings.TrimRight(raw, "\r")
		n := i + 1
		if !gcLine(line) {
			continue
		}
		at, msg, hasAt := gcStamp(line)
		if j := strings.Index(msg, gcStopped); j >= 0 {
			m := reGCStopped.FindStringSubmatch(msg[j+len(gcStopped):])
			if m == nil {
				return nil, fmt.Errorf("%s:%d: truncated or malformed line: %q without \"N seconds\"", name, n, strings.TrimSpace(gcStopped))
			}
			v, _ := strconv.ParseFloat(m[1], 64)
			stops = append(stops, pause{at, v, hasAt})
			continue
		}
		if m := reGCPause.FindStringSubmatch(msg); m != nil && !strings.Contains(msg, "Concurrent") {
			v, _ := strconv.ParseFloat(m[1], 64)
			pauses = append(pauses, pause{at, v / 1e3, hasAt})
			continue
		}
		if strings.Contains(msg, "->") { // heap sizes are printed before the length
			return nil, fmt.Errorf("%s:%d: truncated or malformed GC line: \"Pause ... ->\" without its length \"N.NNNms\"", name, n)
		}
	}
	d := &Data{Source: SourceGC, Files: []string{name}}
	use := pauses
	if len(stops) > 0 {
		if len(pauses) > 0 {
			d.Notes = append(d.Notes, fmt.Sprintf("%s: has both safepoint totals and GC pause lines: the %d safepoint totals are used (they include the %d GC pauses)", name, len(stops), len(pauses)))
		}
		use = stops
	}
	if len(use) == 0 {
		return nil, fmt.Errorf("%s: no GC pause line (\"[...][gc] GC(n) Pause ... N.NNNms\" or %q)", name, strings.TrimSpace(gcStopped)+" N seconds")
	}
	first, last := 0.0, 0.0
	timed := 0
	for i, p := range use {
		d.Durations = append(d.Durations, p.dur)
		if !p.hasAt {
			continue
		}
		if timed > 0 && p.at < last-1 {
			return nil, fmt.Errorf("%s: pause %d of %d goes back in time (%gs after %gs): logs of several JVMs mixed?", name, i+1, len(use), p.at, last)
		}
		if timed == 0 {
			first = p.at
		}
		last = max(last, p.at)
		timed++
	}
	if timed == len(use) && timed >= 2 {
		d.Arrivals = []Arrivals{{File: name, Count: timed, Span: last - first}}
	} else if timed < len(use) {
		d.Notes = append(d.Notes, fmt.Sprintf("%s: not every pause line has a time: the pause rate is not estimated", name))
	}
	return d, nil
}
