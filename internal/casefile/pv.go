package casefile

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"vigie"
	"vigie/internal/db"
)

// The PV de plainte draft: the procès-verbal of a complaint, written from the
// complaint's data (victim, facts, narrative, items, money trail) so that
// the agent reviews it instead of retyping it. Every page says DRAFT: it is
// not a procedural act until an OPJ has reviewed, completed and signed it in
// the procedure software.

// frenchCategory names offences as a PV does.
var frenchCategory = map[string]string{
	"theft": "Vol simple", "burglary": "Vol par effraction (cambriolage)", "vehicle_theft": "Vol de véhicule",
	"damage": "Dégradation ou détérioration du bien d'autrui", "card_fraud": "Usage frauduleux de carte bancaire",
	"online_scam": "Escroquerie en ligne", "non_delivery": "Escroquerie (bien payé non livré)",
	"fake_ad": "Escroquerie par fausse annonce", "online_harassment": "Harcèlement en ligne",
}

var frenchRole = map[string]string{RoleVictim: "Victime", RoleWitness: "Témoin", RoleSuspect: "Mis en cause"}

var frenchItem = map[string]string{ItemPhone: "Téléphone", ItemVehicle: "Véhicule", ItemCard: "Carte bancaire",
	ItemObject: "Objet", ItemMoney: "Paiement"}

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return l
}()

func frDate(t time.Time) string {
	if t.IsZero() {
		return "non précisé"
	}
	return t.In(paris).Format("02/01/2006 à 15h04")
}

func euros(cents int64) string {
	s := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s,%02d €", b.String(), cents%100)
}

// PV writes the PV de plainte draft of a case as PDF to w. The acting user
// must be allowed to read the case; the generation is journaled as a
// consultation with its motif.
func (s *Service) PV(ctx context.Context, id int64, motif string, w io.Writer) error {
	c, err := s.caseFor(ctx, id, vigie.PermRead)
	if err != nil {
		return err
	}
	d := Detail{Case: c}
	d.Case.UnitName = s.UnitName(ctx, c.UnitID)
	if err := loadDetail(ctx, s.db, &d); err != nil {
		return err
	}
	pdf, err := renderPV(d, s.now())
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.j.Record(ctx, tx, vigie.Record{Action: vigie.ActConsult, Object: "case", ObjectID: strconv.FormatInt(c.ID, 10),
			Dept: c.Dept, UnitID: c.UnitID, Motif: motif, Detail: "PV draft of case " + c.Number})
	})
	if err != nil {
		return err
	}
	return pdf.Output(w)
}

