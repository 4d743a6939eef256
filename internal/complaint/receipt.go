package complaint

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/go-pdf/fpdf"

	"vigie/internal/web"
)

// The receipt (récépissé) of a complaint: on screen, by e-mail and as a
// PDF. It carries the complaint's number, date, offence and brigade, and a
// verification code with a QR code of the public verification address, so
// that an insurer or a bank can check it is genuine; the page they reach
// shows nothing more than the receipt itself.

// VerifyURL is the public address that confirms a receipt.
func (s *Service) VerifyURL(code string) string { return s.cfg.BaseURL + "/verify/" + code }

// qrCode encodes text as a QR code (error correction level M).
func qrCode(text string) (barcode.Barcode, error) {
	return qr.Encode(text, qr.M, qr.Auto)
}

// QRSVG returns the QR code of text as inline SVG (one path, no script).
func QRSVG(text string, size int) (template.HTML, error) {
	code, err := qrCode(text)
	if err != nil {
		return "", err
	}
	b := code.Bounds()
	n := b.Dx()
	var p strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark(code.At(b.Min.X+x, b.Min.Y+y)) {
				fmt.Fprintf(&p, "M%d %dh1v1h-1z", x+4, y+4)
			}
		}
	}
	w := n + 8 // quiet zone of 4 modules
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="QR code"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		w, w, size, size, w, w, p.String())), nil
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

// ReceiptPDF writes the receipt of c as a PDF document, in French.
func (s *Service) ReceiptPDF(w io.Writer, c *Complaint, unitName string) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 → cp1252 for the core fonts
	pdf.SetTitle("Récépissé "+c.Number, true)
	pdf.SetProducer("Vigie", true)
	pdf.SetCreationDate(c.SubmittedAt)
	pdf.SetMargins(20, 20, 20)
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 11)
	pdf.MultiCell(80, 5, tr("RÉPUBLIQUE\nFRANÇAISE"), "", "L", false)
	pdf.SetFont("Helvetica", "", 9)
	pdf.CellFormat(0, 5, tr("Gendarmerie nationale — Vigie"), "", 1, "L", false, 0, "")
	pdf.Ln(8)

	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 9, tr("Récépissé de dépôt de plainte en ligne"), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, tr("Ce récépissé atteste que la plainte ci-dessous a été déposée en ligne. Il peut être présenté à un assureur ou à une banque, qui peuvent en vérifier l'authenticité."), "", "L", false)
	pdf.Ln(4)

	cat := c.Category
	if x, ok := CategoryOf(c.Category); ok {
		cat = frenchLabel(x.Label)
	}
	rows := [][2]string{
		{"Numéro de plainte", c.Number},
		{"Déposée le", c.SubmittedAt.In(paris).Format("02/01/2006 à 15:04")},
		{"Infraction", cat},
		{"Faits survenus", window(c)},
		{"Service destinataire", unitName},
		{"Déclarant", declarant(&c.Form)},
	}
	for _, r := range rows {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(55, 7, tr(r[0]), "B", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.CellFormat(0, 7, tr(r[1]), "B", 1, "L", false, 0, "")
	}
	pdf.Ln(8)

	// QR code of the verification address, drawn as vector squares.
	url := s.VerifyURL(c.VerifyCode)
	code, err := qrCode(url)
	if err != nil {
		return fmt.Errorf("complaint: receipt QR: %w", err)
	}
	b := code.Bounds()
	n := b.Dx()
	const side = 40.0
	m := side / float64(n)
	x0, y0 := 20.0, pdf.GetY()
	pdf.SetFillColor(0, 0, 0)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark(code.At(b.Min.X+x, b.Min.Y+y)) {
				pdf.Rect(x0+float64(x)*m, y0+float64(y)*m, m, m, "F")
			}
		}
	}
	pdf.SetXY(x0+side+8, y0)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(0, 6, tr("Vérifier ce récépissé"), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, tr("Scannez le code QR ou rendez-vous sur "+s.cfg.BaseURL+"/verify et saisissez le code :"), "", "L", false)
	pdf.SetX(x0 + side + 8)
	pdf.SetFont("Courier", "B", 14)
	pdf.CellFormat(0, 9, FormatCode(c.VerifyCode), "", 2, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 8)
	pdf.SetX(x0 + side + 8)
	pdf.MultiCell(0, 4, tr("La page de vérification confirme le numéro, la date, l'infraction et le service destinataire, et rien d'autre."), "", "L", false)
	pdf.SetY(y0 + side + 10)
	pdf.SetFont("Helvetica", "I", 8)
	pdf.MultiCell(0, 4, tr("Une fausse déclaration expose son auteur à des poursuites (article 434-26 du code pénal). Suivez votre plainte et échangez avec la brigade depuis votre espace : "+s.cfg.BaseURL+"/complaints"), "", "L", false)
	if pdf.Err() {
		return fmt.Errorf("complaint: receipt PDF: %w", pdf.Error())
	}
	return pdf.Output(w)
}

// ReceiptBytes renders the receipt PDF in memory.
func (s *Service) ReceiptBytes(c *Complaint, unitName string) ([]byte, error) {
	var buf bytes.Buffer
	err := s.ReceiptPDF(&buf, c, unitName)
	return buf.Bytes(), err
}

func window(c *Complaint) string {
	from, to := c.FactsFrom.In(paris), c.FactsTo.In(paris)
	if from.Equal(to) {
		return "le " + from.Format("02/01/2006 à 15:04")
	}
	return "entre le " + from.Format("02/01/2006 15:04") + " et le " + to.Format("02/01/2006 15:04")
}

func declarant(f *Form) string {
	if f.VictimIs == "other" && f.Contact.Name != "" {
		return f.Contact.Name + " pour " + f.Victim.Name
	}
	return f.Victim.Name
}

// frenchLabel translates an English label with the area's catalog.
func frenchLabel(s string) string { return web.T("fr", s) }
