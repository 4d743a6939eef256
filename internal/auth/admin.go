package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"vigie"
	"vigie/internal/web"
)

// Account administration: pages under /admin/users and the JSON API under
// /api/v1/users. Every action asks the policy for PermUserAdmin on the
// account's unit or département (inside the Auth methods) and is journaled.

func (h *handler) registerAdmin() {
	s := h.s
	s.Route("GET /admin/users", h.usersPage)
	s.Route("GET /admin/users/new", h.newUserPage)
	s.Route("POST /admin/users", h.createUserForm)
	s.Route("GET /admin/users/{id}", h.userPage)
	s.Route("POST /admin/users/{id}", h.updateUserForm)
	s.Route("POST /admin/users/{id}/{action}", h.userActionForm)

	s.Route("GET /api/v1/users", h.apiList)
	s.Route("POST /api/v1/users", h.apiCreate)
	s.Route("GET /api/v1/users/{id}", h.apiGet)
	s.Route("PATCH /api/v1/users/{id}", h.apiUpdate)
	s.Route("POST /api/v1/users/{id}/disable", h.apiAction("disable"))
	s.Route("POST /api/v1/users/{id}/enable", h.apiAction("enable"))
	s.Route("POST /api/v1/users/{id}/reset-mfa", h.apiAction("reset-mfa"))
}

// accountInPath returns the account id of the path, for a signed-in actor
// (whose right on that account the service then checks).
func accountInPath(r *http.Request) (int64, error) {
	if err := Require(r.Context()); err != nil {
		return 0, err
	}
	return pathID(r)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, vigie.E(vigie.KindNotFound, "auth.pathID", "Not found.", err)
	}
	return id, nil
}

// parseFilter reads the listing filters of a query string.
func parseFilter(q url.Values) (Filter, error) {
	f := Filter{Query: strings.TrimSpace(q.Get("q")), Role: vigie.Role(q.Get("role")), Dept: strings.TrimSpace(q.Get("dept"))}
	if f.Role != "" && !f.Role.Valid() {
		return f, vigie.Invalidf("auth.filter", "Unknown role.")
	}
	if s := q.Get("unit"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return f, vigie.Invalidf("auth.filter", "The unit must be a number.")
		}
		f.UnitID = n
	}
	switch q.Get("status") {
	case "":
	case "disabled":
		t := true
		f.Disabled = &t
	case "active":
		t := false
		f.Disabled = &t
	default:
		return f, vigie.Invalidf("auth.filter", "Unknown status.")
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return f, vigie.Invalidf("auth.filter", "The offset must be a positive number.")
		}
		f.Offset = n
	}
	f.Limit = 200
	return f, nil
}

type usersData struct {
	Users  []Account
	Filter Filter
	Status string
	Roles  []roleOption
}

// listUsers lists the accounts matching the query's filters (page and API
// share it).
func (h *handler) listUsers(r *http.Request) ([]Account, Filter, error) {
	if err := Require(r.Context()); err != nil {
		return nil, Filter{}, err
	}
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		return nil, f, err
	}
	users, err := h.a.ListUsers(r.Context(), f)
	return users, f, err
}

func (h *handler) usersPage(w http.ResponseWriter, r *http.Request) error {
	users, f, err := h.listUsers(r)
	if err != nil {
		return err
	}
	return h.s.Render(w, r, "auth/users.html", usersData{Users: users, Filter: f, Status: r.URL.Query().Get("status"), Roles: roleOptions()})
}

type userData struct {
	User       *Account
	Form       NewUser
	Roles      []roleOption
	Enrollment *Enrollment
	Error      string
	Done       string
}

func (h *handler) newUserPage(w http.ResponseWriter, r *http.Request) error {
	if err := Require(r.Context()); err != nil {
		return err
	}
	return h.s.Render(w, r, "auth/user.html", userData{Roles: roleOptions(), Form: NewUser{Role: vigie.RoleAgent, Lang: "fr"}})
}

// userForm reads the account form of the admin pages.
func userForm(r *http.Request) (NewUser, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		return NewUser{}, vigie.E(vigie.KindInvalid, "auth.userForm", "The form could not be read.", err)
	}
	v := r.PostForm
	n := NewUser{Login: v.Get("login"), Name: v.Get("name"), Email: v.Get("email"), Role: vigie.Role(v.Get("role")),
		Lang: v.Get("lang"), Password: v.Get("password"), Dept: strings.TrimSpace(v.Get("dept"))}
	if s := strings.TrimSpace(v.Get("unit")); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 0 {
			return n, vigie.Invalidf("auth.userForm", "The unit must be a number.")
		}
		n.UnitID = id
	}
	return n, nil
}

func (h *handler) createUserForm(w http.ResponseWriter, r *http.Request) error {
	if err := Require(r.Context()); err != nil {
		return err
	}
	n, err := userForm(r)
	var acc *Account
	if err == nil {
		acc, _, err = h.a.CreateUser(r.Context(), n)
	}
	if err != nil {
		n.Password = ""
		return h.formError(w, r, "auth/user.html", err, func(msg string) any {
			return userData{Roles: roleOptions(), Form: n, Error: msg}
		})
	}
	http.Redirect(w, r, "/admin/users/"+itoa(acc.ID), http.StatusSeeOther)
	return nil
}

func (h *handler) userPage(w http.ResponseWriter, r *http.Request) error {
	id, err := accountInPath(r)
	if err != nil {
		return err
	}
	acc, ok, err := h.consult(w, r, id)
	if !ok {
		return err
	}
	return h.renderUser(w, r, 0, acc, "", "")
}

