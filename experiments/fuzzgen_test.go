package experiments

import (
	"fmt"
	"strings"
)

// genMagic starts a FuzzRun input that is not TOML but the choices of
// specFromBytes: mutating choices explores valid experiments far faster
// than mutating TOML text, which mostly breaks its syntax.
const genMagic = 0xFF

// choices reads one choice per byte, 0 when the input is used up.
type choices struct {
	b []byte
	i int
}

func (c *choices) next() int {
	if c.i >= len(c.b) {
		return 0
	}
	c.i++
	return int(c.b[c.i-1])
}

func (c *choices) pick(xs ...string) string { return xs[c.next()%len(xs)] }

// genValues are the values a generated key takes: valid ones, extremes at
// the limits, and a few out of range (so that refusals are exercised too).
var genValues = map[string][]string{
	"dur":     {`"1ms"`, `"50ms"`, `"1s"`, `"2s"`, `"5s"`, `"10s"`, `"30s"`, `"1m"`, `"10m"`, `"1h"`, `"24d"`, `"10000d"`, `["1s", "8s"]`, `"0s"`, `"1ns"`, `"10001d"`},
	"scale":   {`"1ms"`, `"100ms"`, `"500ms"`, `"1s"`, `"3s"`, `"8s"`, `"20s"`, `"1h"`},
	"shape":   {"0.063", "0.1", "0.5", "1", "2", "5", "[0.5, 1]", "0.05"},
	"sigma":   {"0.1", "1", "5", "20", "50", "59", "60"},
	"count":   {"1", "2", "3", "5", "255", "256", "0"},
	"clients": {"1", "2", "3", "7", "[1, 3]"},
	"zk":      {`"1ms"`, `"500ms"`, `"2s"`, `"4s"`, `"10s"`, `"40s"`, `"24d"`, `"25d"`},
	"bool":    {"true", "false"},
	"every":   {`"1ms"`, `"1s"`, `"1m"`, `"5m"`, `"1h"`, `"10000d"`, `["1m", "1h"]`},
	"at":      {`["10s"]`, `["0s", "40s"]`, `["10000d"]`, `["1m", "1m1s"]`, `["5s", "90s", "3m"]`},
	"phase":   {`"random"`, `"0s"`, `"1s"`, `"10000d"`, `["0s", "2s"]`},
}

func (c *choices) val(kind string) string { return c.pick(genValues[kind]...) }

func (c *choices) law() string {
	switch c.next() % 7 {
	case 0:
		return c.val("scale")
	case 1:
		return fmt.Sprintf(`{ law = "uniform", min = %s, max = %s }`, c.pick(`"0s"`, `"1ms"`, `"1s"`), c.val("scale"))
	case 2:
		return fmt.Sprintf(`{ law = "exponential", mean = %s }`, c.val("scale"))
	case 3:
		return fmt.Sprintf(`{ law = "lognormal", median = %s, sigma = %s }`, c.val("scale"), c.val("sigma"))
	case 4:
		return fmt.Sprintf(`{ law = "weibull", scale = %s, shape = %s }`, c.val("scale"), c.val("shape"))
	case 5:
		return fmt.Sprintf(`{ law = "pareto", scale = %s, shape = %s }`, c.val("scale"), c.val("shape"))
	}
	return `{ law = "empirical", csv = "pauses.csv" }`
}

