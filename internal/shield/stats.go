package shield

import (
	"context"
	"fmt"
	"time"

	"vigie/internal/db"
)

// Overview is what the security centre's first page shows.
type Overview struct {
	Since      time.Time
	ActiveBans int
	OpenAlerts int
	Refused    int64 // by this replica since start
	Lost       int64 // findings or timeline events dropped under load
	ByHour     []HourCount
	MaxHour    int
	TopRules   []Count
	TopSources []Count
	Timeline   []Event
}

// HourCount is the number of events of each kind in one hour.
type HourCount struct {
	Hour       time.Time
	WAF        int
	Detections int
	Bans       int
}

// Total is the hour's count of every kind.
func (h HourCount) Total() int { return h.WAF + h.Detections + h.Bans }

// Count is a label and how many times it was seen.
type Count struct {
	Label string
	N     int
}

// Overview computes the last 24 hours of the timeline.
func (s *Shield) Overview(ctx context.Context) (*Overview, error) {
	now := s.now().UTC()
	since := now.Add(-24 * time.Hour).Truncate(time.Hour)
	o := &Overview{Since: since, Refused: s.refused.Load(), Lost: s.lost.Load()}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM shield_ban WHERE lifted_at = 0 AND expires_at > ?", db.Millis(now)).Scan(&o.ActiveBans); err != nil {
		return nil, fmt.Errorf("shield: overview: %w", err)
	}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM shield_alert WHERE status <> 'closed'").Scan(&o.OpenAlerts); err != nil {
		return nil, fmt.Errorf("shield: overview: %w", err)
	}
	hours := map[int64]*HourCount{}
	for t := since; !t.After(now); t = t.Add(time.Hour) {
		o.ByHour = append(o.ByHour, HourCount{Hour: t})
	}
	for i := range o.ByHour {
		hours[o.ByHour[i].Hour.UnixMilli()/3600000] = &o.ByHour[i]
	}
	rows, err := s.db.Query(ctx, "SELECT at / 3600000, kind, COUNT(*) FROM shield_event WHERE at >= ? GROUP BY at / 3600000, kind", db.Millis(since))
	if err != nil {
		return nil, fmt.Errorf("shield: overview: %w", err)
	}
	for rows.Next() {
		var h int64
		var kind string
		var n int
		if err := rows.Scan(&h, &kind, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if hc := hours[h]; hc != nil {
			switch kind {
			case EventWAF:
				hc.WAF += n
			case EventDetection:
				hc.Detections += n
			case EventBan:
				hc.Bans += n
			}
		}
	}
	rows.Close()
	for _, h := range o.ByHour {
		o.MaxHour = max(o.MaxHour, h.Total())
	}
	top := func(col string) ([]Count, error) {
		rows, err := s.db.Query(ctx, "SELECT "+col+", COUNT(*) AS n FROM shield_event WHERE at >= ? AND kind IN ('waf', 'detection') GROUP BY "+col+" ORDER BY n DESC, "+col+" LIMIT 10", db.Millis(since))
		if err != nil {
			return nil, fmt.Errorf("shield: overview: %w", err)
		}
		defer rows.Close()
		var out []Count
		for rows.Next() {
			var c Count
			if err := rows.Scan(&c.Label, &c.N); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	if o.TopRules, err = top("rule"); err != nil {
		return nil, err
	}
	if o.TopSources, err = top("source"); err != nil {
		return nil, err
	}
	o.Timeline, err = s.Timeline(ctx, 50)
	return o, err
}

// Timeline returns the most recent events.
func (s *Shield) Timeline(ctx context.Context, limit int) ([]Event, error) {
	rows, err := s.db.Query(ctx, "SELECT at, kind, source, rule, path, detail FROM shield_event ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("shield: timeline: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Kind, &e.Source, &e.Rule, &e.Path, &e.Detail); err != nil {
			return nil, err
		}
		e.At = db.Time(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Bar is one hour of the chart, in SVG units (viewBox 0 0 480 120).
type Bar struct {
	X, Y, W, H int
	Label      string
	Total      int
}

// Bars lays the hourly counts out for the server-drawn SVG chart.
func (o *Overview) Bars() []Bar {
	n := len(o.ByHour)
	if n == 0 {
		return nil
	}
	w := 480 / n
	out := make([]Bar, 0, n)
	for i, hc := range o.ByHour {
		h := 0
		if o.MaxHour > 0 {
			h = hc.Total() * 100 / o.MaxHour
		}
		if hc.Total() > 0 && h == 0 {
			h = 1
		}
		out = append(out, Bar{X: i * w, Y: 105 - h, W: max(w-2, 1), H: h, Label: hc.Hour.Format("15h"), Total: hc.Total()})
	}
	return out
}
