package casefile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"vigie/internal/casefile/ident"
	"vigie/internal/casefile/triage"
	"vigie/internal/db"
)

// The demo's case files: for each département, cases spread over the last
// eighteen months with a history (accepted, investigated, forwarded or
// closed), brigades that work at different speeds, and a serial online scam
// whose IBAN and phone number link cases in 01, 33 and 2A. Deterministic.

// Serial-scam identifiers of the demo (the complaint area's demo may use
// them too, so that complaints and cases link).
const (
	DemoScamIBAN  = "FR7630006000011234567890189"
	DemoScamPhone = "06 12 34 56 78"
	DemoScamSite  = "https://livraison-express-colis.example.com/paiement"
)

// demoCanary is the victim of the first case of a département: the
// authorization tests check these names never leak across départements.
var demoCanary = map[string]string{"01": "Camille Martin", "2A": "Ange Santoni", "974": "Mélissa Hoarau"}

var demoFirst = []string{"Jeanne", "Louis", "Sophie", "Nicolas", "Claire", "Julien", "Emma", "Hugo", "Léa", "Thomas",
	"Manon", "Antoine", "Chloé", "Maxime", "Inès", "Paul", "Sarah", "Lucas", "Anaïs", "Pierre"}

var demoLast = []string{"Bernard", "Dubois", "Thomas", "Robert", "Richard", "Durand", "Leroy", "Moreau", "Simon", "Laurent",
	"Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard"}

// DemoBrigade is a brigade the demo puts cases in.
type DemoBrigade struct {
	ID    int64
	Dept  string
	INSEE string // the commune of the brigade's seat
	Place string // its name
	// Canary: the département's canary victim goes here (default: the
	// first brigade). Scam: the serial scam's case goes here (default: the
	// first brigade).
	Canary, Scam bool
}

// pickBrigade returns the brigade flagged by flag, or the first.
func pickBrigade(bs []DemoBrigade, flag func(DemoBrigade) bool) DemoBrigade {
	for _, b := range bs {
		if flag(b) {
			return b
		}
	}
	return bs[0]
}

