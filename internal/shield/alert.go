package shield

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
)

// Alert is a detection with its evidence, waiting for a security officer.
type Alert struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Severity   string    `json:"severity"`
	Subject    string    `json:"subject"`
	Summary    string    `json:"summary"`
	Dept       string    `json:"dept,omitempty"`
	UnitID     int64     `json:"unit_id,omitempty"`
	Evidence   string    `json:"-"`
	Hits       int64     `json:"hits"`
	FirstAt    time.Time `json:"first_at"`
	LastAt     time.Time `json:"last_at"`
	Status     string    `json:"status"` // new, acknowledged, closed
	AckBy      string    `json:"ack_by,omitempty"`
	AckAt      time.Time `json:"ack_at,omitzero"`
	AckComment string    `json:"ack_comment,omitempty"`
	ClosedBy   string    `json:"closed_by,omitempty"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
}

// AckWithin is how soon a new alert should be acknowledged.
const AckWithin = 24 * time.Hour

// Overdue reports whether the alert is still new more than AckWithin
// after it was raised.
func (a Alert) Overdue(now time.Time) bool {
	return a.Status == StatusNew && now.Sub(a.FirstAt) > AckWithin
}

// Alert statuses.
const (
	StatusNew          = "new"
	StatusAcknowledged = "acknowledged"
	StatusClosed       = "closed"
)

// Target is what the policy is asked about before anyone sees the alert:
// alerts about an account or an agent belong to their unit; attacks from
// the network are national.
func (a Alert) Target() vigie.Target {
	return vigie.Target{Dept: a.Dept, UnitID: a.UnitID, Kind: "security-alert", ID: strconv.FormatInt(a.ID, 10)}
}

// EvidenceJSON returns the evidence as a JSON value for the API.
func (a Alert) EvidenceJSON() json.RawMessage {
	if !json.Valid([]byte(a.Evidence)) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(a.Evidence)
}

// EvidenceLines returns the evidence as sorted key: value lines, for pages.
func (a Alert) EvidenceLines() [][2]string {
	var m map[string]any
	if json.Unmarshal([]byte(a.Evidence), &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// AlertFilter selects alerts.
type AlertFilter struct {
	Status string // "" any, "open" new or acknowledged, or one status
	Limit  int
}

// Alerts lists alerts, most recent activity first. The caller filters by
// what the reader may see (handlers ask the policy for each).
func (s *Shield) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := "SELECT " + alertCols + " FROM shield_alert"
	var args []any
	switch f.Status {
	case "":
	case "open":
		q += " WHERE status <> 'closed'"
	case StatusNew, StatusAcknowledged, StatusClosed:
		q += " WHERE status = ?"
		args = append(args, f.Status)
	default:
		return nil, vigie.Invalidf("shield.Alerts", "Unknown alert status %q (new, acknowledged, closed or open).", clip(f.Status, 40))
	}
	q += " ORDER BY last_at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit)
	return queryAlerts(ctx, s.db, q, args...)
}

// GetAlert returns one alert.
func (s *Shield) GetAlert(ctx context.Context, id int64) (Alert, error) {
	return alertByID(ctx, s.db, id)
}

// Acknowledge records that a security officer has seen the alert and what
// they make of it; closing ends it (a new attack opens a new alert).
func (s *Shield) Acknowledge(ctx context.Context, id int64, comment string, closeIt bool) (Alert, error) {
	const op = "shield.Acknowledge"
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return Alert{}, vigie.Invalidf(op, "Write a comment: what was checked, what was done.")
	}
	if len(comment) > 1000 {
		return Alert{}, vigie.Invalidf(op, "The comment is too long (1000 characters at most).")
	}
	now := db.Millis(s.now())
	by := actorName(ctx)
	var a Alert
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if a, err = alertByID(ctx, tx, id); err != nil {
			return err
		}
		if a.Status == StatusClosed {
			return vigie.E(vigie.KindConflict, op, "This alert is already closed.", nil)
		}
		detail := "acknowledged"
		if a.Status == StatusNew {
			if _, err := tx.Exec(ctx, "UPDATE shield_alert SET status = ?, ack_by = ?, ack_at = ?, ack_comment = ? WHERE id = ?",
				StatusAcknowledged, by, now, comment, id); err != nil {
				return err
			}
		}
		if closeIt {
			detail = "closed"
			if _, err := tx.Exec(ctx, "UPDATE shield_alert SET status = ?, open_key = NULL, closed_by = ?, closed_at = ?, ack_comment = ? WHERE id = ?",
				StatusClosed, by, now, comment, id); err != nil {
				return err
			}
		} else if a.Status != StatusNew {
			if _, err := tx.Exec(ctx, "UPDATE shield_alert SET ack_comment = ? WHERE id = ?", comment, id); err != nil {
				return err
			}
		}
		return s.cfg.Journal.Record(ctx, tx, vigie.Record{Action: vigie.ActAdmin, Object: "security-alert", ObjectID: strconv.FormatInt(id, 10),
			Dept: a.Dept, UnitID: a.UnitID, Detail: clip(detail+": "+comment, 1000)})
	})
	if err != nil {
		return Alert{}, err
	}
	return alertByID(ctx, s.db, id)
}
