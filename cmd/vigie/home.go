package main

import (
	"context"
	"embed"
	"io/fs"
	"net/http"

	"vigie"
	"vigie/internal/org"
	"vigie/internal/web"
)

// The home page gathers the entry points of every area for the signed-in
// user's role; it lives in main because it is the one place that knows all
// areas.
//
//go:embed templates
var templates embed.FS

type homeLink struct {
	Path, Title, Desc string
}

var roleNames = map[vigie.Role]string{
	vigie.RoleCitizen: "Citizen", vigie.RoleAgent: "Gendarme", vigie.RoleInvestigator: "Investigator (OPJ)",
	vigie.RoleCommander: "Commander", vigie.RoleAnalyst: "Analyst", vigie.RoleSecurity: "Security officer",
	vigie.RoleAdmin: "Administrator", vigie.RoleTrainer: "Trainer",
}

func homeLinks(u *vigie.User) []homeLink {
	if u == nil {
		return nil
	}
	links := []homeLink{{"/account", "My account", "Sessions, API tokens, multi-factor authentication."}}
	switch u.Role {
	case vigie.RoleAdmin:
		links = append(links,
			homeLink{"/admin/org", "Organisation", "Départements, units and the territory of each brigade."},
			homeLink{"/admin/users", "Accounts", "Create accounts, assign roles and units, reset MFA."})
	case vigie.RoleSecurity:
		links = append(links, homeLink{"/audit", "Journal", "Who consulted what, when and why; verification of the journal."})
	}
	return links
}

// unitNamer names a unit for the home page (internal/org satisfies it).
type unitNamer interface {
	Unit(ctx context.Context, id int64) (org.Unit, error)
}

func registerHome(s *web.Server, units unitNamer) error {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		return err
	}
	if err := s.AddTemplates("home", sub); err != nil {
		return err
	}
	s.Route("GET /{$}", func(w http.ResponseWriter, r *http.Request) error {
		u := vigie.UserFrom(r.Context())
		data := map[string]any{"Links": homeLinks(u)}
		if u != nil && u.UnitID != 0 {
			if unit, err := units.Unit(r.Context(), u.UnitID); err == nil {
				data["Unit"] = unit
			}
		}
		if u != nil {
			data["Role"] = roleNames[u.Role]
		}
		return s.Render(w, r, "home/home.html", data)
	})
	return nil
}
