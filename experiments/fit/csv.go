package fit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrMissingUnit is returned by ParseDuration for a bare number.
var ErrMissingUnit = errors.New(`missing unit, e.g. "10s"`)

// ParseDuration reads a duration as experiment files write them: Go's
// time.ParseDuration syntax ("1m30s", "250ms") plus a "d" unit of 24 hours
// ("2d", "1.5d"). A bare number is ErrMissingUnit.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, ErrMissingUnit
	}
	if strings.Contains(t, "d") {
		var b strings.Builder
		i := 0
		if t != "" && (t[0] == '-' || t[0] == '+') {
			b.WriteByte(t[0])
			i = 1
		}
		isNum := func(c byte) bool { return c >= '0' && c <= '9' || c == '.' }
		for i < len(t) {
			j := i
			for j < len(t) && isNum(t[j]) {
				j++
			}
			k := j
			for k < len(t) && !isNum(t[k]) {
				k++
			}
			if t[j:k] == "d" {
				v, err := strconv.ParseFloat(t[i:j], 64)
				if err != nil {
					return 0, fmt.Errorf("invalid duration %q", s)
				}
				b.WriteString(strconv.FormatFloat(v*24, 'f', -1, 64))
				b.WriteString("h")
			} else {
				b.WriteString(t[i:k])
			}
			i = k
		}
		t = b.String()
	}
	return time.ParseDuration(t)
}

// ReadDurationsCSV reads the samples of an empirical duration law, in
// seconds. The format is one value per line; when a line has commas only the
// first column counts. Blank lines and lines starting with '#' are skipped, and
// the first remaining line may be a header (it is skipped when it is not a
// value). Surrounding spaces and double quotes are trimmed. A value is either
// a plain number of seconds ("2.5") or a duration with units ("2.5s",
// "150ms", "1m30s", "2d").
//
// Errors name the file and the line ("pauses.csv:7: ..."). A value that is
// negative, not finite or missing is an error, and so is a file with no values.
func ReadDurationsCSV(name string, data []byte) ([]float64, error) {
	rows, err := readRows(name, data)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = r.value
	}
	return out, nil
}

// lineError is a bad line of a CSV: "file:line: msg".
type lineError struct {
	file string
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg) }

// csvRow is one value line of a durations CSV.
type csvRow struct {
	line  int
	value float64  // the first column, seconds
	rest  []string // the other columns, trimmed
}

// readRows reads the value lines of a durations CSV (see ReadDurationsCSV).
func readRows(name string, data []byte) ([]csvRow, error) {
	text := strings.TrimPrefix(string(data), "\ufeff")
	var out []csvRow
	seenContent := false
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		field := strings.TrimSpace(line)
		if field == "" || strings.HasPrefix(field, "#") {
			continue
		}
		cols := strings.Split(field, ",")
		field = cleanCell(cols[0])
		first := !seenContent
		seenContent = true
		v, msg := csvSeconds(field)
		if msg != "" {
			if first && field != "" && !csvLooksNumeric(field) {
				continue // a header
			}
			return nil, &lineError{file: name, line: lineNo, msg: msg}
		}
		r := csvRow{line: lineNo, value: v}
		for _, c := range cols[1:] {
			r.rest = append(r.rest, cleanCell(c))
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no values", name)
	}
	return out, nil
}

func cleanCell(s string) string { return strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`)) }

// csvSeconds parses one CSV cell as seconds, or returns why it cannot.
func csvSeconds(field string) (float64, string) {
	if field == "" {
		return 0, "empty value"
	}
	if v, err := strconv.ParseFloat(field, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Sprintf("%q is not a finite number of seconds", field)
		}
		if v < 0 {
			return 0, fmt.Sprintf("%q is negative; durations must not be negative", field)
		}
		return v, ""
	}
	d, err := ParseDuration(field)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a number of seconds or a duration such as \"1.5s\"", field)
	}
	if d < 0 {
		return 0, fmt.Sprintf("%q is negative; durations must not be negative", field)
	}
	return d.Seconds(), ""
}

// csvLooksNumeric reports whether a cell starts like a value (a digit, a sign
// or a point), so a malformed first value is reported rather than taken for a
// header.
func csvLooksNumeric(field string) bool {
	c := field[0]
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.'
}

// ReadCSV reads a durations CSV for fitting: the durations as
// ReadDurationsCSV reads them and, when every value line has a second
// column, that column as each episode's start time, from which Fit
// estimates the arrival rate. A start time is an RFC 3339 timestamp
// ("2024-05-01T12:00:00Z", fractional seconds allowed), the same with a
// space for the T and no zone (read as UTC), or a plain number of seconds
// (an epoch or any other origin). Start times need not be sorted.
func ReadCSV(name string, data []byte) (*Data, error) {
	rows, err := readRows(name, data)
	if err != nil {
		return nil, err
	}
	d := &Data{Source: SourceCSV, Files: []string{name}}
	withTime := 0
	for _, r := range rows {
		d.Durations = append(d.Durations, r.value)
		if len(r.rest) > 0 && r.rest[0] != "" {
			withTime++
		}
	}
	if withTime == 0 {
		return d, nil
	}
	var starts []float64
	for _, r := range rows {
		if len(r.rest) == 0 || r.rest[0] == "" {
			return nil, fmt.Errorf("%s:%d: no start time in the second column, although other lines have one", name, r.line)
		}
		t, err := parseStart(r.rest[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: second column %q: %w", name, r.line, r.rest[0], err)
		}
		starts = append(starts, t)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range starts {
		lo, hi = math.Min(lo, t), math.Max(hi, t)
	}
	d.Arrivals = []Arrivals{{File: name, Count: len(starts), Span: hi - lo}}
	return d, nil
}

// parseStart reads a start time as seconds since an arbitrary origin.
func parseStart(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, errors.New("not a finite number of seconds")
		}
		return v, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.UnixNano()) / 1e9, nil
		}
	}
	return 0, errors.New(`not a start time: want RFC 3339 ("2024-05-01T12:00:00Z") or a number of seconds`)
}
