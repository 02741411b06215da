package experiments

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// ---------------------------------------------------------------------------
// Bounds on what a spec makes hbsim read, so that no file can exhaust the
// machine before validation says what is wrong with it.

const (
	// MaxSpecBytes bounds an experiment file. Real ones are a few kilobytes;
	// the largest sweep (MaxSweepPoints) fits in a few megabytes.
	MaxSpecBytes = 16 << 20
	// MaxCSVBytes bounds an empirical law's CSV file (tens of millions of
	// samples).
	MaxCSVBytes = 256 << 20
	// maxNesting bounds how deeply arrays and inline tables nest in a spec.
	// A spec needs three levels at most; the TOML decoder recurses once per
	// level, and a file of a million "[" would overflow its stack (a fatal
	// error no recover catches).
	maxNesting = 32
)

// errTooLarge is a file over its size bound.
type errTooLarge struct{ limit int64 }

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("larger than %s, the most hbsim reads of such a file", fmtBytes(e.limit))
}

// readLimited reads the file at path, failing without reading further once
// it is longer than limit bytes (a device such as /dev/zero never ends).
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: nothing to lose
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &errTooLarge{limit: limit}
	}
	return data, nil
}

// tooDeep returns the 1-based line where arrays and inline tables first
// nest deeper than maxNesting in the TOML source src, or 0. It follows
// TOML's strings (basic, literal, and their multi-line forms) and comments,
// so that brackets inside them do not count.
func tooDeep(src string) int {
	depth, line := 0, 1
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '\n':
			line++
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '[', '{':
			if depth++; depth > maxNesting {
				return line
			}
		case ']', '}':
			depth = max(depth-1, 0)
		case '"', '\'':
			i = skipString(src, i, &line)
		}
	}
	return 0
}

// skipString returns the index of the last byte of the string that starts
// at src[i] (a quote), counting the newlines it spans into *line. An
// unterminated single-line string ends before its line's newline.
func skipString(src string, i int, line *int) int {
	q := src[i]
	multi := strings.HasPrefix(src[i:], strings.Repeat(string(q), 3))
	if multi {
		i += 2
	}
	for i++; i < len(src); i++ {
		switch {
		case src[i] == '\\' && q == '"':
			if i+1 < len(src) && src[i+1] == '\n' {
				*line++
			}
			i++ // the escaped byte
		case src[i] == '\n':
			if !multi {
				return i - 1
			}
			*line++
		case src[i] == q && !multi:
			return i
		case src[i] == q && strings.HasPrefix(src[i:], strings.Repeat(string(q), 3)):
			return i + 2
		}
	}
	return len(src)
}