// consult reads an account for display: with the motif gate and a journal
// entry when the gate is configured. ok is false when the gate answered
// (motif page shown) or on error.
func (h *handler) consult(w http.ResponseWriter, r *http.Request, id int64) (*Account, bool, error) {
	if h.a.cfg.Motif == nil {
		acc, err := h.a.GetUser(r.Context(), id)
		return acc, err == nil, err
	}
	// Authorization first: the motif page is no oracle for who exists.
	if _, err := h.a.GetUser(r.Context(), id); err != nil {
		return nil, false, err
	}
	motif, ok, err := h.a.cfg.Motif(w, r)
	if !ok {
		return nil, false, err
	}
	acc, err := h.a.ConsultUser(r.Context(), id, motif)
	return acc, err == nil, err
}

func (h *handler) renderUser(w http.ResponseWriter, r *http.Request, code int, acc *Account, errMsg, done string) error {
	form := NewUser{Login: acc.Login, Name: acc.Name, Email: acc.Email, Role: acc.Role, UnitID: acc.UnitID, Dept: acc.Dept, Lang: acc.Lang}
	return h.s.RenderStatus(w, r, code, "auth/user.html", userData{User: acc, Form: form, Roles: roleOptions(), Error: errMsg, Done: done})
}

func (h *handler) updateUserForm(w http.ResponseWriter, r *http.Request) error {
	id, err := accountInPath(r)
	if err != nil {
		return err
	}
	n, err := userForm(r)
	if err != nil {
		return err
	}
	c := Change{Name: &n.Name, Email: &n.Email, Role: &n.Role, UnitID: &n.UnitID, Lang: &n.Lang}
	if n.UnitID == 0 {
		c.Dept = &n.Dept
	}
	acc, err := h.a.UpdateUser(r.Context(), id, c)
	if err != nil {
		return h.userFormError(w, r, id, err)
	}
	return h.renderUser(w, r, 0, acc, "", web.T(web.Lang(r), "The account was saved."))
}

// userFormError shows a refusal on the account page when the account is
// visible to the acting user, and on the error page otherwise.
func (h *handler) userFormError(w http.ResponseWriter, r *http.Request, id int64, err error) error {
	k := vigie.KindOf(err)
	if k != vigie.KindInvalid && k != vigie.KindForbidden && k != vigie.KindConflict {
		return err
	}
	acc, gerr := h.a.GetUser(r.Context(), id)
	if gerr != nil {
		return err
	}
	return h.renderUser(w, r, web.StatusOf(err), acc, web.T(web.Lang(r), vigie.MessageOf(err)), "")
}

func (h *handler) userActionForm(w http.ResponseWriter, r *http.Request) error {
	id, err := accountInPath(r)
	if err != nil {
		return err
	}
	acc, done, err := h.doAction(r, id, r.PathValue("action"), r.PostFormValue("password"))
	if err != nil {
		return h.userFormError(w, r, id, err)
	}
	return h.renderUser(w, r, 0, acc, "", web.T(web.Lang(r), done))
}

// doAction runs one of the account actions of the admin page and API.
func (h *handler) doAction(r *http.Request, id int64, action, password string) (*Account, string, error) {
	ctx := r.Context()
	switch action {
	case "disable":
		acc, err := h.a.SetAccountDisabled(ctx, id, true)
		return acc, "The account was disabled and signed out everywhere.", err
	case "enable":
		acc, err := h.a.SetAccountDisabled(ctx, id, false)
		return acc, "The account was enabled.", err
	case "reset-mfa":
		acc, err := h.a.ResetAccountMFA(ctx, id)
		return acc, "Two-factor authentication was reset: the person enrols a new app at next sign-in.", err
	case "reset-password":
		acc, err := h.a.ResetAccountPassword(ctx, id, password)
		return acc, "The password was changed and the account signed out everywhere.", err
	}
	return nil, "", vigie.E(vigie.KindNotFound, "auth.action", "Not found.", nil)
}

// apiUser is the JSON shape of an account creation.
type apiUser struct {
	Login    string     `json:"login"`
	Name     string     `json:"name"`
	Email    string     `json:"email"`
	Role     vigie.Role `json:"role"`
	UnitID   int64      `json:"unit_id"`
	Dept     string     `json:"dept"`
	Lang     string     `json:"lang"`
	Password string     `json:"password"`
}

func (h *handler) apiList(w http.ResponseWriter, r *http.Request) error {
	users, _, err := h.listUsers(r)
	if err != nil {
		return err
	}
	if users == nil {
		users = []Account{}
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"users": users})
	return nil
}

func (h *handler) apiCreate(w http.ResponseWriter, r *http.Request) error {
	if err := Require(r.Context()); err != nil {
		return err
	}
	var in apiUser
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	acc, _, err := h.a.CreateUser(r.Context(), NewUser{Login: in.Login, Name: in.Name, Email: in.Email, Role: in.Role,
		UnitID: in.UnitID, Dept: in.Dept, Lang: in.Lang, Password: in.Password})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+itoa(acc.ID))
	web.WriteJSON(w, http.StatusCreated, acc)
	return nil
}

func (h *handler) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := accountInPath(r)
	if err != nil {
		return err
	}
	acc, ok, err := h.consult(w, r, id)
	if !ok {
		return err
	}
	web.WriteJSON(w, http.StatusOK, acc)
	return nil
}

func (h *handler) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := accountInPath(r)
	if err != nil {
		return err
	}
	var c Change
	if err := web.DecodeJSON(r, &c); err != nil {
		return err
	}
	acc, err := h.a.UpdateUser(r.Context(), id, c)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, acc)
	return nil
}

func (h *handler) apiAction(action string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := accountInPath(r)
		if err != nil {
			return err
		}
		acc, _, err := h.doAction(r, id, action, "")
		if err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusOK, acc)
		return nil
	}
}
