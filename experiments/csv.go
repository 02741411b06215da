package experiments

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
	text := strings.TrimPrefix(string(data), "\ufeff")
	var out []float64
	seenContent := false
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		field := strings.TrimSpace(line)
		if field == "" || strings.HasPrefix(field, "#") {
			continue
		}
		if i := strings.IndexByte(field, ','); i >= 0 {
			field = strings.TrimSpace(field[:i])
		}
		field = strings.TrimSpace(strings.Trim(field, `"`))
		first := !seenContent
		seenContent = true
		v, msg := csvSeconds(field)
		if msg != "" {
			if first && field != "" && !csvLooksNumeric(field) {
				continue // a header
			}
			return nil, fmt.Errorf("%s:%d: %s", name, lineNo, msg)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no values", name)
	}
	return out, nil
}

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
	d, err := parseDurationText(field)
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
