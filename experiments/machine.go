package experiments

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Machine is the memory a run may use here. Go cannot recover from running
// out of memory (the runtime aborts with a stack dump), so runs are sized
// against it before they start (Cost.Check).
type Machine struct {
	// Total is the physical memory, or the cgroup's limit when lower (a
	// container); 0 when unknown.
	Total int64
	// Available is what the OS can give without swapping now
	// (MemAvailable, within the cgroup's limit); 0 when unknown.
	Available int64
	// GoLimit is the Go runtime's memory limit (GOMEMLIMIT, or
	// debug.SetMemoryLimit); math.MaxInt64 when there is none.
	GoLimit int64
	// AddressSpace is the process's address-space limit (ulimit -v); 0
	// when there is none. The Go runtime reserves address space beyond
	// what it uses, so a run plans on half of it.
	AddressSpace int64
}

// ReadMachine reads this machine's memory: /proc/meminfo, the cgroup's
// memory limit (v2 memory.max, or v1 memory.limit_in_bytes), and the Go
// memory limit. Where they cannot be read (another OS), only the Go limit
// is known.
func ReadMachine() Machine {
	m := Machine{GoLimit: debug.SetMemoryLimit(-1)}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.Total, m.Available = parseMeminfo(data)
	}
	if as := addressSpaceLimit(); as > 0 {
		m.AddressSpace = as
	}
	limit, used, ok := cgroupMemory()
	if ok {
		if m.Total == 0 || limit < m.Total {
			m.Total = limit
		}
		if free := max(limit-used, 0); m.Available == 0 || free < m.Available {
			m.Available = free
		}
	}
	return m
}

// Usable is what a run may plan to hold: the available memory within the Go
// and address-space limits. It is math.MaxInt64 when nothing is known.
func (m Machine) Usable() int64 {
	u := m.Installed()
	if m.Available > 0 {
		u = min(u, m.Available)
	}
	return u
}

// Installed is the most a run could ever hold: the physical (or cgroup)
// memory within the Go and address-space limits; math.MaxInt64 when nothing
// is known.
func (m Machine) Installed() int64 {
	u := m.GoLimit
	if m.Total > 0 {
		u = min(u, m.Total)
	}
	if m.AddressSpace > 0 {
		u = min(u, m.AddressSpace/2)
	}
	return u
}

// describe says where the machine's figures come from, for messages.
func (m Machine) describe() string {
	var parts []string
	if m.Available > 0 {
		parts = append(parts, fmtBytes(m.Available)+" available of "+fmtBytes(m.Total))
	}
	if m.GoLimit != math.MaxInt64 {
		parts = append(parts, "GOMEMLIMIT "+fmtBytes(m.GoLimit))
	}
	if m.AddressSpace > 0 {
		parts = append(parts, "ulimit -v "+fmtBytes(m.AddressSpace))
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

// parseMeminfo reads MemTotal and MemAvailable (kB) from /proc/meminfo.
func parseMeminfo(data []byte) (total, available int64) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || v < 0 || v > math.MaxInt64/1024 {
			continue
		}
		switch f[0] {
		case "MemTotal:":
			total = v * 1024
		case "MemAvailable:":
			available = v * 1024
		}
	}
	return total, available
}

// cgroupMemory reads the memory limit of this process's cgroup and what it
// uses; ok is false without a limit.
func cgroupMemory() (limit, used int64, ok bool) {
	read := func(path string) (int64, bool) {
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return v, err == nil && v > 0
	}
	if l, ok := read("/sys/fs/cgroup/memory.max"); ok { // v2; "max" means none
		u, _ := read("/sys/fs/cgroup/memory.current")
		return l, u, true
	}
	// v1 reports "no limit" as a huge number near MaxInt64.
	if l, ok := read("/sys/fs/cgroup/memory/memory.limit_in_bytes"); ok && l < 1<<60 {
		u, _ := read("/sys/fs/cgroup/memory/memory.usage_in_bytes")
		return l, u, true
	}
	return 0, 0, false
}
