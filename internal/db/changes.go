package db

import (
	"encoding/binary"
	"os"
	"runtime/debug"
	"sync"
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
//
// The file is only re-initialised (truncated) or deleted when no process
// has a connection open, and the DB pins one for its lifetime; should it
// happen anyway, the fault of reading a truncated mapping is caught and
// the version is unknown.
type changeWatcher struct {
	mem []byte
}

// shmFiles holds the -shm files opened by this process, by path. They are
// never closed: POSIX record locks belong to the process, and closing any
// descriptor of the file would drop the locks SQLite's own connections hold
// on it (among them the one that keeps other processes from re-initialising
// the wal-index under this one: SQLITE_IOERR_IN_PAGE).
var shmFiles struct {
	sync.Mutex
	byPath map[string]*os.File
}

func openChangeWatcher(dbPath string) *changeWatcher {
	p := dbPath + "-shm"
	shmFiles.Lock()
	defer shmFiles.Unlock()
	st, err := os.Stat(p)
	if err != nil || st.Size() < 96 {
		return nil
	}
	f := shmFiles.byPath[p]
	if f != nil {
		// a database made again at the same path is another file
		if fst, err := f.Stat(); err != nil || !os.SameFile(fst, st) {
			f = nil
		}
	}
	if f == nil {
		if f, err = os.Open(p); err != nil {
			return nil
		}
		if shmFiles.byPath == nil {
			shmFiles.byPath = map[string]*os.File{}
		}
		shmFiles.byPath[p] = f // the one it replaces stays open: see shmFiles
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
func (w *changeWatcher) version() (v uint64, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil { // the file was truncated under the mapping
			v, ok = 0, false
		}
	}()
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
