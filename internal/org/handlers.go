package org

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"vigie"
	"vigie/internal/web"
)

// authorizer decides whether the acting user may do something
// (internal/auth's policy; main wires it).
type authorizer interface {
	Check(ctx context.Context, p vigie.Perm, t vigie.Target) error
}

//go:embed all:templates
var templates embed.FS

// Handler serves the organisation pages and API.
type Handler struct {
	svc  *Service
	auth authorizer
}

// NewHandler returns the handler of the organisation area.
func NewHandler(svc *Service, auth authorizer) *Handler {
	return &Handler{svc: svc, auth: auth}
}

// Register adds the area's templates, menu entry and routes to s. The
// templates are embedded and tested: a failure here is a programming error.
func (h *Handler) Register(s *web.Server) {
	sub, _ := fs.Sub(templates, "templates")
	if err := s.AddTemplates("org", sub); err != nil {
		panic(fmt.Sprintf("org: templates: %v", err))
	}
	s.AddNav(web.NavItem{Path: "/admin/org", Label: "Organisation", Roles: []vigie.Role{vigie.RoleAdmin}})

	s.Route("GET /admin/org", h.pageIndex(s))
	s.Route("GET /admin/org/import", h.pageImport(s))
	s.FormRoute("POST /admin/org/import", h.formImport)
	s.Route("GET /admin/org/{dept}", h.pageDept(s))
	s.FormRoute("POST /admin/org/units", h.formCreateUnit)
	s.Route("GET /admin/org/units/{id}", h.pageUnit(s))
	s.FormRoute("POST /admin/org/units/{id}", h.formUpdateUnit)
	s.FormRoute("POST /admin/org/units/{id}/delete", h.formDeleteUnit)
	s.FormRoute("POST /admin/org/units/{id}/communes", h.formTerritory)

	s.Route("GET /api/v1/departements", h.apiDepts)
	s.Route("POST /api/v1/departements", h.apiCreateDept)
	s.Route("GET /api/v1/departements/{code}", h.apiDept)
	s.Route("GET /api/v1/units", h.apiUnits)
	s.Route("POST /api/v1/units", h.apiCreateUnit)
	s.Route("GET /api/v1/units/{id}", h.apiUnit)
	s.Route("PATCH /api/v1/units/{id}", h.apiUpdateUnit)
	s.Route("DELETE /api/v1/units/{id}", h.apiDeleteUnit)
	s.Route("PUT /api/v1/units/{id}/communes", h.apiTerritory)
	s.Route("GET /api/v1/route", h.apiRoute)
}

// staff lets any signed-in member of the force through: the unit tree and
// routing are not personal data, every service needs them.
func staff(ctx context.Context) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if !u.Role.Staff() {
		return vigie.ErrForbidden
	}
	return nil
}

// canAdmin asks the policy whether the actor may change the organisation
// of dept at unit (0: département-wide).
func (h *Handler) canAdmin(ctx context.Context, dept string, unit int64) error {
	if err := staff(ctx); err != nil {
		return err
	}
	t := vigie.Target{Dept: dept, UnitID: unit, Kind: "unit"}
	if unit != 0 {
		t.ID = strconv.FormatInt(unit, 10)
	}
	return h.auth.Check(ctx, vigie.PermOrgAdmin, t)
}

// unitToAdmin loads the unit named in the path and checks that the actor
// may administer it.
func (h *Handler) unitToAdmin(r *http.Request) (Unit, error) {
	id, err := pathID(r)
	if err != nil {
		return Unit{}, err
	}
	u, err := h.svc.Unit(r.Context(), id)
	if err != nil {
		return Unit{}, err
	}
	return u, h.canAdmin(r.Context(), u.Dept, u.ID)
}

// deleteUnit deletes the unit named in the path, for an actor who may
// administer it (page and API share it).
func (h *Handler) deleteUnit(r *http.Request) (Unit, error) {
	u, err := h.unitToAdmin(r)
	if err != nil {
		return Unit{}, err
	}
	return u, h.svc.DeleteUnit(r.Context(), u.ID)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.Invalidf("org.unit", "The unit number %q is not valid.", r.PathValue("id"))
	}
	return id, nil
}

// formID reads an optional unit number from a form field.
func formID(r *http.Request, field string) (int64, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, vigie.Invalidf("org.form", "The unit number %q is not valid.", v)
	}
	return id, nil
}

type indexPage struct {
	Departements []Departement
}

