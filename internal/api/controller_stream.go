package api

import (
	"net/http"
)

// streamFlush is how much of a streamed list is buffered before it is
// sent.
const streamFlush = 128 << 10

// streamChunk is how many items of a batch are rendered before the buffer
// is checked (a batch is never rendered into one large buffer).
const streamChunk = 100

// listStream writes a whole list as its batches arrive: a list that fits
// in one batch is answered as any other (with its Content-Length); a
// longer one is sent in chunks, so the server holds one batch of objects
// and one buffer, whatever the collection's size.
type listStream struct {
	req     *request
	res     *Resource
	fields  []string
	strip   map[string]bool
	decided bool // strip is known (from the first visible item)
	started bool // the status line is sent
	n       int  // items written
	buf     []byte
}

// stream answers a list from res.Stream.
func (req *request) stream(res *Resource, q *Query) error {
	s := &listStream{req: req, res: res, fields: res.listFields(q)}
	b := getBuf()
	defer putBuf(b)
	s.buf = append((*b)[:0], `{"`...)
	s.buf = append(s.buf, res.Collection...)
	s.buf = append(s.buf, `":[`...)
	err := res.Stream(req.ctx, q, s.batch)
	*b = s.buf
	if err != nil {
		if s.started {
			// the status line is gone: cut the response short rather
			// than end it as if it were whole
			panic(http.ErrAbortHandler)
		}
		return err
	}
	s.buf = append(s.buf, "]}"...)
	*b = s.buf
	if !s.started {
		req.write(http.StatusOK, s.buf)
		return nil
	}
	req.w.Write(s.buf)
	return nil
}

// batch writes one batch of the list.
func (s *listStream) batch(items []Object) error {
	items = s.req.visibleItems(s.res, items)
	if len(items) == 0 {
		return nil
	}
	if !s.decided {
		// _exclude_attributes_by_policy on the first item, as Neutron
		s.strip, s.decided = s.req.hiddenFor(s.res, items[0]), true
	}
	for len(items) > 0 {
		chunk := items[:min(streamChunk, len(items))]
		items = items[len(chunk):]
		if s.n > 0 {
			s.buf = append(s.buf, ',')
		}
		s.buf = s.res.appendViews(s.buf, chunk, s.fields, s.strip)
		s.n += len(chunk)
		if len(s.buf) >= streamFlush {
			s.flush()
		}
	}
	return nil
}

// flush sends what is buffered (the status line first).
func (s *listStream) flush() {
	w := s.req.w
	if !s.started {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		s.started = true
	}
	w.Write(s.buf)
	s.buf = s.buf[:0]
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
