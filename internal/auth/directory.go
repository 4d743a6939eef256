package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"vigie"
)

// The directory answers the other areas' few questions about accounts that
// are not consultations of personal data: who can be given work in a unit,
// and where to send a notification. main wires them into the areas.

// Colleagues lists the enabled accounts of a unit that work its records
// (gendarmes, investigators, commanders), by name, for assigning work.
func (a *Auth) Colleagues(ctx context.Context, unit int64) ([]Account, error) {
	enabled := false
	all, err := listUsers(ctx, a.d, Filter{UnitID: unit, Disabled: &enabled})
	if err != nil {
		return nil, fmt.Errorf("auth: colleagues of unit %d: %w", unit, err)
	}
	out := all[:0]
	for _, acc := range all {
		switch acc.Role {
		case vigie.RoleAgent, vigie.RoleInvestigator, vigie.RoleCommander:
			out = append(out, acc)
		}
	}
	slices.SortStableFunc(out, func(x, y Account) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// ContactEmail is the e-mail address of account id, "" when it has none or
// does not exist: notifications are sent to it.
func (a *Auth) ContactEmail(ctx context.Context, id int64) (string, error) {
	u, err := userByID(ctx, a.d, id)
	if vigie.KindOf(err) == vigie.KindNotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return u.Email, nil
}

// AccountByLogin returns the account of login, without authorization: for
// main's own wiring (the demo seeding), never for a request.
func (a *Auth) AccountByLogin(ctx context.Context, login string) (*Account, error) {
	u, err := userByLogin(ctx, a.d, login)
	if err != nil {
		return nil, err
	}
	return &u.Account, nil
}
