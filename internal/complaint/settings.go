package complaint

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/org"
	"vigie/internal/web"
)

// Settings per département: the unit that receives online complaints with
// no place. Administrators of the département (vigie.PermOrgAdmin) set it.

type settingRow struct {
	Dept    org.Departement
	Current int64
	Units   []org.Unit
}

func (h *Handler) pageSettings(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := staff(ctx); err != nil {
		return err
	}
	ds, err := h.svc.cfg.Org.Departements(ctx)
	if err != nil {
		return err
	}
	var rows []settingRow
	for _, d := range ds {
		if h.auth.Check(ctx, vigie.PermOrgAdmin, vigie.Target{Dept: d.Code, Kind: "complaint_settings"}) != nil {
			continue
		}
		cur, err := h.svc.OnlineUnit(ctx, d.Code)
		if err != nil && vigie.KindOf(err) != vigie.KindInvalid {
			return err
		}
		us, err := h.svc.cfg.Org.Units(ctx, d.Code)
		if err != nil {
			return err
		}
		rows = append(rows, settingRow{Dept: d, Current: cur, Units: us})
	}
	if len(rows) == 0 {
		return vigie.E(vigie.KindForbidden, "complaint.settings", "You do not administer any département.", nil)
	}
	return h.s.Render(w, r, "complaint/settings.html", rows)
}

func (h *Handler) formSettings(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := staff(ctx); err != nil {
		return err
	}
	dept := strings.ToUpper(strings.TrimSpace(r.PostFormValue("dept")))
	if err := h.auth.Check(ctx, vigie.PermOrgAdmin, vigie.Target{Dept: dept, Kind: "complaint_settings"}); err != nil {
		return err
	}
	unit, err := strconv.ParseInt(r.PostFormValue("unit"), 10, 64)
	if err != nil || unit <= 0 {
		return vigie.Invalidf("complaint.settings", "Choose a unit in the list.")
	}
	if err := h.svc.SetOnlineUnit(ctx, dept, unit); err != nil {
		return err
	}
	web.SetFlash(w, r, web.FlashSuccess, web.T(web.Lang(r), "The setting is saved."))
	http.Redirect(w, r, "/complaints/settings", http.StatusSeeOther)
	return nil
}

// PurgeDrafts deletes the drafts nobody touched for longer than age: a
// complaint never sent is not kept for ever (data minimisation).
func (s *Service) PurgeDrafts(ctx context.Context, age time.Duration) (int64, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM complaint_drafts WHERE updated_at < ?`, db.Millis(s.cfg.Now().Add(-age)))
	if err != nil {
		return 0, fmt.Errorf("complaint: purge drafts: %w", err)
	}
	return res.RowsAffected()
}
