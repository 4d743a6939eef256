package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/auth"
	"vigie/internal/casefile"
	"vigie/internal/casefile/ident"
	"vigie/internal/casefile/triage"
	"vigie/internal/complaint"
	"vigie/internal/db"
	"vigie/internal/org"
)

// casefileArea holds the case-file area's parts.
type casefileArea struct {
	svc *casefile.Service
	// cardKey keys the hash of card numbers (data dir's card.key); the
	// complaint area needs the same key (complaint.Config.CardKey) so that
	// its cards and the cases' link.
	cardKey []byte
	ident   *ident.Extractor // with cardKey
	triage  *triage.Classifier
}

// openCasefile builds the case-file area (CLI commands too): the card key,
// the identifier extractor, the triage classifier (generated corpus plus
// the agents' stored corrections) and the service.
func (a *app) openCasefile(ctx context.Context) error {
	key, err := a.cardKey(ctx)
	if err != nil {
		return err
	}
	a.casefile.cardKey = key
	a.casefile.ident = ident.New(ident.Config{CardKey: key})
	corrections, err := triage.LoadCorrections(ctx, a.db)
	if err != nil {
		return fmt.Errorf("triage corrections: %w", err)
	}
	a.casefile.triage = triage.WithCorrections(corrections)
	cfg := casefile.Config{DB: a.db, Authz: a.policy, Journal: a.journal, Outbox: a.outbox, Units: a.org,
		Tree: a.org.Tree(), Ident: a.casefile.ident, Triage: a.casefile.triage, Log: a.log,
		Grant: a.grantCaseAccess,
		// Forwarding or closing a case moves its complaint's step for the
		// citizen (the complaint area opens after this one).
		OnStatus: func(ctx context.Context, tx *db.Tx, complaintID int64, step string) error {
			if a.complaint.svc == nil {
				return nil
			}
			return a.complaint.svc.SetStep(ctx, tx, complaintID, step, "")
		},
		// The agent's page of a complaint (internal/complaint's route).
		ComplaintPath: func(id int64) string { return "/complaints/" + strconv.FormatInt(id, 10) },
		// Access requests from a complaint's page (the complaint area
		// opens after this one; the hook reads it when called).
		ComplaintTarget: a.complaintTargetHook}
	if a.support.blobs != nil { // a nil *blob.Store must not become a non-nil interface
		cfg.Blobs = a.support.blobs
	}
	a.casefile.svc = casefile.New(cfg)
	return nil
}

// grantCaseAccess gives the requester of an approved access request a read
// grant on one record, in the approval's transaction, through
// internal/auth's grants (journaled there). casefile.DecideAccess has
// checked that the approver may write in the holding unit.
func (a *app) grantCaseAccess(ctx context.Context, tx *db.Tx, userID int64, kind, id string, until time.Time, reason string) (int64, error) {
	g, err := a.auth.GrantApproved(ctx, tx, auth.Grant{UserID: userID, Perm: vigie.PermRead, Kind: kind, TargetID: id,
		Reason: reason, ExpiresAt: until})
	if err != nil {
		return 0, err
	}
	return g.ID, nil
}

const metaCardKey = "card_key_id"

// cardKey loads the secret that keys the hash of card numbers in the
// identifier index, creating it (32 random bytes, hex, mode 0600) under the
// data directory on first start. SECURITY: it lives apart from the
// database: a copy of the database alone does not give card numbers. The
// database remembers the key's fingerprint: a foreign key stops the start,
// and a missing one is never replaced by a new key (which would silently
// unlink every card seen before): Vigie runs without cards and warns.
func (a *app) cardKey(ctx context.Context) ([]byte, error) {
	path := filepath.Join(a.cfg.DataDir, "card.key")
	known, err := a.meta(ctx, metaCardKey)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && known != "":
		// Never a new key: it would silently unlink every card seen
		// before. Run without one (cards are refused, nothing else is
		// lost) and say so, until the operator copies the key here.
		a.log.Warn("card key missing: bank cards cannot be recorded or linked until it is restored", "path", path,
			"fix", "copy card.key from another replica or from the key backup")
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		raw = []byte(hex.EncodeToString(key) + "\n")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return nil, fmt.Errorf("create the card key %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read the card key %s: %w", path, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) < 32 {
		return nil, vigie.E(vigie.KindInvalid, "card key", fmt.Sprintf("The card key %s must hold 32 bytes or more in hexadecimal.", path), err)
	}
	sum := sha256.Sum256(key)
	id := hex.EncodeToString(sum[:8])
	switch known {
	case id:
	case "":
		if _, err := a.db.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", metaCardKey, id); err != nil {
			return nil, fmt.Errorf("record the card key: %w", err)
		}
	default:
		return nil, vigie.E(vigie.KindConflict, "card key", fmt.Sprintf(
			"The card key %s does not belong to this database (its fingerprint differs). Use the data directory's own key.", path), nil)
	}
	return key, nil
}