func renderPV(d Detail, now time.Time) (*fpdf.Fpdf, error) {
	c := d.Case
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("Projet de procès-verbal de plainte "+c.Number, true)
	pdf.SetCreator("Vigie", true)
	pdf.SetCreationDate(now)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: the core fonts' French letters
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 22)
	pdf.SetHeaderFunc(func() {
		// SECURITY (procedure): a draft must never pass for a signed act.
		pdf.SetFont("Helvetica", "B", 60)
		pdf.SetTextColor(230, 200, 200)
		pdf.TransformBegin()
		pdf.TransformRotate(45, 105, 150)
		pdf.Text(35, 170, "BROUILLON")
		pdf.TransformEnd()
		pdf.SetTextColor(160, 0, 0)
		pdf.SetFont("Helvetica", "B", 9)
		pdf.CellFormat(0, 5, tr("PROJET À RELIRE — sans valeur de procès-verbal avant relecture et signature"), "", 1, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.Ln(2)
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-15)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.CellFormat(0, 5, tr(fmt.Sprintf("Dossier %s — projet généré par Vigie le %s — page %d/{nb}",
			c.Number, now.In(paris).Format("02/01/2006 15:04"), pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	pdf.AddPage()

	h1 := func(s string) {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.SetFillColor(230, 234, 245)
		pdf.CellFormat(0, 7, tr(s), "", 1, "L", true, 0, "")
		pdf.Ln(1)
	}
	line := func(label, value string) {
		if strings.TrimSpace(value) == "" {
			value = "—"
		}
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(55, 6, tr(label), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 6, tr(value), "", "L", false)
	}
	para := func(s string) {
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 5.5, tr(s), "", "J", false)
	}

	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 10, tr("Procès-verbal de plainte"), "", 1, "C", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, tr(c.UnitName), "", 1, "C", false, 0, "")
	pdf.Ln(2)
	line("Dossier n°", c.Number)
	if c.ComplaintNo != "" {
		line("Plainte en ligne n°", c.ComplaintNo)
		line("Déposée le", frDate(c.SubmittedAt))
	}
	line("Infraction", frenchCategory[c.Category])

	h1("Le plaignant")
	n := 0
	for _, p := range d.Parties {
		if p.Role != RoleVictim {
			continue
		}
		n++
		line("Nom et prénom", p.Name)
		line("Né(e) le", p.BirthDate)
		line("Demeurant", p.Address)
		line("Téléphone", p.Phone)
		line("Courriel", p.Email)
		pdf.Ln(1)
	}
	if n == 0 {
		para("Aucune victime n'est encore enregistrée au dossier : à compléter.")
	}

	h1("Les faits")
	window := "entre le " + frDate(c.FactsFrom) + " et le " + frDate(c.FactsTo)
	if c.FactsFrom.Equal(c.FactsTo) {
		window = "le " + frDate(c.FactsFrom)
	}
	line("Période des faits", window)
	place := c.Place.Address
	if c.Place.INSEE != "" {
		place += " (commune INSEE " + c.Place.INSEE + ")"
	}
	line("Lieu des faits", place)
	pdf.Ln(2)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(0, 6, tr("Déclaration du plaignant :"), "", 1, "L", false, 0, "")
	if strings.TrimSpace(c.Narrative) != "" {
		para("« " + strings.TrimSpace(c.Narrative) + " »")
	} else {
		para("(déclaration à recueillir)")
	}

	var items, money []Item
	for _, it := range d.Items {
		if it.Kind == ItemMoney {
			money = append(money, it)
		} else {
			items = append(items, it)
		}
	}
	if len(items) > 0 {
		h1("Objets et biens concernés")
		for _, it := range items {
			desc := frenchItem[it.Kind]
			if it.Description != "" {
				desc += " — " + it.Description
			}
			if it.Identifier != "" {
				switch it.Kind {
				case ItemPhone:
					desc += " — IMEI " + it.Identifier
				case ItemVehicle:
					desc += " — immatriculé " + it.Identifier
				case ItemCard:
					desc += " — carte " + it.Identifier
				default:
					desc += " — n° de série " + it.Identifier
				}
			}
			if it.Extra != "" && it.Kind == ItemVehicle {
				desc += " — VIN " + it.Extra
			}
			para("• " + desc)
		}
	}
	if len(money) > 0 {
		h1("Flux financiers")
		var total int64
		for _, it := range money {
			s := "• " + euros(it.AmountCents)
			if it.Date != "" {
				if t, err := time.Parse(time.DateOnly, it.Date); err == nil {
					s += " le " + t.Format("02/01/2006")
				}
			}
			if it.IBAN != "" {
				s += " vers l'IBAN " + it.IBAN
			}
			if it.Extra != "" {
				s += " (bénéficiaire : " + it.Extra + ")"
			}
			if it.Description != "" {
				s += " — " + it.Description
			}
			para(s)
			total += it.AmountCents
		}
		line("Préjudice total déclaré", euros(total))
	}
	var others []Party
	for _, p := range d.Parties {
		if p.Role != RoleVictim {
			others = append(others, p)
		}
	}
	if len(others) > 0 {
		h1("Autres personnes")
		for _, p := range others {
			para("• " + frenchRole[p.Role] + " : " + p.Name + optional(", ", p.Details))
		}
	}
	if len(d.Documents) > 0 {
		h1("Pièces jointes")
		for _, doc := range d.Documents {
			para(fmt.Sprintf("• %s (%s, %d octets, SHA-256 %s…)", doc.Name, doc.Type, doc.Size, doc.SHA256[:min(12, len(doc.SHA256))]))
		}
	}
	h1("Mentions à compléter par l'enquêteur")
	para("Le plaignant a été informé de ses droits de victime (articles 10-2 et suivants du code de procédure pénale). " +
		"Lecture faite, le plaignant persiste et signe. — À vérifier, compléter et signer.")
	return pdf, pdf.Error()
}

func optional(sep, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return sep + s
}
