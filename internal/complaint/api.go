package complaint

import (
	"net/http"
	"time"

	"vigie"
	"vigie/internal/web"
)

// The JSON API under /api/v1: a citizen lists and reads their own
// complaints; staff list the queue of their scope (no personal data) and
// read a complaint with a motif (journaled), and act on it.

// apiSummary is a complaint in a citizen's list.
type apiSummary struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	Step        string    `json:"step"`
	Category    string    `json:"category"`
	SubmittedAt time.Time `json:"submitted_at"`
	CaseNumber  string    `json:"case_number,omitempty"`
}

type apiListResponse struct {
	Complaints any `json:"complaints"`
	Total      int `json:"total"`
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if u.Role == vigie.RoleCitizen {
		cs, err := h.svc.Mine(ctx, u.ID)
		if err != nil {
			return err
		}
		out := []apiSummary{}
		for _, c := range cs {
			out = append(out, apiSummary{c.ID, c.Number, c.Step, c.Category, c.SubmittedAt, c.CaseNumber})
		}
		web.WriteJSON(w, http.StatusOK, apiListResponse{Complaints: out, Total: len(out)})
		return nil
	}
	units, err := h.scope(ctx, vigie.PermRead)
	if err != nil {
		return err
	}
	f, err := parseQueue(r.URL.Query(), units)
	if err != nil {
		return err
	}
	rows, total, err := h.svc.Queue(ctx, f)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []QueueRow{}
	}
	web.WriteJSON(w, http.StatusOK, apiListResponse{Complaints: rows, Total: total})
	return nil
}

type apiComplaint struct {
	Complaint
	Events []Event `json:"events"`
	Files  []File  `json:"files"`
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	var c Complaint
	var err error
	publicOnly := true
	if u.Role == vigie.RoleCitizen {
		if c, err = h.ownComplaint(r, vigie.PermRead); err != nil {
			return err
		}
	} else {
		if c, err = h.staffComplaint(r, vigie.PermRead); err != nil {
			return err
		}
		motif, ok, err := h.motif(w, r)
		if !ok {
			return err
		}
		if err := h.svc.journalConsult(ctx, &c, motif, "complaint "+c.Number+" (API)"); err != nil {
			return err
		}
		publicOnly = false
	}
	res := apiComplaint{Complaint: c}
	if res.Events, err = h.svc.Timeline(ctx, c.ID, publicOnly); err != nil {
		return err
	}
	if res.Files, err = h.svc.Files(ctx, c.ID); err != nil {
		return err
	}
	if res.Events == nil {
		res.Events = []Event{}
	}
	if res.Files == nil {
		res.Files = []File{}
	}
	web.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handler) apiAct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := staff(r.Context()); err != nil {
		return err
	}
	var a Action
	if err := web.DecodeJSON(r, &a); err != nil {
		return err
	}
	c, err := h.act(r, id, a)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, apiSummary{c.ID, c.Number, c.Step, c.Category, c.SubmittedAt, c.CaseNumber})
	return nil
}

func (h *Handler) apiVerify(w http.ResponseWriter, r *http.Request) error {
	rc, err := h.svc.Verify(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, rc)
	return nil
}