// registerCasefile registers the area's routes and menu entries.
func (a *app) registerCasefile() error {
	return casefile.NewHandler(a.casefile.svc).Register(a.web)
}

// casefileDemoPerDept is how many case files the demo gives each département.
const casefileDemoPerDept = 16

const metaCasefileDemo = "casefile_demo"

// seedCasefileDemo adds the demo's case files, once, after the complaints.
func (a *app) seedCasefileDemo(ctx context.Context) error {
	// A marker in meta, written with the cases: cases opened by the
	// complaints' demo (accepted complaints) do not count.
	if done, err := a.meta(ctx, metaCasefileDemo); err != nil || done != "" {
		return err
	}
	start := time.Now()
	brigades := map[string][]casefile.DemoBrigade{}
	units, err := a.org.Units(ctx, "")
	if err != nil {
		return err
	}
	for _, u := range units {
		if u.Kind != org.Brigade || (a.demoDepts != nil && !slices.Contains(a.demoDepts, u.Dept)) {
			continue
		}
		insee := strings.TrimPrefix(u.Code, "BR-")
		brigades[u.Dept] = append(brigades[u.Dept], casefile.DemoBrigade{ID: u.ID, Dept: u.Dept, INSEE: insee,
			Place: strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(u.Name, "Brigade de "), "Brigade d'"), "Brigade du ")})
	}
	// The serial scam lands in the brigades of the demo's gendarmes (01053,
	// 2A004), so that they see the links. The canary victims (checked by
	// the authorization test) land in 2A004 and 97411, whose gendarmes
	// bear those names, and in 01 in a brigade outside the compagnies of
	// 01053 and 01004 (where the tests put gendarmes), so that no gendarme
	// of those may read it.
	tree := a.org.Tree()
	home := map[string]int64{}
	for dept, where := range map[string]string{"01": "brigade:01053", "2A": "brigade:2A004", "974": "brigade:97411"} {
		if u, err := a.demoUnit(ctx, where); err == nil {
			home[dept] = u.ID
		}
	}
	var away []int64 // compagnies the 01 canary must stay out of
	for _, where := range []string{"compagnie:01053", "compagnie:01004"} {
		if u, err := a.demoUnit(ctx, where); err == nil {
			away = append(away, u.ID)
		}
	}
	for dept, bs := range brigades {
		h, ok := home[dept]
		if !ok {
			continue
		}
		canaryDone := false
		for i := range bs {
			bs[i].Scam = bs[i].ID == h
			switch {
			case dept != "01":
				bs[i].Canary = bs[i].ID == h
			case !canaryDone && !slices.ContainsFunc(away, func(c int64) bool { return tree.Within(bs[i].ID, c) }):
				bs[i].Canary, canaryDone = true, true
			}
		}
	}
	var seeded int
	err = a.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		seeded, err = a.casefile.svc.SeedDemo(ctx, tx, brigades, casefileDemoPerDept, time.Now())
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", metaCasefileDemo, "done")
		return err
	})
	if err != nil {
		return fmt.Errorf("demo case files: %w", err)
	}
	a.log.Info("demo case files seeded", "cases", strconv.Itoa(seeded), "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// The hooks that the case-file area serves to the complaint area, ready for
// wire_links.go (the integrator's): complaint.Config.OpenCase,
// IndexIdentifiers, Suggest and Corrected.

// openCaseHook opens the case file of an accepted complaint.
func (a *app) openCaseHook(ctx context.Context, tx *db.Tx, c complaint.Accepted) (int64, string, error) {
	fc := casefile.FromComplaint{ComplaintID: c.ID, Number: c.Number, Dept: c.Dept, UnitID: c.UnitID,
		Category: c.Category, Narrative: c.Narrative, FactsFrom: c.FactsFrom, FactsTo: c.FactsTo,
		Place: casefile.Place{Address: c.Place.Address, INSEE: c.Place.INSEE, Lat: c.Place.Lat, Lon: c.Place.Lon},
		Victim: casefile.Person{Name: c.Victim.Name, Address: c.Victim.Address, Phone: c.Victim.Phone,
			Email: c.Victim.Email, AccountID: c.Victim.AccountID},
		Identifiers: c.Identifiers, SubmittedAt: c.SubmittedAt, AcceptedBy: c.AcceptedBy}
	if !c.Victim.BirthDate.IsZero() {
		fc.Victim.BirthDate = c.Victim.BirthDate.Format(time.DateOnly)
	}
	for _, it := range c.Items {
		ci := casefile.ComplaintItem{Kind: it.Kind, Description: it.Description, AmountCents: it.Amount, Date: it.Date, IBAN: it.IBAN}
		switch it.Kind {
		case casefile.ItemPhone:
			ci.Identifier = it.IMEI
		case casefile.ItemVehicle:
			ci.Identifier, ci.Extra = it.Plate, it.VIN
		case casefile.ItemCard:
			ci.Identifier = it.CardMasked // SECURITY: never the whole number
		case casefile.ItemObject:
			ci.Identifier = it.Serial
		case casefile.ItemMoney:
			ci.Extra = it.Beneficiary
		}
		fc.Items = append(fc.Items, ci)
	}
	for _, at := range c.Attachments {
		fc.Attachments = append(fc.Attachments, casefile.Attachment{SHA256: at.SHA256, Name: at.Name, Type: at.Type, Size: at.Size})
	}
	cs, err := a.casefile.svc.OpenFromComplaint(ctx, tx, fc)
	return cs.ID, cs.Number, err
}

// indexComplaintHook records the identifiers of a complaint in the index.
func (a *app) indexComplaintHook(ctx context.Context, tx *db.Tx, complaintID int64, dept string, unitID int64, ids []ident.Identifier) error {
	return a.casefile.svc.Links().Index(ctx, tx, casefile.Source{Kind: casefile.SourceComplaint, ID: complaintID, Dept: dept, UnitID: unitID}, ids)
}

// moveComplaintHook moves a transferred complaint's identifiers (and the
// pending access requests for it) to its new holder.
func (a *app) moveComplaintHook(ctx context.Context, tx *db.Tx, complaintID int64, dept string, unitID int64) error {
	return a.casefile.svc.Links().Move(ctx, tx, casefile.Source{Kind: casefile.SourceComplaint, ID: complaintID, Dept: dept, UnitID: unitID})
}

// suggestHook is the triage suggestion for a narrative.
func (a *app) suggestHook(narrative string) (category, priority string, confidence float64, reasons []string) {
	s := a.casefile.triage.Suggest(narrative)
	return s.Category, s.Priority, s.Confidence, s.Reasons
}

// correctedHook keeps an agent's triage decision on a complaint for retraining.
func (a *app) correctedHook(narrative, suggestedCategory, category, priority string) {
	if err := a.casefile.svc.TriageCorrected(context.Background(), narrative, suggestedCategory, category, priority); err != nil {
		a.log.Warn("triage correction not kept", "err", err)
	}
}

// complaintLinksHook lists, for the agent's page of a complaint, the other
// complaints and cases sharing one of its identifiers, with the case page's
// scope rules (casefile.Links asks the policy for each record; out of scope
// only the holding unit is told).
func (a *app) complaintLinksHook(ctx context.Context, complaintID, caseID int64) ([]complaint.LinkGroup, error) {
	groups, err := a.casefile.svc.Links().RelatedToComplaint(ctx, complaintID, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]complaint.LinkGroup, 0, len(groups))
	for _, g := range groups {
		lg := complaint.LinkGroup{KindName: casefile.KindLabel(g.Kind), Display: g.Display, Complaints: g.Complaints, Cases: g.Cases}
		for _, h := range g.Hits {
			label := "Complaint"
			if h.Source.Kind == casefile.SourceCase {
				label = "Case"
			}
			lg.Hits = append(lg.Hits, complaint.LinkHit{SourceKind: h.Source.Kind, SourceID: h.Source.ID, Dept: h.Source.Dept,
				UnitName: h.UnitName, InScope: h.InScope, Path: h.Path, Label: label})
		}
		out = append(out, lg)
	}
	return out, nil
}

// complaintTargetHook is a complaint as the policy sees it, for access
// requests made from a complaint's page.
func (a *app) complaintTargetHook(ctx context.Context, id int64) (vigie.Target, error) {
	if a.complaint.svc == nil {
		return vigie.Target{}, vigie.E(vigie.KindNotFound, "complaint", "This complaint does not exist.", nil)
	}
	c, err := a.complaint.svc.Get(ctx, id)
	if err != nil {
		return vigie.Target{}, err
	}
	return c.Target(), nil
}
