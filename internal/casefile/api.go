package casefile

import (
	"net/http"
	"strconv"

	"vigie"
	"vigie/internal/audit"
	"vigie/internal/web"
)

// The JSON API under /api/v1: the same operations as the pages.

type listResponse struct {
	Cases  []Case `json:"cases"`
	Offset int    `json:"offset"`
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	cs, err := h.svc.List(r.Context(), Status(q.Get("status")), limit, offset)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []Case{}
	}
	web.WriteJSON(w, http.StatusOK, listResponse{Cases: cs, Offset: offset})
	return nil
}

type caseResponse struct {
	Detail
	Links []Group `json:"links"`
}

// apiCase returns a case with its parts; the motif comes in the "motif"
// query parameter (and "dossier"), as on the pages.
func (h *Handler) apiCase(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.caseFor(r.Context(), id, vigie.PermRead); err != nil {
		return err
	}
	motif, err := audit.MotifFrom(r)
	if err != nil {
		return err
	}
	d, err := h.svc.Get(r.Context(), id, motif)
	if err != nil {
		return err
	}
	groups, err := h.svc.links.Related(r.Context(), d.Case)
	if err != nil {
		return err
	}
	if groups == nil {
		groups = []Group{}
	}
	web.WriteJSON(w, http.StatusOK, caseResponse{Detail: d, Links: groups})
	return nil
}

func (h *Handler) apiLinks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if _, err := h.svc.Scope(r.Context()); err != nil {
		return err
	}
	motif, err := audit.MotifFrom(r)
	if err != nil {
		return err
	}
	g, err := h.svc.SearchLinks(r.Context(), q.Get("kind"), q.Get("value"), motif)
	if err != nil {
		return err
	}
	if g.Hits == nil {
		g.Hits = []Hit{}
	}
	web.WriteJSON(w, http.StatusOK, g)
	return nil
}
