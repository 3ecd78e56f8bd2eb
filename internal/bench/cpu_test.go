package bench

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// rusageCPU is this process's CPU time as getrusage reports it.
func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestServerCPUCountsWork: the CPU time read for this process grows by
// the CPU it burns between two reads, as getrusage counts it (busy
// machine or not).
func TestServerCPUCountsWork(t *testing.T) {
	pids := []int{os.Getpid()}
	before, err := serverCPU(pids)
	if err != nil {
		t.Fatal(err)
	}
	x, start := 0, rusageCPU(t)
	for rusageCPU(t)-start < 300*time.Millisecond {
		for i := 0; i < 100000; i++ {
			x += i
		}
	}
	burnt := rusageCPU(t) - start
	after, err := serverCPU(pids)
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < burnt-3*clockTick || d > burnt+3*clockTick {
		t.Fatalf("%v of busy loop (getrusage) counted as %v (x=%d)", burnt, d, x)
	}
	if _, err := serverCPU([]int{1 << 30}); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}

func TestParsePIDs(t *testing.T) {
	got, err := ParsePIDs(" 12, 345 ,")
	if err != nil || len(got) != 2 || got[0] != 12 || got[1] != 345 {
		t.Fatalf("ParsePIDs: %v %v", got, err)
	}
	for _, bad := range []string{"x", "-1", "0", "1.5"} {
		if _, err := ParsePIDs(bad); err == nil {
			t.Errorf("ParsePIDs(%q): no error", bad)
		}
	}
}
