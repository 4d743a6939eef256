package casefile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"vigie"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
)

// Kinds of sources of identifiers.
const (
	SourceComplaint = "complaint"
	SourceCase      = "case"
)

// Source is a record that mentions identifiers: a complaint or a case, with
// the unit that holds it.
type Source struct {
	Kind   string `json:"kind"`
	ID     int64  `json:"id"`
	Dept   string `json:"dept"`
	UnitID int64  `json:"unit_id"`
}

// Target is the source as the policy sees it (explicit grants name it).
func (s Source) Target() vigie.Target {
	return vigie.Target{Dept: s.Dept, UnitID: s.UnitID, Kind: s.Kind, ID: strconv.FormatInt(s.ID, 10)}
}

// Links is the linked-identifier index: (kind, value) → the complaints and
// cases that mention it, across units and départements.
type Links struct {
	s *Service
}

// maxHits bounds what one lookup returns (the count is exact).
const maxHits = 200

// Index records that src mentions ids, in the caller's transaction. An
// identifier already recorded for src is not recorded twice. Empty values
// are ignored.
func (l *Links) Index(ctx context.Context, tx *db.Tx, src Source, ids []ident.Identifier) error {
	const op = "casefile.Links.Index"
	if src.Kind != SourceComplaint && src.Kind != SourceCase {
		return vigie.Invalidf(op, "Unknown source kind %q.", src.Kind)
	}
	if src.ID == 0 || src.Dept == "" || src.UnitID == 0 {
		return vigie.Invalidf(op, "The source of identifiers must name its record, département and unit.")
	}
	seen := map[[2]string]bool{}
	now := l.s.now()
	for _, id := range ids {
		key := [2]string{string(id.Kind), id.Value}
		if id.Value == "" || seen[key] {
			continue
		}
		seen[key] = true
		if _, err := tx.Exec(ctx, `INSERT INTO ident_links (kind, value, display, source_kind, source_id, dept, unit_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, value, source_kind, source_id) DO NOTHING`,
			string(id.Kind), id.Value, clip(id.Display, 300), src.Kind, src.ID, src.Dept, src.UnitID, db.Millis(now)); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}

// Move records that src (a complaint transferred to another unit) is now
// held by src.Dept and src.UnitID, in the caller's transaction: the index
// names the new holder, and the pending access requests for src go to it
// (the former holder may no longer decide on them).
func (l *Links) Move(ctx context.Context, tx *db.Tx, src Source) error {
	const op = "casefile.Links.Move"
	if src.Kind != SourceComplaint && src.Kind != SourceCase {
		return vigie.Invalidf(op, "Unknown source kind %q.", src.Kind)
	}
	if src.ID == 0 || src.Dept == "" || src.UnitID == 0 {
		return vigie.Invalidf(op, "The source of identifiers must name its record, département and unit.")
	}
	if _, err := tx.Exec(ctx, `UPDATE ident_links SET dept = ?, unit_id = ? WHERE source_kind = ? AND source_id = ?`,
		src.Dept, src.UnitID, src.Kind, src.ID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE access_requests SET holder_dept = ?, holder_unit = ? WHERE source_kind = ? AND source_id = ? AND status = ?`,
		src.Dept, src.UnitID, src.Kind, src.ID, RequestPending); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Hit is one record that mentions an identifier. Out of the reader's scope
// only the holding unit is told: InScope false, no Path.
type Hit struct {
	Source   Source `json:"source"`
	InScope  bool   `json:"in_scope"`
	UnitName string `json:"unit_name"`
	Path     string `json:"path,omitempty"` // the record's page, in scope only
	Label    string `json:"label"`
}

// Group is one identifier of a record and the other records that mention it.
type Group struct {
	Kind       ident.Kind `json:"kind"`
	Display    string     `json:"display"`
	Complaints int        `json:"complaints"` // other complaints that mention it
	Cases      int        `json:"cases"`      // other cases that mention it
	Hits       []Hit      `json:"hits"`
}

func (g *Group) add(sourceKind string, n int) {
	if sourceKind == SourceComplaint {
		g.Complaints += n
	} else {
		g.Cases += n
	}
}

// Outside reports whether some hits are outside the reader's scope.
func (g Group) Outside() bool {
	for _, h := range g.Hits {
		if !h.InScope {
			return true
		}
	}
	return false
}

type linkRow struct {
	kind, value, display string
	src                  Source
}

// Lookup returns the records that mention an identifier typed by the agent
// (kind and raw value, normalised first), with what the reader may see of
// each. The caller has journaled the search.
func (l *Links) Lookup(ctx context.Context, kind ident.Kind, raw string) (Group, error) {
	const op = "casefile.Links.Lookup"
	u := vigie.UserFrom(ctx)
	if u == nil {
		return Group{}, vigie.ErrUnauthenticated
	}
	if !u.Role.Staff() || u.UnitID == 0 {
		return Group{}, vigie.E(vigie.KindForbidden, op, "Only the members of a unit may search identifiers.", nil)
	}
	id, err := l.s.ident.Normalize(kind, raw)
	if err != nil {
		return Group{}, err
	}
	rows, err := l.s.db.Query(ctx, `SELECT display, source_kind, source_id, dept, unit_id FROM ident_links
		WHERE kind = ? AND value = ? ORDER BY id LIMIT ?`, string(id.Kind), id.Value, maxHits)
	if err != nil {
		return Group{}, fmt.Errorf("%s: %w", op, err)
	}
	var found []linkRow
	for rows.Next() {
		r := linkRow{kind: string(id.Kind), value: id.Value}
		if err := rows.Scan(&r.display, &r.src.Kind, &r.src.ID, &r.src.Dept, &r.src.UnitID); err != nil {
			rows.Close()
			return Group{}, err
		}
		found = append(found, r)
	}
	rows.Close()
	g := Group{Kind: id.Kind, Display: id.Display}
	if err := l.fill(ctx, &g, found); err != nil {
		return Group{}, err
	}
	// Exact counts, whatever the number of hits listed.
	crow, err := l.s.db.Query(ctx, `SELECT source_kind, COUNT(*) FROM ident_links WHERE kind = ? AND value = ?
		GROUP BY source_kind`, string(id.Kind), id.Value)
	if err != nil {
		return Group{}, err
	}
	defer crow.Close()
	for crow.Next() {
		var k string
		var n int
		if err := crow.Scan(&k, &n); err != nil {
			return Group{}, err
		}
		g.add(k, n)
	}
	return g, crow.Err()
}

// fill counts and describes the hits of a group for the reader.
func (l *Links) fill(ctx context.Context, g *Group, rows []linkRow) error {
	if g.Hits == nil {
		g.Hits = []Hit{}
	}
	for _, r := range rows {
		h := Hit{Source: r.src, UnitName: l.s.UnitName(ctx, r.src.UnitID)}
		err := l.s.authz.Check(ctx, vigie.PermRead, r.src.Target())
		switch vigie.KindOf(err) {
		case vigie.KindForbidden:
		case vigie.KindOther:
			if err != nil {
				return err
			}
			h.InScope = true
		default:
			return err
		}
		if h.InScope {
			switch r.src.Kind {
			case SourceCase:
				h.Path = "/cases/" + strconv.FormatInt(r.src.ID, 10)
				h.Label = "Case"
			case SourceComplaint:
				if l.s.cfg.ComplaintPath != nil {
					h.Path = l.s.cfg.ComplaintPath(r.src.ID)
				}
				h.Label = "Complaint"
			}
			h.Label += " " + strconv.FormatInt(r.src.ID, 10)
		} else {
			// SECURITY: outside the reader's scope, only the holding unit
			// is told; the source id stays in the page for the access
			// request button, and says nothing of the content.
			h.Label = map[string]string{SourceCase: "Case", SourceComplaint: "Complaint"}[r.src.Kind]
		}
		g.Hits = append(g.Hits, h)
	}
	return nil
}

// Related returns, for each identifier of a case, the other complaints and
// cases that mention it, with exact counts; at most maxHits records are
// listed in all. The case's own complaint is not "another" record.
func (l *Links) Related(ctx context.Context, c Case) ([]Group, error) {
	return l.related(ctx, Source{Kind: SourceCase, ID: c.ID}, Source{Kind: SourceComplaint, ID: c.ComplaintID})
}

// RelatedToComplaint returns, for each identifier of a complaint, the other
// complaints and cases that mention it, with the same scope rules as a
// case's page. caseID is the complaint's own case file (0: none yet), which
// is not "another" record.
func (l *Links) RelatedToComplaint(ctx context.Context, complaintID, caseID int64) ([]Group, error) {
	return l.related(ctx, Source{Kind: SourceComplaint, ID: complaintID}, Source{Kind: SourceCase, ID: caseID})
}

// related lists the records sharing an identifier with self, except self
// and not (a record that is the same affair: a case and its complaint).
func (l *Links) related(ctx context.Context, self, not Source) ([]Group, error) {
	const join = ` FROM ident_links l1 JOIN ident_links l2 ON l2.kind = l1.kind AND l2.value = l1.value
		WHERE l1.source_kind = ? AND l1.source_id = ? AND NOT (l2.source_kind = l1.source_kind AND l2.source_id = l1.source_id)
		AND NOT (l2.source_kind = ? AND l2.source_id = ?)`
	args := []any{self.Kind, self.ID, not.Kind, not.ID}
	rows, err := l.s.db.Query(ctx, `SELECT l1.kind, l1.value, MIN(l1.display), l2.source_kind, COUNT(*)`+join+`
		GROUP BY l1.kind, l1.value, l2.source_kind ORDER BY l1.kind, l1.value`, args...)
	if err != nil {
		return nil, fmt.Errorf("casefile.Related: %w", err)
	}
	byKey := map[[2]string]*Group{}
	var order [][2]string
	for rows.Next() {
		var k, v, display, sk string
		var n int
		if err := rows.Scan(&k, &v, &display, &sk, &n); err != nil {
			rows.Close()
			return nil, err
		}
		key := [2]string{k, v}
		g, ok := byKey[key]
		if !ok {
			g = &Group{Kind: ident.Kind(k), Display: display}
			byKey[key] = g
			order = append(order, key)
		}
		g.add(sk, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, nil
	}
	rows, err = l.s.db.Query(ctx, `SELECT l1.kind, l1.value, l2.source_kind, l2.source_id, l2.dept, l2.unit_id`+join+`
		ORDER BY l1.kind, l1.value, l2.id LIMIT ?`, append(args, maxHits)...)
	if err != nil {
		return nil, fmt.Errorf("casefile.Related: %w", err)
	}
	hits := map[[2]string][]linkRow{}
	for rows.Next() {
		var r linkRow
		if err := rows.Scan(&r.kind, &r.value, &r.src.Kind, &r.src.ID, &r.src.Dept, &r.src.UnitID); err != nil {
			rows.Close()
			return nil, err
		}
		key := [2]string{r.kind, r.value}
		hits[key] = append(hits[key], r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Group, 0, len(order))
	for _, key := range order {
		g := byKey[key]
		if err := l.fill(ctx, g, hits[key]); err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	// The identifiers that link most come first.
	slices.SortStableFunc(out, func(a, b Group) int { return (b.Complaints + b.Cases) - (a.Complaints + a.Cases) })
	return out, nil
}

// Identifiers returns the identifiers indexed under a case (for its page).
func (l *Links) identifiers(ctx context.Context, caseID int64) ([]ident.Identifier, error) {
	rows, err := l.s.db.Query(ctx, `SELECT kind, value, display FROM ident_links WHERE source_kind = ? AND source_id = ? ORDER BY kind, id`,
		SourceCase, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ident.Identifier
	for rows.Next() {
		var id ident.Identifier
		var k string
		if err := rows.Scan(&k, &id.Value, &id.Display); err != nil {
			return nil, err
		}
		id.Kind = ident.Kind(k)
		out = append(out, id)
	}
	return out, rows.Err()
}

// sharedLink returns the kind and display of an identifier that a record
// (from: a case or a complaint) shares with a source, or ok false when they
// share none.
func sharedLink(ctx context.Context, q querier, from Source, src Source) (kind, display string, holder Source, ok bool, err error) {
	err = q.QueryRow(ctx, `SELECT l1.kind, l1.display, l2.dept, l2.unit_id FROM ident_links l1
		JOIN ident_links l2 ON l2.kind = l1.kind AND l2.value = l1.value
		WHERE l1.source_kind = ? AND l1.source_id = ? AND l2.source_kind = ? AND l2.source_id = ? LIMIT 1`,
		from.Kind, from.ID, src.Kind, src.ID).Scan(&kind, &display, &holder.Dept, &holder.UnitID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", Source{}, false, nil
		}
		return "", "", Source{}, false, err
	}
	holder.Kind, holder.ID = src.Kind, src.ID
	return kind, display, holder, true, nil
}

// KindLabel is the English name of an identifier kind, for pages.
func KindLabel(k ident.Kind) string {
	switch k {
	case ident.KindPhone:
		return "phone number"
	case ident.KindEmail:
		return "e-mail address"
	case ident.KindIBAN:
		return "IBAN"
	case ident.KindPlate:
		return "plate"
	case ident.KindIMEI:
		return "IMEI"
	case ident.KindCard:
		return "bank card"
	case ident.KindURL:
		return "web address"
	case ident.KindDomain:
		return "domain"
	}
	return string(k)
}

// ParseKind reads an identifier kind from a query.
func ParseKind(s string) (ident.Kind, error) {
	k := ident.Kind(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(ident.Kinds, k) {
		return "", vigie.Invalidf("casefile.ParseKind", "Unknown kind of identifier %q: use phone, email, iban, plate, imei, card, url or domain.", s)
	}
	return k, nil
}

// SearchLinks looks an identifier up for the acting user and journals the
// search (an identifier is personal data: a phone, an account) with its
// motif.
func (s *Service) SearchLinks(ctx context.Context, kind, value, motif string) (Group, error) {
	k, err := ParseKind(kind)
	if err != nil {
		return Group{}, err
	}
	g, err := s.links.Lookup(ctx, k, value)
	if err != nil {
		return Group{}, err
	}
	u := actor(ctx)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.j.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "identifier", ObjectID: string(k),
			Dept: u.Dept, UnitID: u.UnitID, Motif: motif,
			Detail: fmt.Sprintf("lookup of a %s: %d complaints, %d cases", KindLabel(k), g.Complaints, g.Cases)})
	})
	return g, err
}

// KindName is the English name of the group's kind, for pages.
func (g Group) KindName() string { return KindLabel(g.Kind) }
