package server

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// LogWriter buffers log output and flushes it every interval (and when the
// buffer fills, and on Close), so that logging a line per request does not
// cost a write system call per request.
type LogWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewLogWriter wraps w.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	lw := &LogWriter{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(lw.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				lw.Flush()
			case <-lw.stop:
				lw.Flush()
				return
			}
		}
	}()
	return lw
}

// Write buffers p.
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

// SetOutput flushes what is buffered to the old output and writes to w
// from now on.
func (lw *LogWriter) SetOutput(w io.Writer) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	err := lw.w.Flush()
	lw.w.Reset(w)
	return err
}

// Flush writes out what is buffered.
func (lw *LogWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Flush()
}

// Close flushes and stops the flusher.
func (lw *LogWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return nil
}
