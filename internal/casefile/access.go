package casefile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/casefile/ident"
	"vigie/internal/db"
)

// Access requests: an agent whose case shares an identifier with a record
// of another unit asks that unit for access. The holding unit's OPJ or
// commander (who may write in that unit) approves, which gives the agent a
// time-limited read grant on that one record (internal/auth's grants), or
// refuses. Every step is journaled.

// Request statuses.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestDenied   = "denied"
)

// AccessRequest is a request for access to a record of another unit.
type AccessRequest struct {
	ID            int64     `json:"id"`
	RequesterID   int64     `json:"requester_id"`
	Requester     string    `json:"requester"`
	RequesterUnit int64     `json:"requester_unit"`
	RequesterDept string    `json:"requester_dept"`
	Source        Source    `json:"source"`
	HolderName    string    `json:"holder_unit_name"`
	RequesterName string    `json:"requester_unit_name"`
	LinkKind      string    `json:"link_kind"`
	FromCase      int64     `json:"from_case"`
	Reason        string    `json:"reason"`
	Status        string    `json:"status"`
	DecidedBy     int64     `json:"decided_by,omitempty"`
	DecidedAt     time.Time `json:"decided_at,omitzero"`
	Note          string    `json:"note,omitempty"`
	GrantID       int64     `json:"grant_id,omitempty"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	CreatedAt     time.Time `json:"created_at"`
}

const requestCols = `id, requester_id, requester, requester_unit, requester_dept, source_kind, source_id, holder_dept,
	holder_unit, link_kind, from_case, reason, status, decided_by, decided_at, decision_note, grant_id, expires_at, created_at`

func scanRequest(s scanner) (AccessRequest, error) {
	var r AccessRequest
	var dec, exp, at int64
	err := s.Scan(&r.ID, &r.RequesterID, &r.Requester, &r.RequesterUnit, &r.RequesterDept, &r.Source.Kind, &r.Source.ID,
		&r.Source.Dept, &r.Source.UnitID, &r.LinkKind, &r.FromCase, &r.Reason, &r.Status, &r.DecidedBy, &dec, &r.Note,
		&r.GrantID, &exp, &at)
	r.DecidedAt, r.ExpiresAt, r.CreatedAt = db.Time(dec), db.Time(exp), db.Time(at)
	return r, err
}

// RequestAccess asks the unit that holds src for access, on the ground of an
// identifier that src shares with the requester's case fromCase.
func (s *Service) RequestAccess(ctx context.Context, fromCase int64, src Source, reason string) (AccessRequest, error) {
	const op = "casefile.RequestAccess"
	reason = strings.TrimSpace(reason)
	if err := checkText(op, "The reason", reason, maxShort, true); err != nil {
		return AccessRequest{}, err
	}
	if src.Kind != SourceCase && src.Kind != SourceComplaint {
		return AccessRequest{}, vigie.Invalidf(op, "Unknown kind of record %q.", src.Kind)
	}
	c, err := s.caseFor(ctx, fromCase, vigie.PermRead)
	if err != nil {
		return AccessRequest{}, err
	}
	return s.requestAccess(ctx, Source{Kind: SourceCase, ID: c.ID}, c.ID, "case "+c.Number, src, reason)
}

// RequestAccessFromComplaint asks the unit that holds src for access, on
// the ground of an identifier that src shares with a complaint the
// requester may read (the agent's page of a complaint not yet accepted has
// no case to ask from). The complaint's current holder comes from
// Config.ComplaintTarget.
func (s *Service) RequestAccessFromComplaint(ctx context.Context, complaintID int64, src Source, reason string) (AccessRequest, error) {
	const op = "casefile.RequestAccess"
	reason = strings.TrimSpace(reason)
	if err := checkText(op, "The reason", reason, maxShort, true); err != nil {
		return AccessRequest{}, err
	}
	if src.Kind != SourceCase && src.Kind != SourceComplaint {
		return AccessRequest{}, vigie.Invalidf(op, "Unknown kind of record %q.", src.Kind)
	}
	if s.cfg.ComplaintTarget == nil {
		return AccessRequest{}, vigie.E(vigie.KindNotFound, op, "This complaint does not exist.", nil)
	}
	t, err := s.cfg.ComplaintTarget(ctx, complaintID)
	if err != nil {
		return AccessRequest{}, err
	}
	if err := s.authz.Check(ctx, vigie.PermRead, t); err != nil {
		return AccessRequest{}, err
	}
	return s.requestAccess(ctx, Source{Kind: SourceComplaint, ID: complaintID}, 0, "complaint "+strconv.FormatInt(complaintID, 10), src, reason)
}

// requestAccess records a request for src on the ground of from (a record
// the requester may read); caseID, if not 0, is the case whose timeline
// tells the request.
func (s *Service) requestAccess(ctx context.Context, from Source, caseID int64, fromLabel string, src Source, reason string) (AccessRequest, error) {
	const op = "casefile.RequestAccess"
	u := actor(ctx)
	var out AccessRequest
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		// SECURITY: the holder is read from the index, never taken from the
		// form, and only a record that shares an identifier with the
		// requester's own case may be asked for.
		kind, _, holder, ok, err := sharedLink(ctx, tx, from, src)
		if err != nil {
			return err
		}
		if !ok {
			return vigie.E(vigie.KindNotFound, op, "This record shares no identifier with yours.", nil)
		}
		if s.authz.Check(ctx, vigie.PermRead, holder.Target()) == nil {
			return vigie.E(vigie.KindConflict, op, "You may already read this record.", nil)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM access_requests WHERE requester_id = ? AND source_kind = ?
			AND source_id = ? AND status = ?`, u.ID, holder.Kind, holder.ID, RequestPending).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return vigie.E(vigie.KindConflict, op, "You already asked for access to this record; the holding unit has not answered yet.", nil)
		}
		now := s.now()
		out = AccessRequest{RequesterID: u.ID, Requester: actorName(u), RequesterUnit: u.UnitID, RequesterDept: u.Dept,
			Source: holder, LinkKind: kind, FromCase: caseID, Reason: reason, Status: RequestPending, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO access_requests (requester_id, requester, requester_unit, requester_dept,
			source_kind, source_id, holder_dept, holder_unit, link_kind, from_case, reason, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, out.RequesterID, out.Requester, out.RequesterUnit,
			out.RequesterDept, holder.Kind, holder.ID, holder.Dept, holder.UnitID, kind, caseID, reason, RequestPending,
			db.Millis(now)).Scan(&out.ID); err != nil {
			return err
		}
		if caseID != 0 {
			if err := appendEvent(ctx, tx, caseID, now, u.ID, actorName(u), "access_requested",
				"access asked to "+s.UnitName(ctx, holder.UnitID)+" ("+KindLabel(ident.Kind(kind))+")"); err != nil {
				return err
			}
		}
		return s.j.Record(ctx, tx, vigie.Record{Action: vigie.ActChange, Object: "access_request",
			ObjectID: strconv.FormatInt(out.ID, 10), Dept: holder.Dept, UnitID: holder.UnitID,
			Detail: "access asked to " + holder.Kind + " " + strconv.FormatInt(holder.ID, 10) + " from " + fromLabel})
	})
	out.HolderName = s.UnitName(ctx, out.Source.UnitID)
	return out, err
}

