package complaint

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"vigie/internal/db"
	"vigie/internal/org"
)

// Demo data: about 18 months of complaint history for each département,
// with delays that differ by brigade and improve over time, so that the
// queues and the delays dashboard say something. Deterministic (seeded
// random; times are relative to now). Demo rows are written directly, not
// journaled: they record nothing that anyone did.

// DemoOptions shapes the demo.
type DemoOptions struct {
	Depts                     []string // "" or nil: every département in the database
	PerDept                   int      // complaints per département (default 160)
	CitizenID                 int64    // the demo citizen, who owns a few complaints of 01
	CitizenName, CitizenEmail string
	Now                       time.Time
}

var demoFirst = []string{"Lucie", "Hugo", "Nathalie", "Karim", "Sophie", "Thomas", "Inès", "Julien", "Chloé", "Mehdi", "Claire", "Antoine", "Léa", "Paul", "Sarah", "Nicolas", "Manon", "Olivier", "Emma", "Yanis"}
var demoLast = []string{"Lefebvre", "Moreau", "Girard", "Roux", "Fournier", "Bonnet", "Lambert", "Fontaine", "Chevalier", "Robin", "Masson", "Gauthier", "Perrin", "Morel", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier", "Faure"}

// The serial online scam of the demo: the same IBAN, phone and site in
// several départements, so that linked complaints can be seen. They are the
// case files' demo scam (internal/casefile/demo.go) too, so that complaints
// and cases link.
const (
	demoScamIBAN  = "FR76 3000 6000 0112 3456 7890 189"
	demoScamPhone = "06 12 34 56 78"
	demoScamSite  = "https://livraison-express-colis.example.com/paiement"
)

var demoNarratives = map[string][]string{
	CatTheft:            {"On m'a volé mon sac à main à la terrasse d'un café pendant que je payais. Il contenait mon portefeuille et mon téléphone.", "Mon vélo attaché devant la gare a disparu, l'antivol a été coupé."},
	CatBurglary:         {"En rentrant de vacances, nous avons trouvé la porte fracturée. Des bijoux et un ordinateur portable ont été volés.", "La porte de ma cave a été forcée dans la nuit, des outils ont disparu."},
	CatVehicleTheft:     {"Ma voiture garée dans la rue a disparu ce matin.", "Mon scooter a été volé dans le parking de la résidence."},
	CatDamage:           {"Les quatre pneus de ma voiture ont été crevés pendant la nuit.", "Un tag a été peint sur la façade de mon commerce."},
	CatCardFraud:        {"Des paiements en ligne que je n'ai pas faits apparaissent sur mon relevé, alors que j'ai toujours ma carte.", "Plusieurs retraits à l'étranger ont été débités sur ma carte bancaire."},
	CatOnlineScam:       {"Un faux conseiller bancaire m'a appelé et m'a fait valider des virements vers un compte inconnu.", "J'ai payé un acompte pour une location de vacances qui n'existait pas."},
	CatNonDelivery:      {"J'ai commandé une console sur un site qui n'a jamais livré et ne répond plus.", "J'ai payé un canapé sur une plateforme de petites annonces, jamais reçu."},
	CatFakeAd:           {"L'annonce de location d'appartement était fausse, j'ai versé la caution par virement.", "Une fausse annonce de vente de voiture m'a fait verser un acompte."},
	CatOnlineHarassment: {"Je reçois chaque jour des messages insultants sur mes réseaux sociaux d'un compte anonyme.", "Un compte anonyme publie des menaces à mon encontre."},
}

// SeedDemo writes the demo's complaints in tx.
func (s *Service) SeedDemo(ctx context.Context, tx *db.Tx, o DemoOptions) error {
	if o.PerDept == 0 {
		o.PerDept = 160
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	depts := o.Depts
	if len(depts) == 0 {
		ds, err := s.cfg.Org.Departements(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			depts = append(depts, d.Code)
		}
	}
	for i, dept := range depts {
		if err := s.seedDept(ctx, tx, dept, uint64(i+1), o); err != nil {
			return fmt.Errorf("complaint demo %s: %w", dept, err)
		}
	}
	return nil
}

type demoBrigade struct {
	id       int64
	communes []string
	speed    float64 // median hours to acknowledge
}

func (s *Service) seedDept(ctx context.Context, tx *db.Tx, dept string, seed uint64, o DemoOptions) error {
	r := rand.New(rand.NewPCG(seed, 2026))
	units, err := s.cfg.Org.Units(ctx, dept)
	if err != nil {
		return err
	}
	communes, err := s.cfg.Org.Communes(ctx, dept, false)
	if err != nil {
		return err
	}
	byBrigade := map[int64][]string{}
	for _, c := range communes {
		if c.BrigadeID != 0 {
			byBrigade[c.BrigadeID] = append(byBrigade[c.BrigadeID], c.INSEE)
		}
	}
	var brigades []demoBrigade
	var groupement int64
	for _, u := range units {
		switch u.Kind {
		case org.Groupement:
			groupement = u.ID
		case org.Brigade:
			if cs := byBrigade[u.ID]; len(cs) > 0 {
				brigades = append(brigades, demoBrigade{id: u.ID, communes: cs, speed: 4 + 60*r.Float64()*r.Float64()})
			}
		}
	}
	if len(brigades) == 0 || groupement == 0 {
		return nil
	}
	// Submission times over the last 18 months, more recent ones denser
	// (online filing grows), sorted so that numbers follow dates.
	n := o.PerDept
	times := make([]time.Time, n)
	span := 540 * 24 * time.Hour
	for i := range times {
		f := math.Sqrt(r.Float64()) // density grows with time
		times[i] = o.Now.Add(-span + time.Duration(f*float64(span))).Truncate(time.Minute)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	cats := []string{CatTheft, CatBurglary, CatVehicleTheft, CatDamage, CatCardFraud, CatOnlineScam, CatNonDelivery, CatFakeAd, CatOnlineHarassment}
	scamLinked := map[string]int{"01": 3, "33": 2, "2A": 2, "69": 1}[dept]
	for i, sub := range times {
		cat := cats[r.IntN(len(cats))]
		b := brigades[r.IntN(len(brigades))]
		f := Form{Emergency: "no", AuthorKnown: "no", Violence: "no", Category: cat, VictimIs: "self", Consent: "yes"}
		f.Narrative = demoNarratives[cat][r.IntN(len(demoNarratives[cat]))]
		f.Victim = Person{Name: demoFirst[r.IntN(len(demoFirst))] + " " + demoLast[r.IntN(len(demoLast))], Email: fmt.Sprintf("victime%d.%s@demo.vigie.invalid", i, dept)}
		var owner int64
		unit := b.id
		insee := b.communes[r.IntN(len(b.communes))]
		how := "commune"
		f.Commune = insee
		canary := ""
		switch {
		case dept == "01" && i == n-5:
			canary = "Camille Martin" // canaries of the authorization tests
		case dept == "2A" && i == n-5:
			canary = "Ange Santoni"
		case dept == "974" && i == n-5:
			canary = "Mélissa Hoarau"
		case dept == "01" && o.CitizenID != 0 && (i == n-1 || i == n-12 || i == n-40):
			owner = o.CitizenID
			f.Victim = Person{Name: o.CitizenName, Email: o.CitizenEmail}
		}
		if categoryInfo(cat).Money {
			f.Payments = []Payment{{Amount: strconv.Itoa(50+r.IntN(1500)) + ",00", Date: sub.Add(-48 * time.Hour).In(paris).Format("2006-01-02")}}
			if scamLinked > 0 && (cat == CatOnlineScam || cat == CatFakeAd) {
				scamLinked--
				f.Payments[0].IBAN = demoScamIBAN
				f.ScamPhone = demoScamPhone
				f.Website = demoScamSite
				f.Narrative += " Le vendeur m'a contacté au " + demoScamPhone + " et m'a demandé un virement."
			}
		}
		if categoryInfo(cat).Online && r.IntN(2) == 0 {
			f.NoPlace, f.Dept, f.Commune, insee, how = "yes", dept, "", "", "online"
			unit = groupement
		}
		if canary != "" {
			// An online complaint held by the groupement: only the
			// département's own staff may read it.
			cat = CatOnlineScam
			f.Category, f.Narrative = cat, demoNarratives[cat][0]
			f.Victim.Name = canary
			f.NoPlace, f.Dept, f.Commune, insee, how = "yes", dept, "", "", "online"
			unit = groupement
		}
		from := sub.Add(-time.Duration(1+r.IntN(72)) * time.Hour)
		f.From = from.In(paris).Format("2006-01-02T15:04")
		f.To = sub.Add(-time.Hour).In(paris).Format("2006-01-02T15:04")
		// Delays: the brigade's own pace, faster over time.
		age := o.Now.Sub(sub)
		progress := 1 - age.Hours()/span.Hours() // 0 oldest → 1 newest
		ackH := b.speed * (1.4 - 0.8*progress) * math.Exp(r.NormFloat64()*0.6)
		ack := sub.Add(time.Duration(ackH * float64(time.Hour)))
		first := ack.Add(time.Duration((2 + 40*r.Float64()) * float64(time.Hour)))
		closeD := (3 + 25*r.Float64()) * (1.3 - 0.6*progress)
		closed := sub.Add(time.Duration(closeD * 24 * float64(time.Hour)))
		c := Complaint{VerifyCode: newCode(), Dept: dept, UnitID: unit, OwnerID: owner, Category: cat, Priority: "normal",
			INSEE: insee, RoutedBy: how, FactsFrom: from.UTC(), FactsTo: sub.Add(-time.Hour).UTC(), Form: f, SubmittedAt: sub.UTC(), UpdatedAt: sub.UTC()}
		if cat == CatOnlineHarassment || cat == CatBurglary {
			c.Priority = "high"
		}
		var steps [][2]any // (step, time)
		steps = append(steps, [2]any{StepReceived, sub})
		switch {
		case ack.After(o.Now):
			// not yet taken in hand
		case closed.After(o.Now):
			c.AckedAt = ack.UTC()
			steps = append(steps, [2]any{StepProcessing, ack})
			if first.Before(o.Now) {
				c.FirstActionAt = first.UTC()
				st := StepInfoRequested
				if r.IntN(3) == 0 {
					st = StepAppointmentProposed
				}
				steps = append(steps, [2]any{st, first})
			}
		default:
			c.AckedAt, c.FirstActionAt, c.ClosedAt = ack.UTC(), first.UTC(), closed.UTC()
			if c.ClosedAt.Before(c.FirstActionAt) {
				c.FirstActionAt = c.ClosedAt
			}
			steps = append(steps, [2]any{StepProcessing, ack})
			final := StepRegistered
			switch x := r.IntN(10); {
			case x == 0:
				final = StepRejected
			case x < 4:
				final = StepForwarded
			case x < 6:
				final = StepClosed
			}
			steps = append(steps, [2]any{final, closed})
		}
		c.Step = steps[len(steps)-1][0].(string)
		if c.Step != StepReceived {
			c.AssigneeName = "Gendarme " + demoLast[r.IntN(len(demoLast))]
		}
		if c.Number, err = nextNumber(ctx, tx, dept, sub.In(paris)); err != nil {
			return err
		}
		c.UpdatedAt = steps[len(steps)-1][1].(time.Time).UTC()
		if err := insertComplaint(ctx, tx, &c); err != nil {
			return err
		}
		for _, st := range steps {
			text := ""
			switch st[0] {
			case StepInfoRequested:
				text = "Pouvez-vous nous transmettre une copie de votre relevé bancaire ?"
			case StepAppointmentProposed:
				text = "Nous souhaitons vous rencontrer : choisissez un créneau sur cette page."
			case StepRejected:
				text = "Les faits relèvent d'un litige civil et non d'une infraction pénale."
			}
			if err := insertEvent(ctx, tx, &Event{ComplaintID: c.ID, At: st[1].(time.Time).UTC(), Kind: "step", Step: st[0].(string), Public: true, Text: text}); err != nil {
				return err
			}
		}
		if s.cfg.IndexIdentifiers != nil {
			if ids := s.checker().Identifiers(&c.Form); len(ids) > 0 {
				if err := s.cfg.IndexIdentifiers(ctx, tx, c.ID, c.Dept, c.UnitID, ids); err != nil {
					return err
				}
			}
		}
	}
	// A few free appointment slots in each brigade, over the next days.
	day := time.Date(o.Now.Year(), o.Now.Month(), o.Now.Day(), 9, 0, 0, 0, paris)
	for _, b := range brigades {
		for d := 1; d <= 5; d++ {
			for k := 0; k < 3; k++ {
				at := day.AddDate(0, 0, d).Add(time.Duration(k*30) * time.Minute)
				if _, err := tx.Exec(ctx, `INSERT INTO complaint_slots (unit_id, starts_at, minutes, complaint_id, created_by) VALUES (?, ?, 30, 0, 0)`, b.id, db.Millis(at)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// categoryInfo returns the category of code c (zero Category if unknown).
func categoryInfo(c string) Category { x, _ := CategoryOf(c); return x }
