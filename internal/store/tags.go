package store

import (
	"context"
	"sort"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// ---- tags (api.Tagger) ----

// GetTags lists a row's tags.
func (t *Table) GetTags(ctx context.Context, id string) ([]string, error) {
	rows, err := t.DB.Query(ctx, "SELECT tag FROM tags WHERE resource_id = ? ORDER BY tag", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		tags = append(tags, s)
	}
	return tags, rows.Err()
}

// ReplaceTags sets a row's tags.
func (t *Table) ReplaceTags(ctx context.Context, id string, tags []string) ([]string, error) {
	tags = dedupe(tags)
	err := t.DB.Write(ctx, func(tx *db.Tx) error {
		old, err := t.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if sameTags(old["tags"], tags) {
			return nil // nothing changes: no revision bump
		}
		if _, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ?", id); err != nil {
			return err
		}
		for _, tag := range tags {
			if _, err := tx.Exec(ctx, "INSERT INTO tags (resource_id, tag) VALUES (?, ?)", id, tag); err != nil {
				return err
			}
		}
		return t.BumpRevision(ctx, tx, id)
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(tags)
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

// AddTag adds one tag.
func (t *Table) AddTag(ctx context.Context, id, tag string) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := t.get(ctx, tx, id, true); err != nil {
			return err
		}
		pre, post := tx.Dialect().InsertIgnore()
		res, err := tx.Exec(ctx, pre+" INTO tags (resource_id, tag) VALUES (?, ?)"+post, id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return t.BumpRevision(ctx, tx, id)
	})
}

// RemoveTag removes one tag.
func (t *Table) RemoveTag(ctx context.Context, id, tag string) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := t.get(ctx, tx, id, true); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ? AND tag = ?", id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return api.TagNotFound(tag)
		}
		return t.BumpRevision(ctx, tx, id)
	})
}

// RemoveAllTags removes every tag.
func (t *Table) RemoveAllTags(ctx context.Context, id string) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := t.get(ctx, tx, id, true); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return t.BumpRevision(ctx, tx, id)
	})
}

func sameTags(old any, tags []string) bool {
	list, _ := old.([]any)
	if len(list) != len(tags) {
		return false
	}
	have := map[string]bool{}
	for _, t := range list {
		have[pyfmt.Str(t)] = true
	}
	for _, t := range tags {
		if !have[t] {
			return false
		}
	}
	return true
}