// canDecide reports whether the acting user may decide on requests held by
// unit: an OPJ or a commander who may write in that unit.
func (s *Service) canDecide(ctx context.Context, holder Source) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if u.Role != vigie.RoleInvestigator && u.Role != vigie.RoleCommander {
		return vigie.E(vigie.KindForbidden, "casefile.DecideAccess", "Only an OPJ or a commander of the holding unit may decide.", nil)
	}
	return s.authz.Check(ctx, vigie.PermWrite, vigie.Target{Dept: holder.Dept, UnitID: holder.UnitID, Kind: holder.Kind,
		ID: strconv.FormatInt(holder.ID, 10)})
}

// AccessRequests returns the acting user's own requests, and the pending
// requests that they may decide.
func (s *Service) AccessRequests(ctx context.Context) (mine, toDecide []AccessRequest, err error) {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return nil, nil, vigie.ErrUnauthenticated
	}
	if !u.Role.Staff() || u.UnitID == 0 {
		return nil, nil, vigie.ErrForbidden
	}
	rows, err := s.db.Query(ctx, `SELECT `+requestCols+` FROM access_requests WHERE requester_id = ? ORDER BY id DESC LIMIT 100`, u.ID)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		r.HolderName = s.UnitName(ctx, r.Source.UnitID)
		mine = append(mine, r)
	}
	rows.Close()
	if u.Role == vigie.RoleInvestigator || u.Role == vigie.RoleCommander {
		below := s.cfg.Tree.Below(u.UnitID)
		if len(below) > 0 {
			q := `SELECT ` + requestCols + ` FROM access_requests WHERE status = ? AND holder_unit IN (` +
				strings.TrimSuffix(strings.Repeat("?, ", len(below)), ", ") + `) ORDER BY id LIMIT 200`
			args := []any{RequestPending}
			for _, b := range below {
				args = append(args, b)
			}
			rows, err := s.db.Query(ctx, q, args...)
			if err != nil {
				return nil, nil, err
			}
			defer rows.Close()
			for rows.Next() {
				r, err := scanRequest(rows)
				if err != nil {
					return nil, nil, err
				}
				if s.canDecide(ctx, r.Source) != nil {
					continue
				}
				r.HolderName = s.UnitName(ctx, r.Source.UnitID)
				r.RequesterName = s.UnitName(ctx, r.RequesterUnit)
				toDecide = append(toDecide, r)
			}
		}
	}
	return mine, toDecide, nil
}