func (h *Handler) pageIndex(s *web.Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		if err := staff(ctx); err != nil {
			return err
		}
		all, err := h.svc.Departements(ctx)
		if err != nil {
			return err
		}
		// Show the départements the actor administers.
		var mine []Departement
		for _, d := range all {
			if h.canAdmin(ctx, d.Code, 0) == nil {
				mine = append(mine, d)
			}
		}
		if len(mine) == 0 && h.canAdmin(ctx, "", 0) != nil {
			return vigie.E(vigie.KindForbidden, "org.index", "You do not administer any département.", nil)
		}
		return s.Render(w, r, "org/index.html", indexPage{Departements: mine})
	}
}

type treeNode2 struct {
	Unit     Unit
	Colour   string
	Children []*treeNode2
}

type deptPage struct {
	Dept       Departement
	Map        template.HTML
	Tree       []*treeNode2
	Parents    []Unit // groupements and compagnies, for the "add a unit" form
	Unassigned []Commune
}

func (h *Handler) pageDept(s *web.Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		code := strings.ToUpper(r.PathValue("dept"))
		if err := h.canAdmin(ctx, code, 0); err != nil {
			return err
		}
		d, err := h.svc.Departement(ctx, code)
		if err != nil {
			return err
		}
		units, err := h.svc.Units(ctx, code)
		if err != nil {
			return err
		}
		communes, err := h.svc.Communes(ctx, code, true)
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, u := range units {
			names[u.ID] = u.Name
		}
		title := web.Tf(web.Lang(r), "Map of the brigade territories of %s", d.Name)
		svg, colours := drawMap(title, communes, names)
		p := deptPage{Dept: d, Map: svg}
		nodes := map[int64]*treeNode2{}
		for _, u := range units {
			nodes[u.ID] = &treeNode2{Unit: u, Colour: colours[u.ID]}
			if u.Kind != Brigade {
				p.Parents = append(p.Parents, u)
			}
		}
		for _, u := range units { // listUnits orders groupements, compagnies, brigades
			if parent, ok := nodes[u.ParentID]; ok {
				parent.Children = append(parent.Children, nodes[u.ID])
			} else {
				p.Tree = append(p.Tree, nodes[u.ID])
			}
		}
		for _, c := range communes {
			if c.BrigadeID == 0 {
				c.Geometry = ""
				p.Unassigned = append(p.Unassigned, c)
			}
		}
		return s.Render(w, r, "org/dept.html", p)
	}
}

type unitPage struct {
	Unit     Unit
	Parent   *Unit
	Parents  []Unit // possible new parents
	Communes []Commune
	INSEE    string // the territory as text, one code per line
}

func (h *Handler) pageUnit(s *web.Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		u, err := h.unitToAdmin(r)
		if err != nil {
			return err
		}
		p := unitPage{Unit: u}
		units, err := h.svc.Units(ctx, u.Dept)
		if err != nil {
			return err
		}
		for _, o := range units {
			if o.ID == u.ParentID {
				p.Parent = &o
			}
			if o.Kind == u.Kind.ParentKind() {
				p.Parents = append(p.Parents, o)
			}
		}
		if u.Kind == Brigade {
			if p.Communes, err = h.svc.Territory(ctx, u.ID); err != nil {
				return err
			}
			var codes []string
			for _, c := range p.Communes {
				codes = append(codes, c.INSEE)
			}
			p.INSEE = strings.Join(codes, "\n")
		}
		return s.Render(w, r, "org/unit.html", p)
	}
}

func (h *Handler) formCreateUnit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	parentID, err := formID(r, "parent_id")
	if err != nil {
		return err
	}
	u := Unit{Dept: strings.ToUpper(r.PostFormValue("dept")), Kind: Kind(r.PostFormValue("kind")), ParentID: parentID,
		Name: r.PostFormValue("name"), Code: r.PostFormValue("code")}
	if err := h.authorizeCreate(ctx, &u); err != nil {
		return err
	}
	u, err = h.svc.CreateUnit(ctx, u)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/org/units/%d", u.ID), http.StatusSeeOther)
	return nil
}

// authorizeCreate checks the actor may add u under its parent, and takes
// the département from the parent.
func (h *Handler) authorizeCreate(ctx context.Context, u *Unit) error {
	if u.ParentID != 0 {
		p, err := h.svc.Unit(ctx, u.ParentID)
		if vigie.KindOf(err) == vigie.KindNotFound {
			return vigie.Invalidf("org.CreateUnit", "The parent unit %d does not exist.", u.ParentID)
		} else if err != nil {
			return err
		}
		if u.Dept == "" {
			u.Dept = p.Dept
		}
		return h.canAdmin(ctx, p.Dept, p.ID)
	}
	return h.canAdmin(ctx, u.Dept, 0)
}

