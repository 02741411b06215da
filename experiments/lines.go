package experiments

import (
	"strconv"
	"strings"
)

// keyLines maps the dotted keys of a TOML document to the 1-based lines they
// are written on. BurntSushi/toml's MetaData keeps no public key positions, so
// the spec loader scans the source itself.
//
// Keys are spelt the way the rest of this package names them: table
// components joined by ".", and the element of an array of tables as
// "name[i]" (0-based), e.g. "server.tick_time", "fault[1].duration.law".
// Keys of inline tables are indexed too. Only syntactically valid TOML is
// indexed meaningfully; on anything else the scanner stops early and never
// panics.
type keyLines struct {
	line  map[string]int // exact key -> line
	lower map[string]int // lower-cased key -> line, the case-insensitive fallback
}

// find returns the line of key, falling back to its enclosing tables
// ("fault[0].duration.value" -> "fault[0].duration" -> "fault[0]" -> "fault"),
// or 0 when no part of the key is in the file.
func (k keyLines) find(key string) int {
	for key != "" {
		if n, ok := k.line[key]; ok {
			return n
		}
		if n, ok := k.lower[strings.ToLower(key)]; ok {
			return n
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}

// indexKeyLines scans a TOML document for table headers, array-of-tables
// headers (with their element index), "key = value" lines and the keys of
// inline tables.
func indexKeyLines(src string) keyLines {
	sc := &lineScanner{
		src:    src,
		line:   1,
		arrays: map[string]int{},
		out:    keyLines{line: map[string]int{}, lower: map[string]int{}},
	}
	sc.document()
	return sc.out
}

type lineScanner struct {
	src    string
	i      int
	line   int
	table  string         // indexed path of the current [table], "" at the top
	arrays map[string]int // indexed path of an array of tables -> elements seen
	out    keyLines
}

func (sc *lineScanner) record(key string, line int) {
	if _, ok := sc.out.line[key]; !ok {
		sc.out.line[key] = line
	}
	if _, ok := sc.out.lower[strings.ToLower(key)]; !ok {
		sc.out.lower[strings.ToLower(key)] = line
	}
}

func (sc *lineScanner) eof() bool { return sc.i >= len(sc.src) }

func (sc *lineScanner) peek(s string) bool { return strings.HasPrefix(sc.src[sc.i:], s) }

// advance moves n bytes on, counting newlines.
func (sc *lineScanner) advance(n int) {
	for ; n > 0 && sc.i < len(sc.src); n-- {
		if sc.src[sc.i] == '\n' {
			sc.line++
		}
		sc.i++
	}
}

// space skips blanks; with newlines it also skips line breaks and comments.
func (sc *lineScanner) space(newlines bool) {
	for !sc.eof() {
		switch c := sc.src[sc.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			sc.advance(1)
		case c == '#':
			for !sc.eof() && sc.src[sc.i] != '\n' {
				sc.advance(1)
			}
		case c == '\n' && newlines:
			sc.advance(1)
		default:
			return
		}
	}
}

// skipLine skips the rest of the current line, newline included.
func (sc *lineScanner) skipLine() {
	for !sc.eof() && sc.src[sc.i] != '\n' {
		sc.advance(1)
	}
	sc.advance(1)
}

func (sc *lineScanner) document() {
	for {
		sc.space(true)
		if sc.eof() {
			return
		}
		start := sc.i
		if sc.src[sc.i] == '[' {
			sc.header()
		} else {
			parts := sc.key()
			if parts == nil || sc.eof() || sc.src[sc.i] != '=' {
				sc.skipLine()
				continue
			}
			key := joinKey(sc.table, parts)
			sc.record(key, sc.line)
			sc.advance(1) // '='
			sc.space(false)
			sc.value(key)
		}
		if sc.i == start { // no progress: malformed input
			sc.skipLine()
		}
	}
}

// header reads "[a.b]" or "[[a.b]]" and makes it the current table.
func (sc *lineScanner) header() {
	line := sc.line
	array := sc.peek("[[")
	if array {
		sc.advance(2)
	} else {
		sc.advance(1)
	}
	parts := sc.key()
	if parts == nil {
		sc.skipLine()
		return
	}
	path := ""
	for n, p := range parts {
		path = joinKey(path, []string{p})
		last := n == len(parts)-1
		if last && array {
			sc.arrays[path]++
			path += "[" + strconv.Itoa(sc.arrays[path]-1) + "]"
		} else if c, ok := sc.arrays[path]; ok {
			path += "[" + strconv.Itoa(c-1) + "]"
		}
	}
	sc.table = path
	sc.record(path, line)
	sc.skipLine()
}

// key reads a possibly dotted, possibly quoted key and the blanks after it.
func (sc *lineScanner) key() []string {
	var parts []string
	for {
		sc.space(false)
		if sc.eof() {
			return nil
		}
		var part string
		switch c := sc.src[sc.i]; {
		case c == '"' || c == '\'':
			s, ok := sc.quoted(c)
			if !ok {
				return nil
			}
			part = s
		case isBareKeyChar(c):
			j := sc.i
			for j < len(sc.src) && isBareKeyChar(sc.src[j]) {
				j++
			}
			part = sc.src[sc.i:j]
			sc.advance(j - sc.i)
		default:
			return nil
		}
		parts = append(parts, part)
		sc.space(false)
		if sc.eof() || sc.src[sc.i] != '.' {
			return parts
		}
		sc.advance(1)
	}
}

// quoted reads a one-line basic ("...") or literal ('...') string.
func (sc *lineScanner) quoted(q byte) (string, bool) {
	sc.advance(1)
	var b strings.Builder
	for !sc.eof() {
		c := sc.src[sc.i]
		switch {
		case c == '\n':
			return "", false
		case c == q:
			sc.advance(1)
			s := b.String()
			if q == '"' {
				if u, err := strconv.Unquote(`"` + s + `"`); err == nil {
					s = u
				}
			}
			return s, true
		case c == '\\' && q == '"' && sc.i+1 < len(sc.src):
			b.WriteString(sc.src[sc.i : sc.i+2])
			sc.advance(2)
		default:
			b.WriteByte(c)
			sc.advance(1)
		}
	}
	return "", false
}

// value skips one value; the keys of inline tables in it are recorded under
// path.
func (sc *lineScanner) value(path string) {
	if sc.eof() {
		return
	}
	switch c := sc.src[sc.i]; {
	case sc.peek(`"""`) || sc.peek(`'''`):
		q := sc.src[sc.i : sc.i+3]
		sc.advance(3)
		for !sc.eof() && !sc.peek(q) {
			if q == `"""` && sc.src[sc.i] == '\\' {
				sc.advance(1)
			}
			sc.advance(1)
		}
		sc.advance(3)
		for !sc.eof() && sc.src[sc.i] == q[0] { // up to two quotes may close the content
			sc.advance(1)
		}
	case c == '"' || c == '\'':
		sc.quoted(c)
	case c == '[':
		sc.advance(1)
		for {
			sc.space(true)
			if sc.eof() {
				return
			}
			switch sc.src[sc.i] {
			case ']':
				sc.advance(1)
				return
			case ',':
				sc.advance(1)
			default:
				start := sc.i
				sc.value(path)
				if sc.i == start {
					return
				}
			}
		}
	case c == '{':
		sc.advance(1)
		for {
			sc.space(true)
			if sc.eof() {
				return
			}
			switch sc.src[sc.i] {
			case '}':
				sc.advance(1)
				return
			case ',':
				sc.advance(1)
			default:
				line := sc.line
				parts := sc.key()
				if parts == nil || sc.eof() || sc.src[sc.i] != '=' {
					return
				}
				key := joinKey(path, parts)
				sc.record(key, line)
				sc.advance(1)
				sc.space(false)
				start := sc.i
				sc.value(key)
				if sc.i == start {
					return
				}
			}
		}
	default: // number, boolean or date: up to a delimiter
		for !sc.eof() && !strings.ContainsRune(",]}\n#", rune(sc.src[sc.i])) {
			sc.advance(1)
		}
	}
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func joinKey(prefix string, parts []string) string {
	k := strings.Join(parts, ".")
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
