package store

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
)

// StreamBatch is how many rows a whole-collection list reads at a time: a
// list's memory is bounded by this, not by the table.
const StreamBatch = 500

// ListBatches hands the result of q to fn in batches of at most
// StreamBatch objects, in q's order, read from one snapshot of the
// database (a read transaction). It is the API's list of a query without
// pagination (no limit, marker or page_reverse): those are one page, and
// go through List. A result that fits in one batch is cached like List's.
func (t *Table) ListBatches(ctx context.Context, q *api.Query, fn func([]api.Object) error) error {
	if q.Limit > 0 || q.Marker != "" || q.PageReverse {
		objs, err := t.List(ctx, q)
		if err != nil {
			return err
		}
		return fn(objs)
	}
	ver, cacheable := t.DB.ChangeVersion()
	key := ""
	if cacheable {
		key = listKey(ctx, q)
		if objs, ok := t.lists.get(key, ver); ok {
			return fn(append(make([]api.Object, 0, len(objs)), objs...))
		}
	}
	return t.DB.Read(ctx, func(tx *db.Tx) error {
		return t.batches(ctx, tx, q, func(objs []api.Object, whole bool) error {
			if whole && cacheable {
				t.lists.put(key, ver, append([]api.Object(nil), objs...), sizeOfAll(objs))
			}
			return fn(objs)
		})
	})
}

// batches reads q's rows StreamBatch at a time, each batch after the last
// row of the previous one in (sort keys, id) order; whole tells fn
// that the result is this one batch.
func (t *Table) batches(ctx context.Context, tx *db.Tx, q *api.Query, fn func(objs []api.Object, whole bool) error) error {
	ctx = context.WithValue(ctx, listingKey{}, true)
	conds, args, post := t.listConds(ctx, q)
	kq := *q
	kq.Sorts = append(append([]api.Sort(nil), q.Sorts...), api.Sort{Key: "id", Asc: true})
	order := t.orderTerms(tx.Dialect(), &kq)
	for first := true; ; first = false {
		c, a := conds, args
		if kq.Marker != "" {
			mc, ma, err := t.markerCond(ctx, tx, &kq)
			if err != nil {
				return err
			}
			c = append(append([]string(nil), conds...), mc)
			a = append(append([]any(nil), args...), ma...)
		}
		objs, err := t.scan(ctx, tx, c, a, order, StreamBatch, true, false)
		if err != nil {
			return err
		}
		done := len(objs) < StreamBatch
		if len(objs) > 0 {
			kq.Marker, _ = objs[len(objs)-1]["id"].(string)
		}
		if len(post) > 0 {
			objs = postFilter(objs, post)
		}
		if err := fn(objs, first && done); err != nil || done {
			return err
		}
	}
}
