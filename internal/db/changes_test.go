package db

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// shmLocks counts the POSIX record locks this process holds on file.
func shmLocks(t *testing.T, file string) int {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	ino := st.Sys().(*syscall.Stat_t).Ino
	raw, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Skipf("no /proc/locks: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		// 1: POSIX  ADVISORY  READ 1234 fd:01:5678 128 128
		if len(f) >= 6 && f[1] == "POSIX" && f[4] == fmt.Sprint(os.Getpid()) && strings.HasSuffix(f[5], fmt.Sprintf(":%d", ino)) {
			n++
		}
	}
	return n
}

// TestChangeVersionKeepsSQLiteLocks: reading the change counter must not
// drop the locks SQLite's connections hold on the -shm file (closing any
// descriptor of a file releases all of a process's POSIX locks on it), or
// another process may re-initialise the wal-index under this one
// (SQLITE_IOERR_IN_PAGE, seen with api_workers > 1).
func TestChangeVersionKeepsSQLiteLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	d, err := Open("sqlite:///"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Exec(ctx, "CREATE TABLE x (a INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, "INSERT INTO x VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	before := shmLocks(t, path+"-shm")
	if before == 0 {
		t.Fatal("SQLite holds no lock on the -shm file: nothing to check")
	}
	v1, ok := d.ChangeVersion()
	if !ok {
		t.Fatal("no change version on SQLite")
	}
	if after := shmLocks(t, path+"-shm"); after < before {
		t.Fatalf("ChangeVersion dropped SQLite's locks on the -shm file: %d -> %d", before, after)
	}
	if _, err := d.Exec(ctx, "INSERT INTO x VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if v2, ok := d.ChangeVersion(); !ok || v2 == v1 {
		t.Fatalf("change version after a write: %d (ok %v), before %d", v2, ok, v1)
	}
}

// TestChangeWatcherSurvivesTruncation: a -shm file truncated under the
// mapping makes the version unknown instead of crashing the process.
func TestChangeWatcherSurvivesTruncation(t *testing.T) {
	base := filepath.Join(t.TempDir(), "t.db")
	hdr := make([]byte, 4096)
	for _, off := range []int{0, 48} { // the two copies of the header
		binary.NativeEndian.PutUint32(hdr[off:], 3007000)
		binary.NativeEndian.PutUint32(hdr[off+8:], 42) // iChange
		hdr[off+12] = 1                                // isInit
	}
	if err := os.WriteFile(base+"-shm", hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	w := openChangeWatcher(base)
	if w == nil {
		t.Fatal("no watcher")
	}
	if v, ok := w.version(); !ok || v>>32 != 42 {
		t.Fatalf("version %d (ok %v), want iChange 42", v>>32, ok)
	}
	if err := os.Truncate(base+"-shm", 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.version(); ok {
		t.Fatal("a version read from a truncated file")
	}
}
