package db

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// changeWatcher reads SQLite's WAL-index header from the -shm file, which
// every connection of every process maps: its iChange field is incremented
// by each committed write transaction (https://sqlite.org/walformat.html).
// Comparing it is a cross-process, nanosecond test for "nothing was written
// since", which lets readers reuse what they loaded.
type changeWatcher struct {
	mem []byte
}

func openChangeWatcher(dbPath string) *changeWatcher {
	f, err := os.Open(dbPath + "-shm")
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() < 96 {
		return nil
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 96, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return &changeWatcher{mem: mem}
}

func (w *changeWatcher) load32(off int) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&w.mem[off])))
}

// version returns the change counter, or ok=false while a writer is
// updating the header (the two copies differ) or the index is not
// initialized.
func (w *changeWatcher) version() (uint64, bool) {
	var a, b [12]uint32
	for i := range a {
		a[i] = w.load32(i * 4)
	}
	for i := range b {
		b[i] = w.load32(48 + i*4)
	}
	if a != b || a[0] != 3007000 {
		return 0, false
	}
	var hdr [4]byte
	binary.NativeEndian.PutUint32(hdr[:], a[3])
	if hdr[0] != 1 { // isInit
		return 0, false
	}
	// iChange, with mxFrame to be safe across WAL restarts
	return uint64(a[2])<<32 | uint64(a[4]), true
}

// ChangeVersion returns a number that changes whenever any connection of
// any process commits a write to the database; ok is false when it is not
// known (engines other than file-backed SQLite, or a write in progress).
func (d *DB) ChangeVersion() (uint64, bool) {
	w := d.changes.Load()
	if w == nil {
		if d.path == "" {
			return 0, false
		}
		// the -shm file may not have existed yet: retry once a second
		now := time.Now().UnixNano()
		last := d.lastTry.Load()
		if now-last < int64(time.Second) || !d.lastTry.CompareAndSwap(last, now) {
			return 0, false
		}
		if w = openChangeWatcher(d.path); w == nil {
			return 0, false
		}
		d.changes.Store(w)
	}
	return w.version()
}