// SeedDemo adds perDept case files to each département of brigades, in tx.
// SECURITY: demo seeding only; it writes without asking the policy.
func (s *Service) SeedDemo(ctx context.Context, tx *db.Tx, brigades map[string][]DemoBrigade, perDept int, now time.Time) (int, error) {
	var depts []string
	for d := range brigades {
		depts = append(depts, d)
	}
	slices.Sort(depts)
	n := 0
	for di, dept := range depts {
		bs := brigades[dept]
		if len(bs) == 0 {
			continue
		}
		r := rand.New(rand.NewPCG(uint64(di+1)*7919, 2026))
		stories := triage.Generate(uint64(1000+di), perDept)
		for i := range perDept {
			b := bs[i%len(bs)]
			switch i {
			case 0:
				b = pickBrigade(bs, func(b DemoBrigade) bool { return b.Canary })
			case 1:
				b = pickBrigade(bs, func(b DemoBrigade) bool { return b.Scam })
			}
			speed := 1 + float64(b.ID%5) // brigades differ: 1 to 5 days to accept, and so on
			story := stories[i]
			name := demoFirst[r.IntN(len(demoFirst))] + " " + demoLast[r.IntN(len(demoLast))]
			if i == 0 && demoCanary[dept] != "" {
				name = demoCanary[dept]
			}
			facts := now.Add(-time.Duration(r.IntN(540*24)+48) * time.Hour)
			submitted := facts.Add(time.Duration(2+r.IntN(48)) * time.Hour)
			accepted := submitted.Add(time.Duration(speed*float64(12+r.IntN(24))) * time.Hour)
			if accepted.After(now) {
				accepted = now.Add(-time.Hour)
			}
			fc := FromComplaint{Dept: dept, UnitID: b.ID, Category: story.Category, Narrative: story.Text,
				FactsFrom: facts, FactsTo: facts.Add(time.Duration(1+r.IntN(6)) * time.Hour),
				Place: Place{Address: b.Place, INSEE: b.INSEE},
				Victim: Person{Name: name, BirthDate: fmt.Sprintf("%d-%02d-%02d", 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28)),
					Phone: fmt.Sprintf("+3367%07d", r.IntN(10000000)), Email: demoEmail(name)},
				SubmittedAt: submitted}
			if i == 1 && (dept == "01" || dept == "33" || dept == "2A") {
				// The serial scam: same IBAN, phone and site in three départements.
				fc.Category = "online_scam"
				fc.Narrative = "Un faux livreur m'a appelé du " + DemoScamPhone + " pour des frais de douane, puis m'a envoyé sur " +
					DemoScamSite + ". J'ai fait un virement de 1 290 € vers l'IBAN FR76 3000 6000 0112 3456 7890 189."
				fc.Items = []ComplaintItem{{Kind: ItemMoney, Description: "frais de douane", AmountCents: 129000,
					IBAN: DemoScamIBAN, Extra: "SAS Express Colis", Date: facts}}
			}
			switch fc.Category {
			case "vehicle_theft":
				fc.Items = append(fc.Items, ComplaintItem{Kind: ItemVehicle, Description: "Peugeot 208 grise",
					Identifier: demoPlate(r)})
			case "theft":
				fc.Items = append(fc.Items, ComplaintItem{Kind: ItemPhone, Description: "smartphone"})
			}
			c, err := s.openAt(ctx, tx, fc, accepted)
			if err != nil {
				return n, fmt.Errorf("demo case %s/%d: %w", dept, i, err)
			}
			// The serial scam's cases stay under investigation: the demo's
			// gendarmes work on them.
			if err := s.demoHistory(ctx, tx, r, c, accepted, now, speed, i == 1); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// demoHistory moves a demo case along its workflow in the past.
func (s *Service) demoHistory(ctx context.Context, tx *db.Tx, r *rand.Rand, c Case, at, now time.Time, speed float64, active bool) error {
	step := func(d float64) time.Time { return at.Add(time.Duration(d*speed*24) * time.Hour) }
	status, updated, closed := StatusOpen, at, time.Time{}
	var events [][3]string // at (RFC3339), kind, detail
	add := func(t time.Time, kind, detail string) {
		events = append(events, [3]string{t.Format(time.RFC3339Nano), kind, detail})
		updated = t
	}
	if t := step(1 + r.Float64()*3); t.Before(now) {
		status = StatusInvestigating
		add(t, "status", "open → investigating")
		add(t.Add(time.Hour), "task", "Réquisition à l'opérateur ou à la banque")
		if t2 := step(10 + r.Float64()*30); t2.Before(now) && !active {
			to := StatusClosed
			if r.IntN(3) == 0 {
				to = StatusForwarded
			}
			status = to
			add(t2, "status", "investigating → "+string(to))
			if to == StatusClosed {
				closed = t2
			}
		}
	}
	for _, e := range events {
		t, _ := time.Parse(time.RFC3339Nano, e[0])
		if err := appendEvent(ctx, tx, c.ID, t, 0, "Démo", e[1], e[2]); err != nil {
			return err
		}
		if e[1] == "task" {
			task := Task{CaseID: c.ID, Title: e[2], DueAt: t.Add(15 * 24 * time.Hour), Assignee: "OPJ de permanence",
				CreatedAt: t}
			if status != StatusInvestigating {
				task.DoneAt = t.Add(5 * 24 * time.Hour)
			}
			if err := insertTask(ctx, tx, &task, 0); err != nil {
				return err
			}
			if !task.DoneAt.IsZero() {
				if _, err := tx.Exec(ctx, `UPDATE case_tasks SET done_at = ? WHERE id = ?`, db.Millis(task.DoneAt), task.ID); err != nil {
					return err
				}
			}
		}
	}
	_, err := tx.Exec(ctx, `UPDATE cases SET status = ?, updated_at = ?, closed_at = ? WHERE id = ?`,
		string(status), db.Millis(updated), db.Millis(closed), c.ID)
	return err
}

func demoEmail(name string) string {
	r := strings.NewReplacer(" ", ".", "é", "e", "è", "e", "ï", "i", "ë", "e")
	return strings.ToLower(r.Replace(name)) + "@exemple.fr"
}

func demoPlate(r *rand.Rand) string {
	const letters = "ABCDEFGHJKLMNPQRSTVWXYZ"
	l := func() byte { return letters[r.IntN(len(letters))] }
	p := fmt.Sprintf("%c%c-%03d-%c%c", l(), l(), 1+r.IntN(998), l(), l())
	if id, err := ident.Normalize(ident.KindPlate, p); err == nil {
		return id.Value
	}
	return ""
}
