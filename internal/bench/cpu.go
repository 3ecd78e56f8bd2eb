package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// serverCPU is the CPU time (user + system) the processes pids have used
// so far, read from /proc: the server's cost of a phase is the difference
// before and after it. Unlike req/s it hardly moves when other work shares
// the machine, so two builds can be compared on a busy one.
func serverCPU(pids []int) (time.Duration, error) {
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		// the command name (field 2) may hold spaces: count after its ')'
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
		}
		for _, v := range f[11:13] { // utime, stime: fields 14 and 15
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
			}
			total += time.Duration(n) * clockTick
		}
	}
	return total, nil
}

// ParsePIDs reads a comma-separated list of process ids ("" is none).
func ParsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("not a process id: %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
