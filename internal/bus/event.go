package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"vigie"
	"vigie/internal/db"
)

// DefaultPrefix is the first token of every Vigie subject.
const DefaultPrefix = "vigie"

// national is the département token of events that belong to no département.
const national = "national"

// typePrefix is the reverse-DNS prefix of CloudEvents types.
const typePrefix = "fr.gendarmerie.vigie."

// Event is a domain event, written to the outbox in the transaction of the
// change it describes and relayed to the bus as a CloudEvent.
type Event struct {
	Dept    string // département code ("01", "2A", "974"); "" means national
	Area    string // "org", "auth", "audit", ...
	Type    string // "unit.created" — the <event> part of the subject
	Subject string // the record the event is about (CloudEvents "subject"), e.g. a unit id
	Data    any    // JSON-marshalable payload
}

// Enqueue writes ev to the outbox in tx (the transaction of the change it
// describes). The relay finds it at its next poll (every 200 ms by default);
// callers that hold an *Outbox wired to the relay get it sent sooner.
func Enqueue(ctx context.Context, tx *db.Tx, ev Event) error {
	return (*Outbox)(nil).Enqueue(ctx, tx, ev)
}

// Outbox writes events to the outbox table. Its zero value (and nil) is
// usable; main wires Wake to Relay.Wake so that a commit wakes the relay at
// once instead of at its next poll. There is no package-level notifier on
// purpose: no global state.
type Outbox struct {
	// Prefix replaces "vigie" as the first subject token (tests use a unique
	// prefix so that runs on a shared NATS server never collide).
	Prefix string
	// Wake, if set, runs after the transaction commits (never on rollback).
	Wake func()
	// Now, if set, replaces time.Now (tests).
	Now func() time.Time
}

// Enqueue writes ev to the outbox in tx, and arranges for o.Wake to run once
// tx has committed.
func (o *Outbox) Enqueue(ctx context.Context, tx *db.Tx, ev Event) error {
	const op = "bus.Enqueue"
	prefix, now := DefaultPrefix, time.Now
	if o != nil {
		if o.Prefix != "" {
			prefix = o.Prefix
		}
		if o.Now != nil {
			now = o.Now
		}
	}
	subject, err := SubjectOf(prefix, ev)
	if err != nil {
		return err
	}
	t := now().UTC().Truncate(time.Millisecond)
	ce, err := newCloudEvent(ev, t)
	if err != nil {
		return vigie.E(vigie.KindInternal, op, "", err)
	}
	payload, err := json.Marshal(ce)
	if err != nil {
		return vigie.E(vigie.KindInternal, op, "", fmt.Errorf("%s %s: marshal: %w", ev.Area, ev.Type, err))
	}
	if _, err := tx.Exec(ctx, insertOutbox, ce.ID, subject, payload, db.Millis(t)); err != nil {
		return vigie.E(vigie.KindInternal, op, "", fmt.Errorf("insert outbox: %w", err))
	}
	if o != nil && o.Wake != nil {
		tx.AfterCommit(o.Wake)
	}
	return nil
}

// SubjectOf returns the NATS subject of ev: <prefix>.<dept>.<area>.<event>,
// with dept "national" when ev.Dept is empty. It rejects tokens that NATS
// would misread (wildcards, dots inside a token, spaces) with KindInvalid.
func SubjectOf(prefix string, ev Event) (string, error) {
	const op = "bus.SubjectOf"
	if !validTokens(prefix) {
		return "", vigie.Invalidf(op, "The subject prefix %q is not valid.", prefix)
	}
	dept := ev.Dept
	if dept == "" {
		dept = national
	}
	if !validDept(dept) {
		return "", vigie.Invalidf(op, "The département code %q is not valid.", ev.Dept)
	}
	if !validToken(ev.Area) {
		return "", vigie.Invalidf(op, "The event area %q is not valid: use lower-case letters, digits, '-' or '_'.", ev.Area)
	}
	if !validTokens(ev.Type) {
		return "", vigie.Invalidf(op, "The event type %q is not valid: use dot-separated words of lower-case letters, digits, '-' or '_'.", ev.Type)
	}
	return prefix + "." + dept + "." + ev.Area + "." + ev.Type, nil
}

// validToken accepts one subject token of lower-case letters, digits, '-'
// and '_' (a strict subset of what NATS allows, so that subjects stay
// readable and never contain wildcards).
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validTokens accepts one or more valid tokens separated by single dots.
func validTokens(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, t := range strings.Split(s, ".") {
		if !validToken(t) {
			return false
		}
	}
	return true
}

// validDept accepts "national" or a département code: 2 or 3 characters,
// digits and the capital letters of Corsica ("2A", "2B").
func validDept(s string) bool {
	if s == national {
		return true
	}
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// newCloudEvent builds the structured CloudEvents 1.0 envelope of ev.
func newCloudEvent(ev Event, t time.Time) (*CloudEvent, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("event id: %w", err)
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: marshal data: %w", ev.Area, ev.Type, err)
	}
	dept := ev.Dept
	if dept == "" {
		dept = national
	}
	return &CloudEvent{
		SpecVersion:     "1.0",
		ID:              id.String(),
		Source:          "/vigie/" + dept + "/" + ev.Area,
		Type:            typePrefix + ev.Area + "." + ev.Type,
		Subject:         ev.Subject,
		Time:            t,
		DataContentType: "application/json",
		Data:            data,
	}, nil
}

const insertOutbox = `INSERT INTO outbox (event_id, subject, payload, created_at) VALUES (?, ?, ?, ?)`
