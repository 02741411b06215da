package experiments

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// File is one output file: a name inside the output directory and its bytes.
type File struct {
	Name string
	Data []byte
}

func num(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// CSV renders the result in tidy form: one row per point and metric, with a
// column per swept key.
func (r *Result) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"point"}
	for _, a := range r.Axes {
		head = append(head, a.Key)
	}
	head = append(head, "session_timeout_s", "requested_session_timeout_s", "tick_time_s",
		"metric", "estimate", "lower", "upper", "count", "trials", "unit", "method")
	_ = w.Write(head) // a bytes.Buffer does not fail
	for _, p := range r.Points {
		for _, m := range p.Metrics {
			row := []string{strconv.Itoa(p.Index)}
			for _, prm := range p.Params {
				row = append(row, prm.Value)
			}
			row = append(row, num(p.SessionTimeoutS), num(p.RequestedSessionTimeoutS), num(p.TickTimeS),
				m.Name, num(m.Estimate), num(m.Lower), num(m.Upper), num(m.Count), num(m.Trials), m.Unit, m.Method)
			_ = w.Write(row)
		}
	}
	w.Flush()
	return b.Bytes()
}

// MarshalJSON writes NaN values (an interval with too few samples) as null.
func (m Metric) MarshalJSON() ([]byte, error) {
	f := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	return json.Marshal(struct {
		Name     string   `json:"name"`
		Unit     string   `json:"unit"`
		Estimate *float64 `json:"estimate"`
		Lower    *float64 `json:"lower"`
		Upper    *float64 `json:"upper"`
		Count    float64  `json:"count"`
		Trials   float64  `json:"trials"`
		Method   string   `json:"method"`
	}{m.Name, m.Unit, f(m.Estimate), f(m.Lower), f(m.Upper), m.Count, m.Trials, m.Method})
}

// UnmarshalJSON reads what MarshalJSON writes (null becomes NaN).
func (m *Metric) UnmarshalJSON(data []byte) error {
	var v struct {
		Name     string   `json:"name"`
		Unit     string   `json:"unit"`
		Estimate *float64 `json:"estimate"`
		Lower    *float64 `json:"lower"`
		Upper    *float64 `json:"upper"`
		Count    float64  `json:"count"`
		Trials   float64  `json:"trials"`
		Method   string   `json:"method"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	g := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*m = Metric{Name: v.Name, Unit: v.Unit, Estimate: g(v.Estimate), Lower: g(v.Lower), Upper: g(v.Upper), Count: v.Count, Trials: v.Trials, Method: v.Method}
	return nil
}

// JSON renders the whole result, indented.
func (r *Result) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("experiments: encoding results: %w", err)
	}
	return append(b, '\n'), nil
}

// Table renders the summary a person reads on stdout: one line per point.
func (r *Result) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d point(s) x %d replication(s), %d client(s), horizon %gs, seed %d\n",
		r.Name, len(r.Points), r.Replications, r.Clients, r.HorizonS, r.Seed)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{}
	for _, a := range r.Axes {
		head = append(head, a.Key)
	}
	head = append(head, "T", "P(expiry|outage) [95% CI]", "expiries/session-day", "disconnects/session-day", "dead-client detection s")
	names := []string{MetricExpiryPerOutage, MetricExpiryRate, MetricDisconnectRate, MetricDetectionTime}
	if len(r.Points) > 0 {
		if _, ok := r.Points[0].Metric(MetricNoLeader); ok {
			head = append(head, "no leader s/episode", "dropped conns/episode", "peak connects/s")
			names = append(names, MetricNoLeader, MetricDropped, MetricReconnectStorm)
		}
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, p := range r.Points {
		row := []string{}
		for _, prm := range p.Params {
			row = append(row, prm.Value)
		}
		row = append(row, num(p.SessionTimeoutS)+"s")
		for _, name := range names {
			m, _ := p.Metric(name)
			row = append(row, ci(m))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	_ = tw.Flush() // a strings.Builder does not fail
	return b.String()
}

func ci(m Metric) string {
	if m.Name == "" || math.IsNaN(m.Estimate) {
		return "-"
	}
	f := func(x float64) string {
		if math.IsNaN(x) {
			return "?"
		}
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return fmt.Sprintf("%s [%s, %s]", f(m.Estimate), f(m.Lower), f(m.Upper))
}

// WriteError is an output that could not be written (the disk is full, the
// directory was removed, a file size limit): the run failed, not its input.
// What was written before it stays: the files written atomically before it,
// and the checkpoint up to its last complete record.
type WriteError struct {
	Path string // the file, or the directory
	Err  error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("experiments: writing %s: %s", e.Path, ioMessage(e.Err))
}

func (e *WriteError) Unwrap() error { return e.Err }

// WriteFiles writes files into dir, each atomically: a temporary file in the
// same directory, synced, then renamed over the target. A crash leaves each
// file either as it was or complete, never torn. dir is created if needed.
// The temporary files of these names that a killed earlier write left
// behind (".NAME.tmp*") are removed first. A failure is a *WriteError; the
// files before the one that failed are written.
func WriteFiles(dir string, files []File) error {
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &WriteError{Path: dir, Err: err}
	}
	if err := removeStaleTemps(dir, files); err != nil {
		return &WriteError{Path: dir, Err: err}
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(dir, f.Name), f.Data); err != nil {
			return &WriteError{Path: filepath.Join(dir, f.Name), Err: err}
		}
	}
	return nil
}

// removeStaleTemps removes the temporary files writeAtomic names after files.
func removeStaleTemps(dir string, files []File) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("experiments: output directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		for _, f := range files {
			if strings.HasPrefix(e.Name(), "."+f.Name+".tmp") && !e.IsDir() {
				errs = append(errs, os.Remove(filepath.Join(dir, e.Name())))
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("experiments: removing stale temporary files: %w", err)
	}
	return nil
}

func writeAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return err
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
