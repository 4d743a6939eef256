package audit

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigie"
)

// Query is a search of the journal. Zero fields do not filter. Results are
// newest first, paginated by seq: Before is the seq of the last entry of the
// previous page.
type Query struct {
	Actor    string    `json:"actor,omitempty"` // login
	ActorID  int64     `json:"actor_id,omitempty"`
	Object   string    `json:"object,omitempty"`
	ObjectID string    `json:"object_id,omitempty"`
	Action   string    `json:"action,omitempty"`
	Motif    string    `json:"motif,omitempty"`
	Dept     string    `json:"dept,omitempty"`
	UnitID   int64     `json:"unit_id,omitempty"`
	From     time.Time `json:"from,omitzero"` // inclusive
	To       time.Time `json:"to,omitzero"`   // exclusive
	Before   int64     `json:"before,omitempty"`
	Limit    int       `json:"limit,omitempty"`
}

// Page sizes of a search.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

var deptRE = regexp.MustCompile(`^(?:[0-9]{2,3}|2[AB])$`)

// paris is where dates typed in a search form are meant.
var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}()

// ParseQuery reads a search from URL values (a form or a query string):
// actor, actor_id, object, object_id, action, motif, dept, unit, from, to
// (dates YYYY-MM-DD, Paris time, "to" inclusive, or RFC 3339 instants),
// before, limit. It returns a KindInvalid error that names the bad field.
func ParseQuery(v url.Values) (Query, error) {
	const op = "audit.ParseQuery"
	q := Query{Limit: DefaultLimit}
	text := func(name string) (string, error) {
		s := strings.TrimSpace(v.Get(name))
		if len(s) > maxShort || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n") {
			return "", vigie.Invalidf(op, "The search field %q is too long or not valid text.", name)
		}
		return s, nil
	}
	num := func(name string) (int64, error) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, vigie.Invalidf(op, "The search field %q must be a positive whole number.", name)
		}
		return n, nil
	}
	var err error
	if q.Actor, err = text("actor"); err != nil {
		return q, err
	}
	if q.Object, err = text("object"); err != nil {
		return q, err
	}
	if q.ObjectID, err = text("object_id"); err != nil {
		return q, err
	}
	if q.Motif, err = text("motif_filter"); err != nil {
		return q, err
	}
	if q.Action, err = text("action"); err != nil {
		return q, err
	}
	if q.Action != "" && !ValidAction(q.Action) {
		return q, vigie.Invalidf(op, "Unknown action %q.", q.Action)
	}
	if q.Dept, err = text("dept"); err != nil {
		return q, err
	}
	q.Dept = strings.ToUpper(q.Dept)
	if q.Dept != "" && !deptRE.MatchString(q.Dept) {
		return q, vigie.Invalidf(op, "The département %q is not a département code (e.g. 75, 2A, 974).", q.Dept)
	}
	if q.ActorID, err = num("actor_id"); err != nil {
		return q, err
	}
	if q.UnitID, err = num("unit"); err != nil {
		return q, err
	}
	if q.Before, err = num("before"); err != nil {
		return q, err
	}
	limit, err := num("limit")
	if err != nil {
		return q, err
	}
	if limit > 0 {
		q.Limit = int(min(limit, MaxLimit))
	}
	if q.From, err = parseDate(v.Get("from"), false); err != nil {
		return q, vigie.Invalidf(op, "The start date must look like 2026-01-31.")
	}
	if q.To, err = parseDate(v.Get("to"), true); err != nil {
		return q, vigie.Invalidf(op, "The end date must look like 2026-01-31.")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, vigie.Invalidf(op, "The start date must come before the end date.")
	}
	return q, nil
}

// parseDate reads a day (the day after it when end, so that "to" includes
// the whole day) or an RFC 3339 instant.
func parseDate(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, paris)
	if err == nil && end {
		t = t.AddDate(0, 0, 1)
	}
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	// Before 1970 or after 9999 cannot round-trip through Unix milliseconds
	// and RFC 3339; nobody searches the journal there.
	if err != nil || t.Year() < 1970 || t.Year() > 9998 {
		return time.Time{}, vigie.Invalidf("audit.parseDate", "bad date")
	}
	return t, nil
}

// Values encodes q back into URL values (for links to the next page and
// to exports), the inverse of ParseQuery.
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	num := func(k string, n int64) {
		if n != 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	set("actor", q.Actor)
	num("actor_id", q.ActorID)
	set("object", q.Object)
	set("object_id", q.ObjectID)
	set("action", q.Action)
	set("motif_filter", q.Motif)
	set("dept", q.Dept)
	num("unit", q.UnitID)
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339))
	}
	num("before", q.Before)
	if q.Limit != DefaultLimit && q.Limit != 0 {
		num("limit", int64(q.Limit))
	}
	return v
}
