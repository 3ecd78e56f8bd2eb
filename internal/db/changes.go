package db

import (
	"encoding/binary"
	"os"
	"sync"
	"time"
)

// changeWatcher reads SQLite's WAL-index header from the -shm file, which
// every connection of every process maps: its iChange field is incremented
// by each committed write transaction (https://sqlite.org/walformat.html).
// Comparing it is a cross-process, sub-microsecond test for "nothing was
// written since", which lets readers reuse what they loaded.
//
// The header is read with pread, not mapped: a mapping would fault if the
// file were ever truncated (SQLite re-initialises it when the last
// connection of the last process is gone), a read just comes back short.
type changeWatcher struct {
	f *os.File
}

// shmFiles holds the -shm files opened by this process, by path. They are
// never closed: POSIX record locks belong to the process, and closing any
// descriptor of the file would drop the locks SQLite's own connections hold
// on it (among them the one that keeps other processes from re-initialising
// the wal-index under them).
var shmFiles struct {
	sync.Mutex
	byPath map[string]*os.File
}

func openChangeWatcher(dbPath string) *changeWatcher {
	p := dbPath + "-shm"
	shmFiles.Lock()
	defer shmFiles.Unlock()
	f := shmFiles.byPath[p]
	if f == nil {
		var err error
		if f, err = os.Open(p); err != nil {
			return nil
		}
		if shmFiles.byPath == nil {
			shmFiles.byPath = map[string]*os.File{}
		}
		shmFiles.byPath[p] = f
	}
	return &changeWatcher{f: f}
}

// version returns the change counter, or ok=false while a writer is
// updating the header (the two copies differ) or the index is not
// initialized.
func (w *changeWatcher) version() (uint64, bool) {
	var buf [96]byte
	if n, _ := w.f.ReadAt(buf[:], 0); n < len(buf) {
		return 0, false
	}
	var a, b [12]uint32
	for i := range a {
		a[i] = binary.NativeEndian.Uint32(buf[i*4:])
		b[i] = binary.NativeEndian.Uint32(buf[48+i*4:])
	}
	if a != b || a[0] != 3007000 {
		return 0, false
	}
	if buf[12] != 1 { // isInit
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
