package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
)

// openDBWaiting opens the configured database, waiting for one that is not
// up yet as oslo.db does at start-up: [database] max_retries more attempts
// (-1: forever), retry_interval seconds apart, on connection errors only.
func openDBWaiting(ctx context.Context, c *config.Config, log *slog.Logger) (*db.DB, error) {
	max := c.Int("database", "max_retries")
	interval := time.Duration(c.Int("database", "retry_interval")) * time.Second
	for attempt := 0; ; attempt++ {
		d, err := app.OpenDB(c)
		if err == nil || !db.IsConnectionError(err) || (max >= 0 && attempt >= max) {
			return d, err
		}
		log.Warn("database unavailable; retrying", "error", err, "attempt", attempt+1, "max_retries", max, "retry_interval", interval.String())
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}
