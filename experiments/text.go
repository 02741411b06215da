package experiments

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"hbsim/experiments/fit"
)

// ---------------------------------------------------------------------------
// Helpers.

var errMissingUnit = errors.New("missing unit")

// parseDurationText parses a duration as time.ParseDuration does, plus the
// unit "d" (24 h): "10d", "1d12h", "1.5d". A bare number, even "0", is
// errMissingUnit. It is fit.ParseDuration, which the durations CSV shares.
func parseDurationText(s string) (time.Duration, error) {
	d, err := fit.ParseDuration(s)
	if errors.Is(err, fit.ErrMissingUnit) {
		return 0, errMissingUnit
	}
	return d, err
}

// fmtDur formats a duration without trailing zero units: "1m", "1h30m", "40s".
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case nil:
		return "nothing"
	}
	return "a date or time"
}

// describeValue shows a scalar as written and anything else by its type.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return typeName(v)
}

// ioMessage is an I/O error without the path that the caller already shows.
func ioMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// positionExcerpt is pe.ErrorWithPosition(), or "" where toml v1.6.0 would
// panic on it (it indexes lines by an unchecked position, e.g. for input
// that ends inside an escape at line 0).
func positionExcerpt(pe toml.ParseError) (s string) {
	if pe.Position.Line < 1 || pe.Position.Col < 1 {
		return ""
	}
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	return pe.ErrorWithPosition()
}

// syntaxProblem turns a TOML syntax error into a Problem at its line, with
// the source excerpt of ParseError.ErrorWithPosition after the message.
func syntaxProblem(path string, err error) Problem {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return Problem{File: path, Msg: "syntax error: " + err.Error(), err: err}
	}
	msg := "syntax error: " + pe.Message
	// Keep ErrorWithPosition's excerpt: the lines after "At line N, column C:".
	full := positionExcerpt(pe)
	if i := strings.Index(full, "\n\nAt line "); i >= 0 {
		if j := strings.Index(full[i:], ":\n\n"); j >= 0 {
			msg += "\n" + strings.TrimRight(full[i+j+3:], "\n")
		}
	}
	return Problem{File: path, Line: pe.Position.Line, Msg: msg, err: err}
}

// PointLabel names a sweep point by its swept values, as a person reads
// them: "T = 18 s" for the session timeout, "key = value" for other axes,
// joined by ", "; "the only point" when nothing is swept.
func PointLabel(params []Param) string {
	if len(params) == 0 {
		return "the only point"
	}
	parts := make([]string, len(params))
	for i, p := range params {
		if p.Key == "client.session_timeout" {
			parts[i] = "T = " + secs(p.Numeric)
			continue
		}
		parts[i] = p.Key + " = " + p.Value
	}
	return strings.Join(parts, ", ")
}