// authorizeUpdate checks the actor may change unit id, and, when it moves,
// may also place it under its new parent.
func (h *Handler) authorizeUpdate(ctx context.Context, id int64, c UnitChange) error {
	u, err := h.svc.Unit(ctx, id)
	if err != nil {
		return err
	}
	if err := h.canAdmin(ctx, u.Dept, u.ID); err != nil {
		return err
	}
	if c.ParentID != nil && *c.ParentID != 0 && *c.ParentID != u.ParentID {
		p, err := h.svc.Unit(ctx, *c.ParentID)
		if vigie.KindOf(err) == vigie.KindNotFound {
			return vigie.Invalidf("org.UpdateUnit", "The new parent unit %d does not exist.", *c.ParentID)
		} else if err != nil {
			return err
		}
		return h.canAdmin(ctx, p.Dept, p.ID)
	}
	return nil
}

func (h *Handler) formUpdateUnit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var c UnitChange
	if r.PostForm == nil {
		r.ParseForm()
	}
	if _, ok := r.PostForm["name"]; ok {
		name := r.PostFormValue("name")
		c.Name = &name
	}
	if _, ok := r.PostForm["code"]; ok {
		code := r.PostFormValue("code")
		c.Code = &code
	}
	if _, ok := r.PostForm["parent_id"]; ok {
		p, err := formID(r, "parent_id")
		if err != nil {
			return err
		}
		c.ParentID = &p
	}
	if err := h.authorizeUpdate(ctx, id, c); err != nil {
		return err
	}
	if _, err := h.svc.UpdateUnit(ctx, id, c); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/org/units/%d", id), http.StatusSeeOther)
	return nil
}

func (h *Handler) formDeleteUnit(w http.ResponseWriter, r *http.Request) error {
	u, err := h.deleteUnit(r)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/org/"+u.Dept, http.StatusSeeOther)
	return nil
}

// territoryTarget checks the actor may set a brigade's territory. Communes
// may move from another brigade of the département, so this is a
// département-wide permission.
func (h *Handler) territoryTarget(ctx context.Context, id int64) error {
	u, err := h.svc.Unit(ctx, id)
	if err != nil {
		return err
	}
	return h.canAdmin(ctx, u.Dept, 0)
}

func (h *Handler) formTerritory(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.territoryTarget(ctx, id); err != nil {
		return err
	}
	codes := strings.FieldsFunc(r.PostFormValue("communes"), func(c rune) bool {
		return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
	})
	if err := h.svc.SetTerritory(ctx, id, codes); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/org/units/%d", id), http.StatusSeeOther)
	return nil
}

func (h *Handler) pageImport(s *web.Server) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := staff(r.Context()); err != nil {
			return err
		}
		return s.Render(w, r, "org/import.html", nil)
	}
}

// maxImportBytes bounds an uploaded import (the largest pilot département's
// communes weigh under 1 MB; 64 MB leaves room for detailed geometry).
const maxImportBytes = 64 << 20

func (h *Handler) formImport(w http.ResponseWriter, r *http.Request) error {
	const op = "org.Import"
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBytes)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return vigie.E(vigie.KindInvalid, op, "The form could not be read; the files may be too large (64 MB at most).", err)
	}
	d := Departement{Code: strings.ToUpper(strings.TrimSpace(r.FormValue("code"))), Name: r.FormValue("name"),
		Region: r.FormValue("region"), Zone: r.FormValue("zone"), TimeZone: r.FormValue("time_zone")}
	if err := h.canAdmin(ctx, d.Code, 0); err != nil {
		return err
	}
	geo, err := formFile(r, "communes")
	if err != nil {
		return err
	}
	if geo == nil {
		return vigie.Invalidf(op, "Choose the GeoJSON file of the communes.")
	}
	pop, err := formFile(r, "population")
	if err != nil {
		return err
	}
	if _, err := h.svc.ImportDepartement(ctx, d, geo, pop); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/org/"+d.Code, http.StatusSeeOther)
	return nil
}

func formFile(r *http.Request, field string) ([]byte, error) {
	f, _, err := r.FormFile(field)
	if err == http.ErrMissingFile {
		return nil, nil
	}
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, "org.Import", "The file could not be read.", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, vigie.E(vigie.KindInvalid, "org.Import", "The file could not be read.", err)
	}
	return b, nil
}
