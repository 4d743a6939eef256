package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"vigie/internal/bus"
	"vigie/internal/db"
)

// IngestFilter is the bus subject filter of the recorded offences: every
// département's casefile.opened events.
const IngestFilter = "*.casefile.opened"

// caseOpened is the part of internal/casefile's event the risk map reads:
// a category, a time window and a place. Nothing about persons is read.
type caseOpened struct {
	ID        int64     `json:"id"`
	Dept      string    `json:"dept"`
	UnitID    int64     `json:"unit_id"`
	Category  string    `json:"category"`
	FactsFrom time.Time `json:"facts_from"`
	FactsTo   time.Time `json:"facts_to"`
	Lat       float64   `json:"lat"`
	Lon       float64   `json:"lon"`
	At        time.Time `json:"at"`
}

// IngestCase stores the offence of a case file opened elsewhere (bus event
// casefile.opened) as a source event. Idempotent: the case's id is the
// event's ref, stored once however often the event is delivered. A case
// without a place (no coordinates) is not a map event and is skipped.
func (s *Service) IngestCase(ctx context.Context, ev *bus.CloudEvent) (bool, error) {
	var c caseOpened
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		// A malformed event will not get better on redelivery.
		s.cfg.Log.Warn("analytics: casefile.opened event not readable", "id", ev.ID, "err", err)
		return false, nil
	}
	if (c.Lat == 0 && c.Lon == 0) || c.Lat < -90 || c.Lat > 90 || c.Lon < -180 || c.Lon > 180 || c.Dept == "" {
		return false, nil
	}
	start, end := c.FactsFrom, c.FactsTo
	if start.IsZero() {
		start = c.At
	}
	if start.IsZero() {
		start = ev.Time
	}
	if end.IsZero() || end.Before(start) {
		end = start
	}
	if len(c.Category) > 40 {
		c.Category = c.Category[:40]
	}
	now := s.cfg.Now()
	res, err := s.cfg.DB.Exec(ctx, `INSERT INTO analytics_events (dept, unit_id, source, category, started_at, ended_at, lon, lat, plan_id, batch, ref, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'casefile', ?, ?) ON CONFLICT DO NOTHING`,
		c.Dept, c.UnitID, string(SourceOffence), c.Category, db.Millis(start), db.Millis(end), c.Lon, c.Lat,
		fmt.Sprintf("casefile:%d", c.ID), db.Millis(now))
	if err != nil {
		return false, fmt.Errorf("analytics: ingest case %d: %w", c.ID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
