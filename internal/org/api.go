package org

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"vigie"
	"vigie/internal/web"
)

// The JSON API under /api/v1: the same operations as the pages.

func (h *Handler) apiDepts(w http.ResponseWriter, r *http.Request) error {
	if err := staff(r.Context()); err != nil {
		return err
	}
	ds, err := h.svc.Departements(r.Context())
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []Departement{}
	}
	web.WriteJSON(w, http.StatusOK, ds)
	return nil
}

// createDeptRequest creates a département; with "communes" (a GeoJSON
// FeatureCollection) and optionally "population", it imports one.
type createDeptRequest struct {
	Departement
	Communes   json.RawMessage `json:"communes,omitempty"`
	Population json.RawMessage `json:"population,omitempty"`
}

func (h *Handler) apiCreateDept(w http.ResponseWriter, r *http.Request) error {
	const op = "org.CreateDepartement"
	ctx := r.Context()
	// Imports carry geometry: a larger limit than web.DecodeJSON's 1 MiB.
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return vigie.Invalidf(op, "The request body must be JSON (Content-Type: application/json).")
	}
	var req createDeptRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxImportBytes))
	if err := dec.Decode(&req); err != nil {
		return vigie.E(vigie.KindInvalid, op, "The request body is not a valid JSON département.", err)
	}
	req.Code = strings.ToUpper(strings.TrimSpace(req.Code))
	if err := h.canAdmin(ctx, req.Code, 0); err != nil {
		return err
	}
	d := Departement{Code: req.Code, Name: req.Name, Region: req.Region, Zone: req.Zone, TimeZone: req.TimeZone}
	if len(req.Communes) == 0 {
		d, err := h.svc.CreateDepartement(ctx, d)
		if err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusCreated, d)
		return nil
	}
	res, err := h.svc.ImportDepartement(ctx, d, req.Communes, req.Population)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, res)
	return nil
}

type deptResponse struct {
	Departement
	UnitsList []Unit `json:"unit_list"`
}

func (h *Handler) apiDept(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := staff(ctx); err != nil {
		return err
	}
	d, err := h.svc.Departement(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	units, err := h.svc.Units(ctx, d.Code)
	if err != nil {
		return err
	}
	if units == nil {
		units = []Unit{}
	}
	web.WriteJSON(w, http.StatusOK, deptResponse{Departement: d, UnitsList: units})
	return nil
}

func (h *Handler) apiUnits(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := staff(ctx); err != nil {
		return err
	}
	dept := r.URL.Query().Get("dept")
	if dept != "" && !ValidDeptCode(strings.ToUpper(dept)) {
		return vigie.Invalidf("org.Units", "The département code %q is not valid.", dept)
	}
	us, err := h.svc.Units(ctx, dept)
	if err != nil {
		return err
	}
	if us == nil {
		us = []Unit{}
	}
	web.WriteJSON(w, http.StatusOK, us)
	return nil
}

type unitRequest struct {
	Dept     string `json:"dept"`
	Kind     Kind   `json:"kind"`
	ParentID int64  `json:"parent_id"`
	Name     string `json:"name"`
	Code     string `json:"code"`
}

func (h *Handler) apiCreateUnit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req unitRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	u := Unit{Dept: strings.ToUpper(req.Dept), Kind: req.Kind, ParentID: req.ParentID, Name: req.Name, Code: req.Code}
	if err := h.authorizeCreate(ctx, &u); err != nil {
		return err
	}
	u, err := h.svc.CreateUnit(ctx, u)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/units/"+strconv.FormatInt(u.ID, 10))
	web.WriteJSON(w, http.StatusCreated, u)
	return nil
}

type unitResponse struct {
	Unit
	Territory []Commune `json:"territory,omitempty"`
}

func (h *Handler) apiUnit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := staff(ctx); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := h.svc.Unit(ctx, id)
	if err != nil {
		return err
	}
	res := unitResponse{Unit: u}
	if u.Kind == Brigade {
		if res.Territory, err = h.svc.Territory(ctx, u.ID); err != nil {
			return err
		}
		if res.Territory == nil {
			res.Territory = []Commune{}
		}
	}
	web.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handler) apiUpdateUnit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var c UnitChange
	if err := web.DecodeJSON(r, &c); err != nil {
		return err
	}
	if err := h.authorizeUpdate(ctx, id, c); err != nil {
		return err
	}
	u, err := h.svc.UpdateUnit(ctx, id, c)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (h *Handler) apiDeleteUnit(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.deleteUnit(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type territoryRequest struct {
	Communes []string `json:"communes"`
}

func (h *Handler) apiTerritory(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req territoryRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if err := h.territoryTarget(ctx, id); err != nil {
		return err
	}
	if err := h.svc.SetTerritory(ctx, id, req.Communes); err != nil {
		return err
	}
	return h.apiUnit(w, r)
}

type routeResponse struct {
	Commune Commune `json:"commune"`
	Brigade *Unit   `json:"brigade"`
}

func (h *Handler) apiRoute(w http.ResponseWriter, r *http.Request) error {
	const op = "org.Route"
	ctx := r.Context()
	if err := staff(ctx); err != nil {
		return err
	}
	q := r.URL.Query()
	var c Commune
	var u Unit
	var err error
	switch {
	case q.Get("insee") != "":
		c, u, err = h.svc.RouteCommune(ctx, q.Get("insee"))
	case q.Get("lon") != "" || q.Get("lat") != "":
		lon, err1 := strconv.ParseFloat(q.Get("lon"), 64)
		lat, err2 := strconv.ParseFloat(q.Get("lat"), 64)
		if err1 != nil || err2 != nil {
			return vigie.Invalidf(op, "Give the position as decimal degrees: lon=5.2256&lat=46.2052.")
		}
		c, u, err = h.svc.Route(ctx, lon, lat)
	default:
		return vigie.Invalidf(op, "Give a position (lon and lat) or a commune (insee).")
	}
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, routeResponse{Commune: c, Brigade: &u})
	return nil
}