// DecideAccess approves or refuses a pending request. An approval gives the
// requester a read grant on the one record until now + GrantFor.
func (s *Service) DecideAccess(ctx context.Context, id int64, approve bool, note string) (AccessRequest, error) {
	const op = "casefile.DecideAccess"
	note = strings.TrimSpace(note)
	if err := checkText(op, "The comment", note, maxShort, false); err != nil {
		return AccessRequest{}, err
	}
	r, err := scanRequest(s.db.QueryRow(ctx, `SELECT `+requestCols+` FROM access_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return AccessRequest{}, vigie.E(vigie.KindNotFound, op, "No such access request.", err)
	}
	if err != nil {
		return AccessRequest{}, err
	}
	if err := s.canDecide(ctx, r.Source); err != nil {
		return AccessRequest{}, err
	}
	if r.Status != RequestPending {
		return AccessRequest{}, vigie.E(vigie.KindConflict, op, "This request was already decided.", nil)
	}
	if approve && s.cfg.Grant == nil {
		return AccessRequest{}, vigie.E(vigie.KindUnavailable, op, "Access cannot be granted: grants are not wired.", nil)
	}
	u := actor(ctx)
	now := s.now()
	status := RequestDenied
	var grantID int64
	var expires time.Time
	if approve {
		status = RequestApproved
		expires = now.Add(s.cfg.GrantFor)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if approve {
			// The grant and the decision commit together, or neither does.
			var err error
			grantID, err = s.cfg.Grant(ctx, tx, r.RequesterID, r.Source.Kind, strconv.FormatInt(r.Source.ID, 10), expires,
				fmt.Sprintf("access request %d approved by %s: %s", r.ID, u.Login, r.Reason))
			if err != nil {
				return fmt.Errorf("%s: grant: %w", op, err)
			}
		}
		res, err := tx.Exec(ctx, `UPDATE access_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?,
			grant_id = ?, expires_at = ? WHERE id = ? AND status = ?`, status, u.ID, db.Millis(now), note, grantID,
			db.Millis(expires), r.ID, RequestPending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return vigie.E(vigie.KindConflict, op, "This request was already decided.", nil)
		}
		action, detail := vigie.ActChange, "access refused to "+r.Requester
		if approve {
			// Sharing a record with another unit is a communication of
			// personal data.
			action, detail = vigie.ActCommunicate, "access granted to "+r.Requester+" until "+expires.Format(time.DateOnly)
		}
		if r.Source.Kind == SourceCase {
			if err := appendEvent(ctx, tx, r.Source.ID, now, u.ID, actorName(u), "access_"+status, detail); err != nil {
				return err
			}
		}
		if r.FromCase != 0 { // 0: asked from a complaint page
			if err := appendEvent(ctx, tx, r.FromCase, now, u.ID, actorName(u), "access_"+status,
				"request to "+s.UnitName(ctx, r.Source.UnitID)+": "+status); err != nil {
				return err
			}
		}
		return s.j.Record(ctx, tx, vigie.Record{Action: action, Object: r.Source.Kind, ObjectID: strconv.FormatInt(r.Source.ID, 10),
			Dept: r.Source.Dept, UnitID: r.Source.UnitID, Detail: "access request " + strconv.FormatInt(r.ID, 10) + ": " + detail})
	})
	if err != nil {
		return AccessRequest{}, err
	}
	r.Status, r.DecidedBy, r.DecidedAt, r.Note, r.GrantID, r.ExpiresAt = status, u.ID, now, note, grantID, expires
	return r, nil
}

// LinkKindName is the English name of the shared identifier's kind.
func (r AccessRequest) LinkKindName() string { return KindLabel(ident.Kind(r.LinkKind)) }
