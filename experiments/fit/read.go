package fit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Format selects a reader.
type Format uint8

// Formats.
const (
	FormatAuto Format = iota // detect from the content
	FormatCSV
	FormatZK
	FormatGC
)

// ParseFormat reads a format name: auto, csv, zk or gc.
func ParseFormat(s string) (Format, error) {
	i := slices.Index([]string{"auto", "csv", "zk", "gc"}, strings.ToLower(s))
	if i < 0 {
		return 0, fmt.Errorf("fit: unknown format %q: want auto, csv, zk or gc", s)
	}
	return Format(i), nil
}

// Detect says which reader a file needs: a ZooKeeper client log when any
// line has ZooKeeper's client wording, else a GC log when any line has a
// GC pause, else a CSV of durations.
func Detect(data []byte) Format {
	text := string(data)
	for line := range strings.SplitSeq(text, "\n") {
		if zkClientLine(line) {
			return FormatZK
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		if gcLine(line) {
			return FormatGC
		}
	}
	if strings.Contains(text, zkServerExpiring) {
		return FormatZK // a server log: ReadZK says so
	}
	return FormatCSV
}

// Read reads one file in format f (FormatAuto detects it). A file that is
// none of the three is reported at its first line that is not a duration.
func Read(name string, data []byte, f Format, opts Options) (*Data, error) {
	if f == FormatAuto {
		f = Detect(data)
		if f == FormatCSV {
			d, err := ReadCSV(name, data)
			if err == nil {
				return d, nil
			}
			line, why := firstLine(data), "it has no values"
			var le *lineError
			if errors.As(err, &le) {
				line, why = le.line, le.msg
			}
			if line == 0 {
				return nil, fmt.Errorf("%s: empty: no durations and no log lines", name)
			}
			return nil, fmt.Errorf("%s:%d: not a ZooKeeper client log, a JVM GC log or a CSV of durations (no line has ZooKeeper's client wording or a GC pause; as a CSV, %s)", name, line, why)
		}
	}
	switch f {
	case FormatZK:
		return ReadZK(name, data, opts)
	case FormatGC:
		return ReadGC(name, data)
	default:
		return ReadCSV(name, data)
	}
}

// Merge pools the data of several files of one source.
func Merge(ds []*Data) (*Data, error) {
	if len(ds) == 0 {
		return nil, ErrNoData
	}
	out := &Data{Source: ds[0].Source}
	for _, d := range ds {
		if d.Source != out.Source {
			return nil, fmt.Errorf("fit: %s is a %s but %s is a %s: fit one kind of input at a time",
				d.Files[0], d.Source, ds[0].Files[0], out.Source)
		}
		out.Files = append(out.Files, d.Files...)
		out.Durations = append(out.Durations, d.Durations...)
		out.Arrivals = append(out.Arrivals, d.Arrivals...)
		out.Episodes = append(out.Episodes, d.Episodes...)
		for _, x := range d.Exposure {
			out.Exposure = addExposure(out.Exposure, x.Detect, x.Period, x.Seconds)
		}
		out.Notes = append(out.Notes, d.Notes...)
	}
	return out, nil
}

// firstLine is the number of the first line that is neither blank nor a
// '#' comment, 0 if none.
func firstLine(data []byte) int {
	for i, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return i + 1
		}
	}
	return 0
}
