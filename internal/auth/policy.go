package auth

import (
	"context"
	"time"

	"vigie"
	"vigie/internal/db"
)

// UnitTree answers the questions the policy asks about the organisation
// (internal/org implements it). Within(u, u) is true.
type UnitTree interface {
	Within(unit, ancestor int64) bool
	Dept(unit int64) string
}

// deptRooted is optionally implemented by the UnitTree: it tells whether a
// unit is the top unit of its département (the groupement), whose members
// see département-wide records. A tree without it makes no unit so.
type deptRooted interface {
	IsDeptRoot(unit int64) bool
}

// Grant is an explicit permission given to one account outside the role
// rules: on one record (Kind+ID) or on a unit's subtree (UnitID).
type Grant struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"user_id"`
	Perm      vigie.Perm `json:"perm"`
	Kind      string     `json:"target_kind,omitempty"`
	TargetID  string     `json:"target_id,omitempty"`
	UnitID    int64      `json:"unit_id,omitempty"`
	Reason    string     `json:"reason"`
	GrantedBy int64      `json:"granted_by"`
	ExpiresAt time.Time  `json:"expires_at"`
}

// Policy is THE authorization policy of Vigie: every area asks it, through
// a one-method interface of its own, whether the acting user may do perm
// on a target. Rules by role come first (allowed, a pure function); grants
// are consulted only when the rules say no. Deny by default.
type Policy struct {
	tree UnitTree
	d    *db.DB // nil: no explicit grants
	now  func() time.Time
}

// NewPolicy returns the policy over the unit tree, with the explicit grants
// of the database d (nil: rules only, for tests and tools).
func NewPolicy(d *db.DB, tree UnitTree) *Policy {
	return &Policy{tree: tree, d: d, now: time.Now}
}

// Check returns nil when the acting user of ctx may do perm on t,
// vigie.ErrUnauthenticated when nobody is signed in, and a KindForbidden
// error otherwise.
func (p *Policy) Check(ctx context.Context, perm vigie.Perm, t vigie.Target) error {
	u := vigie.UserFrom(ctx)
	if u == nil || u.ID == 0 {
		return vigie.ErrUnauthenticated
	}
	if p.allowed(u, perm, t) {
		return nil
	}
	if p.d != nil {
		gs, err := grantsFor(ctx, p.d, u.ID, perm, p.now())
		if err != nil {
			return vigie.E(vigie.KindUnavailable, "auth.Check", "Permissions cannot be checked right now; please try again.", err)
		}
		for _, g := range gs {
			if p.grantCovers(g, t) {
				return nil
			}
		}
	}
	return vigie.E(vigie.KindForbidden, "auth.Check", "You are not allowed to do this.",
		&denied{user: u.ID, perm: perm, target: t})
}

type denied struct {
	user   int64
	perm   vigie.Perm
	target vigie.Target
}

func (d *denied) Error() string {
	return "user " + itoa(d.user) + " denied " + string(d.perm) + " on " + d.target.Kind + " " + d.target.ID +
		" (dept " + d.target.Dept + ", unit " + itoa(d.target.UnitID) + ")"
}

// allowed is the rule table. SECURITY: this is the one place where roles
// turn into rights; keep it readable top to bottom.
func (p *Policy) allowed(u *vigie.User, perm vigie.Perm, t vigie.Target) bool {
	switch u.Role {
	case vigie.RoleCitizen:
		// Citizens reach only what they own.
		return (perm == vigie.PermRead || perm == vigie.PermWrite) && t.OwnerID != 0 && t.OwnerID == u.ID
	case vigie.RoleAgent, vigie.RoleInvestigator:
		// A brigade sees only itself.
		return isUnitWork(perm) && u.UnitID != 0 && t.UnitID == u.UnitID && p.sameDept(t)
	case vigie.RoleCommander:
		return isUnitWork(perm) && u.UnitID != 0 && p.inSubtree(u, t)
	case vigie.RoleAnalyst:
		return perm == vigie.PermStats && u.UnitID != 0 && p.inSubtree(u, t)
	case vigie.RoleSecurity:
		return (perm == vigie.PermJournalRead || perm == vigie.PermJournalExport || perm == vigie.PermSecurity) && p.inScope(u, t)
	case vigie.RoleAdmin:
		// Administrators manage the organisation and its accounts, never
		// read case records (that needs an explicit grant).
		// They also run the security centre of their scope (alerts,
		// bans, firewall rules).
		return (perm == vigie.PermOrgAdmin || perm == vigie.PermUserAdmin || perm == vigie.PermSecurity) && p.inDept(u, t)
	case vigie.RoleTrainer:
		return perm == vigie.PermTraining
	}
	return false
}

func isUnitWork(perm vigie.Perm) bool {
	return perm == vigie.PermRead || perm == vigie.PermWrite || perm == vigie.PermStats
}

// sameDept: a target that names both a unit and a département must agree
// with the tree; a mismatch is a bug or a forgery, and is refused.
func (p *Policy) sameDept(t vigie.Target) bool {
	return t.Dept == "" || t.UnitID == 0 || p.tree.Dept(t.UnitID) == t.Dept
}

// deptRoot reports whether unit is the top unit of its département.
func (p *Policy) deptRoot(unit int64) bool {
	r, ok := p.tree.(deptRooted)
	return ok && unit != 0 && r.IsDeptRoot(unit)
}

// inSubtree: the target's unit lies under the user's unit; département-wide
// targets (UnitID 0) only for members of the département's top unit.
func (p *Policy) inSubtree(u *vigie.User, t vigie.Target) bool {
	if !p.sameDept(t) {
		return false
	}
	if t.UnitID != 0 {
		return p.tree.Within(t.UnitID, u.UnitID)
	}
	return t.Dept != "" && p.deptRoot(u.UnitID) && p.tree.Dept(u.UnitID) == t.Dept
}

// inScope is the scope of a security officer: national without unit or
// département, département-wide with a département and no unit, else the
// subtree of the unit.
func (p *Policy) inScope(u *vigie.User, t vigie.Target) bool {
	switch {
	case u.UnitID == 0 && u.Dept == "":
		return true
	case u.UnitID == 0:
		return p.sameDept(t) && p.targetDept(t) == u.Dept
	}
	return p.inSubtree(u, t)
}

// inDept is the scope of an administrator: national without unit or
// département, else the whole département of the account.
func (p *Policy) inDept(u *vigie.User, t vigie.Target) bool {
	if u.UnitID == 0 && u.Dept == "" {
		return true
	}
	dept := u.Dept
	if u.UnitID != 0 {
		dept = p.tree.Dept(u.UnitID)
	}
	return dept != "" && p.sameDept(t) && p.targetDept(t) == dept
}

// targetDept is the département of a target ("" for national records).
func (p *Policy) targetDept(t vigie.Target) string {
	if t.UnitID != 0 {
		return p.tree.Dept(t.UnitID)
	}
	return t.Dept
}

// grantCovers reports whether an explicit grant reaches the target.
func (p *Policy) grantCovers(g Grant, t vigie.Target) bool {
	if g.Kind != "" && g.TargetID != "" && g.Kind == t.Kind && g.TargetID == t.ID {
		return true
	}
	return g.UnitID != 0 && t.UnitID != 0 && p.sameDept(t) && p.tree.Within(t.UnitID, g.UnitID)
}
