package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"hbsim/clock"
	"hbsim/experiments"
	"hbsim/experiments/zklog"
	"hbsim/model"
)

// outcomeTracer writes the timeline and remembers each client's watcher
// events for the closing summary.
type outcomeTracer struct {
	w      io.Writer
	brief  bool
	states map[string][]string
	order  []string
}

var noisy = map[string]bool{"ping-sent": true, "ping-reply": true, "touch": true, "touch-queued": true}

func (t *outcomeTracer) Trace(at clock.Time, actor, event, detail string) {
	if event == "state" {
		if _, ok := t.states[actor]; !ok {
			t.order = append(t.order, actor)
		}
		t.states[actor] = append(t.states[actor], strings.Fields(detail)[0])
	}
	if t.brief && noisy[event] {
		return
	}
	model.WriterTracer{W: t.w}.Trace(at, actor, event, detail)
}

func cmdTrace(args []string, stdout io.Writer) error {
	fs := newFlags("trace")
	point := fs.Int("point", 0, "sweep point (experiment files)")
	rep := fs.Int("replication", 0, "replication (experiment files)")
	brief := fs.Bool("brief", false, "leave out pings, ping replies and touches")
	zkLog := fs.String("zk-log", "", "write the run as ZooKeeper client and server logs and JVM GC logs in this directory instead")
	wording := fs.String("zk-wording", "", "ZooKeeper version whose log wording --zk-log writes: 3.4, 3.8 or 3.9 (default: the client version's)")
	check := fs.Bool("check", false, "with --zk-log: verify the model's invariants after every event")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("trace takes one scenario name or experiment file (see \"hbsim scenarios\")")
	}
	var cfg model.Config
	var title string
	if strings.HasSuffix(pos[0], ".toml") {
		c, t, err := replicationConfig(pos[0], *point, *rep)
		if err != nil {
			return err
		}
		cfg, title = c, t
	} else {
		s, ok := model.ScenarioByName(pos[0])
		if !ok {
			return usagef("no scenario %q (see \"hbsim scenarios\")", pos[0])
		}
		cfg = s.Config
		title = fmt.Sprintf("scenario %s: %s\n# expect: %s", s.Name, s.Description, s.Expect)
	}
	if *zkLog != "" {
		return traceZKLog(stdout, cfg, title, *zkLog, *wording, *check)
	}
	if *wording != "" {
		return usagef("trace: --zk-wording needs --zk-log DIR")
	}
	return traceRun(stdout, cfg, title, *brief)
}

// traceZKLog runs cfg with the log writer and writes its logs to dir.
func traceZKLog(stdout io.Writer, cfg model.Config, title, dir, wording string, check bool) error {
	d := cfg.Defaults()
	w := zklog.WordingFor(d.Client.Version)
	switch wording {
	case "":
	case "3.4":
		w = zklog.V34
	case "3.8":
		w = zklog.V38
	case "3.9":
		w = zklog.V39
	default:
		return usagef("trace: --zk-wording %q: want 3.4, 3.8 or 3.9", wording)
	}
	if err := checkWritable(dir); err != nil {
		return err
	}
	lw := zklog.New(w, d.Client.SessionTimeout)
	st, err := model.Run(cfg, model.Options{Tracer: lw, Check: check})
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	lw.Close(clock.Zero.Add(d.Horizon))
	var files []experiments.File
	for _, f := range lw.Files() {
		files = append(files, experiments.File{Name: f.Name, Data: f.Data})
	}
	if err := experiments.WriteFiles(dir, files); err != nil {
		return err
	}
	var clients, gcs, servers int
	for _, f := range files {
		switch {
		case strings.HasSuffix(f.Name, ".gc.log"):
			gcs++
		case strings.HasPrefix(f.Name, "client-"):
			clients++
		default:
			servers++
		}
	}
	fmt.Fprintf(stdout, "# %s\n", title)
	fmt.Fprintf(stdout, "wrote %d ZooKeeper client logs, %d server logs and %d GC logs to %s (%d clients over %v: %d Disconnected, %d tracker expiries)\n",
		clients, servers, gcs, dir, d.Clients, d.Horizon, st.Disconnects, st.Expiries)
	if clients > 0 {
		fmt.Fprintf(stdout, "fit the outages behind the disconnections with: hbsim fit %s\n", shellQuote(filepath.Join(dir, "client-*.log")))
	}
	if gcs > 0 {
		fmt.Fprintf(stdout, "fit the pauses with: hbsim fit %s\n", shellQuote(filepath.Join(dir, "client-*.gc.log")))
	}
	return nil
}

func traceRun(w io.Writer, cfg model.Config, title string, brief bool) error {
	d := cfg.Defaults()
	fmt.Fprintf(w, "# %s\n", title)
	servers := fmt.Sprintf("%d server(s)", d.Servers)
	if d.Client.AbsentHosts > 0 {
		servers += fmt.Sprintf(" + %d absent address(es) in the connect string", d.Client.AbsentHosts)
	}
	fmt.Fprintf(w, "# session timeout requested %v (negotiated %v), tick %v, %s, %d client(s), client %s, transport %s, seed %d, horizon %v\n",
		d.Client.SessionTimeout, d.Server.Negotiate(d.Client.SessionTimeout), d.Server.TickTime, servers, d.Clients,
		d.Client.Version, d.Network.Transport, d.Seed, d.Horizon)
	fmt.Fprintf(w, "# %10s  %-9s  %-26s %s\n", "time (s)", "actor", "event", "detail")
	tr := &outcomeTracer{w: w, brief: brief, states: map[string][]string{}}
	st, err := model.Run(cfg, model.Options{Tracer: tr, Check: true})
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	fmt.Fprintln(w, "# outcome:")
	for _, a := range tr.order {
		fmt.Fprintf(w, "#   %s: %s\n", a, strings.Join(tr.states[a], ", "))
	}
	fmt.Fprintf(w, "#   tracker expiries %d, Disconnected events %d, pings %d, events %d\n", st.Expiries, st.Disconnects, st.Pings, st.Events)
	return nil
}