// specFromBytes writes the experiment file that the choices b describe:
// every key of the format, each present or not.
func specFromBytes(b []byte) string {
	c := &choices{b: b}
	var s strings.Builder
	kv := func(key, val string) {
		if c.next()%3 == 0 {
			fmt.Fprintf(&s, "%s = %s\n", key, val)
		}
	}
	rare := func(key, val string) { // keys whose values constrain others
		if c.next()%10 == 0 {
			fmt.Fprintf(&s, "%s = %s\n", key, val)
		}
	}
	s.WriteString("[experiment]\n")
	fmt.Fprintf(&s, "seed = %d\nreplications = %d\nhorizon = %s\n", c.next(), 1+c.next()%2, c.pick(`"10s"`, `"1m"`, `"3m"`, `"1h"`))
	kv("clients", c.val("clients"))
	kv("dead_client_probe", c.val("bool"))
	s.WriteString("[server]\n")
	kv("count", c.val("count"))
	rare("leader", c.pick("0", "1", "2"))
	kv("tick_time", c.val("zk"))
	rare("min_session_timeout", c.val("zk"))
	rare("max_session_timeout", c.val("zk"))
	kv("bucket_rounding", c.val("bool"))
	kv("quorum_latency", c.val("dur"))
	kv("connection_reaper", c.val("bool"))
	kv("sync_limit", c.pick("1", "2", "5", "10", "1000", "2147483647"))
	kv("init_limit", c.pick("1", "2", "10", "1000", "2147483647"))
	kv("sync_time", c.law())
	kv("finalize_wait", c.pick(`"1ms"`, `"200ms"`, `"1s"`))
	kv("max_notification_interval", c.pick(`"1s"`, `"60s"`, `"10000d"`))
	kv("resume_order", c.pick(`"expirer-first"`, `"requests-first"`))
	s.WriteString("[client]\n")
	kv("session_timeout", c.val("zk"))
	kv("version", c.pick(`"3.3"`, `"3.8"`, `"3.9"`))
	rare("hosts", c.pick("[0]", "[0, 0]", "[0, 1]", "[2, 0, 2]"))
	kv("host_order", c.pick(`"given"`, `"shuffled"`))
	rare("absent_hosts", c.pick("0", "1", "2", "255"))
	kv("request_interval", c.law())
	kv("fixed_reconnect", c.val("dur"))
	s.WriteString("[network]\n")
	kv("latency", c.law())
	kv("transport", c.pick(`"tcp"`, `"ideal"`))
	kv("syn_schedule", c.pick(`"classic"`, `"linear"`))
	kv("orphan_retransmit", c.val("bool"))
	kv("rto_min", c.pick(`"1ms"`, `"200ms"`, `"1s"`))
	kv("rto_max", c.pick(`"1s"`, `"120s"`, `"10000d"`))
	kv("orphan_retries", c.pick("0", "1", "8", "2147483647"))
	kv("data_retries", c.pick("1", "15", "2147483647"))
	kv("connect_latency", c.val("dur"))
	kv("syn_retries", c.pick("1", "6", "127"))
	kv("syn_linear_timeouts", c.pick("0", "4", "127"))
	kv("tail_loss_probe", c.val("bool"))
	for range c.next() % 4 {
		s.WriteString("[[fault]]\n")
		if c.next()%8 == 0 {
			fmt.Fprintf(&s, "preset = %s\n", c.pick(`"dc-blip"`, `"ec2-flap"`, `"cloud-vm"`, `"jvm-gc"`, `"link-repair"`, `"incident"`))
			continue
		}
		kind := c.pick(`"outage"`, `"server-crash"`, `"client-pause"`, `"server-pause"`, `"partition"`, `"rolling-restart"`)
		fmt.Fprintf(&s, "kind = %s\n", kind)
		switch kind {
		case `"outage"`, `"client-pause"`:
			kv("clients", c.pick(`"all"`, `"all"`, "0", "0", "1"))
			kv("shared", c.val("bool"))
		}
		switch kind {
		case `"outage"`, `"server-crash"`, `"server-pause"`:
			kv("server", c.pick("0", "0", "1", `"leader"`, `"follower"`))
		case `"partition"`:
			kv("servers", c.pick("[0]", "[1, 2]", "[0, 3]"))
			kv("client_paths", c.pick(`"up"`, `"cut"`))
		case `"rolling-restart"`:
			kv("order", c.pick(`"followers-first"`, `"leader-first"`))
			kv("gap", c.val("dur"))
		}
		if kind == `"outage"` {
			kv("direction", c.pick(`"both"`, `"client-to-server"`, `"server-to-client"`))
		}
		switch c.next() % 3 {
		case 0:
			fmt.Fprintf(&s, "at = %s\n", c.val("at"))
			kv("phase", c.val("phase"))
		case 1:
			fmt.Fprintf(&s, "arrival = \"poisson\"\nevery = %s\n", c.val("every"))
			kv("offset", c.val("dur"))
		default:
			fmt.Fprintf(&s, "arrival = \"periodic\"\nevery = %s\n", c.val("every"))
			kv("offset", c.val("dur"))
		}
		fmt.Fprintf(&s, "duration = %s\n", c.law())
	}
	return s.String()
}
