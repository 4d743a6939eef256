package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"vigie/internal/audit"
	"vigie/internal/complaint"
	"vigie/internal/db"
)

// complaintArea holds the online-complaint area's parts.
type complaintArea struct {
	svc *complaint.Service
}

// openComplaint builds the complaint area (CLI commands too).
func (a *app) openComplaint(ctx context.Context) error {
	cfg := complaint.Config{DB: a.db, Journal: a.journal, Outbox: a.outbox, Org: a.org, Log: a.log, BaseURL: a.cfg.BaseURL,
		Colleagues: a.complaintColleagues, AccountEmail: a.auth.ContactEmail,
		// The extractor with the deployment's card key, shared with the
		// case files, so that a card links complaints and cases.
		Ident: a.casefile.ident}
	// Optional parts: nil until the support area opens them.
	if a.support.blobs != nil {
		cfg.Blobs = a.support.blobs
	}
	if a.support.mailer != nil {
		cfg.Mail = a.support.mailer
	}
	// The case-file area's hooks (served by wire_casefile.go): accepting a
	// complaint opens its case file, identifiers go to the link index, the
	// triage classifier suggests and learns from the agents' corrections.
	if a.casefile.svc != nil {
		cfg.OpenCase, cfg.IndexIdentifiers = a.openCaseHook, a.indexComplaintHook
		cfg.Suggest, cfg.Corrected = a.suggestHook, a.correctedHook
		cfg.Links, cfg.MoveIdentifiers = a.complaintLinksHook, a.moveComplaintHook
	}
	a.complaint.svc = complaint.New(cfg)
	return nil
}

// complaintColleagues lists the active staff of a unit, for assignment.
func (a *app) complaintColleagues(ctx context.Context, unit int64) ([]complaint.Colleague, error) {
	accs, err := a.auth.Colleagues(ctx, unit)
	if err != nil {
		return nil, err
	}
	out := make([]complaint.Colleague, 0, len(accs))
	for _, acc := range accs {
		out = append(out, complaint.Colleague{ID: acc.ID, Name: acc.Name})
	}
	return out, nil
}

// complaintDraftKeep is how long a draft nobody touches is kept.
const complaintDraftKeep = 90 * 24 * time.Hour

// registerComplaint registers the area's routes and menu entries.
func (a *app) registerComplaint() error {
	motif := func(w http.ResponseWriter, r *http.Request) (string, bool, error) {
		return audit.RequireMotif(a.web, w, r)
	}
	complaint.NewHandler(a.complaint.svc, a.policy, a.org.Tree(), motif).Register(a.web)
	// Receipt e-mails (PDF attached) follow the submissions; those left
	// pending by a crash go at start.
	a.workers = append(a.workers, a.complaint.svc.RunReceipts)
	// Drafts never sent are forgotten after 90 days.
	a.workers = append(a.workers, func(ctx context.Context) {
		every(ctx, 24*time.Hour, "purge complaint drafts", a.log, func(ctx context.Context) error {
			_, err := a.complaint.svc.PurgeDrafts(ctx, complaintDraftKeep)
			return err
		})
	})
	return nil
}

// seedComplaintDemo adds the demo's complaints, once, after the demo accounts.
func (a *app) seedComplaintDemo(ctx context.Context) error {
	start := time.Now()
	var citizen int64
	var name, email string
	if acc, err := a.auth.AccountByLogin(ctx, "citoyen"); err == nil {
		citizen, name, email = acc.ID, acc.Name, acc.Email
	}
	err := a.db.InTx(ctx, func(tx *db.Tx) error {
		return a.complaint.svc.SeedDemo(ctx, tx, complaint.DemoOptions{Depts: a.demoDepts, CitizenID: citizen, CitizenName: name, CitizenEmail: email})
	})
	if err != nil {
		return fmt.Errorf("demo complaints: %w", err)
	}
	a.log.Info("demo complaints seeded", "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}
