package analytics

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"
)

// WritePlanPDF writes the briefing sheet of a plan: a map of the routes on
// the territory's communes and, per patrol, its ordered stops with arrival
// times and coordinates. tf translates and formats the sheet's English
// texts (the UI's messages file); loc is the département's time zone.
func WritePlanPDF(w io.Writer, p *Plan, a *Area, unitName string, loc *time.Location, tf func(format string, args ...any) string) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 → cp1252 for the core fonts
	t := func(format string, args ...any) string { return tr(tf(format, args...)) }
	pdf.SetTitle(tr(tf("Patrol plan %d", p.ID)), false)
	pdf.SetMargins(15, 15, 15)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 15)
	pdf.CellFormat(0, 8, t("Patrol plan %d", p.ID)+" — "+tr(unitName), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, t("Shift: %s to %s", p.ShiftStart.In(loc).Format("02/01/2006 15:04"), p.ShiftEnd.In(loc).Format("02/01/2006 15:04")), "", 1, "L", false, 0, "")
	pdf.CellFormat(0, 6, t("Model: %s. Forecasts are about places and times, never persons.", p.Model), "", 1, "L", false, 0, "")

	// Map: communes' outlines, routes, stops.
	const mx, my, mw, mh = 15.0, 40.0, 180.0, 120.0
	g := a.Grid
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, pl := range g.Projected.Polygons {
		for _, q := range pl.Outer {
			minX, maxX = min(minX, q[0]), max(maxX, q[0])
			minY, maxY = min(minY, q[1]), max(maxY, q[1])
		}
	}
	scale := math.Min(mw/math.Max(maxX-minX, 1), mh/math.Max(maxY-minY, 1))
	px := func(x, y float64) (float64, float64) { return mx + (x-minX)*scale, my + (maxY-y)*scale }
	pdf.SetDrawColor(150, 150, 150)
	pdf.SetLineWidth(0.15)
	for _, c := range a.Communes {
		for _, pl := range c.Projected {
			pts := make([]fpdf.PointType, 0, len(pl.Outer))
			for i, q := range pl.Outer {
				if i%3 != 0 && i != len(pl.Outer)-1 { // enough detail at this size
					continue
				}
				x, y := px(q[0], q[1])
				pts = append(pts, fpdf.PointType{X: x, Y: y})
			}
			if len(pts) > 2 {
				pdf.Polygon(pts, "D")
			}
		}
	}
	sx, sy := px(a.StartX, a.StartY)
	if p.Params.StartLon != 0 || p.Params.StartLat != 0 {
		x, y := g.Proj.Forward(p.Params.StartLon, p.Params.StartLat)
		sx, sy = px(x, y)
	}
	pdf.SetLineWidth(0.6)
	for i, r := range p.Patrols {
		rr, gg, bb := hexRGB(RouteColour(i))
		pdf.SetDrawColor(rr, gg, bb)
		pdf.SetFillColor(rr, gg, bb)
		lx, ly := sx, sy
		for k, s := range r.Stops {
			x, y := px(s.X, s.Y)
			pdf.Line(lx, ly, x, y)
			pdf.Circle(x, y, 1.6, "F")
			pdf.SetFont("Helvetica", "B", 6)
			pdf.SetTextColor(rr, gg, bb)
			pdf.Text(x+1.8, y-1, strconv.Itoa(i+1)+"."+strconv.Itoa(k+1))
			lx, ly = x, y
		}
		pdf.Line(lx, ly, sx, sy)
	}
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFillColor(0, 0, 0)
	pdf.Rect(sx-1.5, sy-1.5, 3, 3, "F")

	pdf.SetY(my + mh + 6)
	for i, r := range p.Patrols {
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(0, 7, t("Patrol %d: %d places, %d min, %.1f km, %.1f %% of the forecast risk", i+1, len(r.Stops), r.Minutes, r.Km, r.Risk), "", 1, "L", false, 0, "")
		pdf.SetFont("Helvetica", "B", 9)
		for _, h := range []struct {
			s string
			w float64
		}{{"#", 10}, {tf("Arrival"), 25}, {tf("Commune"), 75}, {tf("Latitude, longitude"), 70}} {
			pdf.CellFormat(h.w, 6, tr(h.s), "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("Helvetica", "", 9)
		for k, s := range r.Stops {
			arrive := p.ShiftStart.Add(time.Duration(s.Arrive) * time.Minute).In(loc).Format("15:04")
			pdf.CellFormat(10, 6, strconv.Itoa(k+1), "1", 0, "L", false, 0, "")
			pdf.CellFormat(25, 6, arrive, "1", 0, "L", false, 0, "")
			pdf.CellFormat(75, 6, tr(s.Commune), "1", 0, "L", false, 0, "")
			pdf.CellFormat(70, 6, fmt.Sprintf("%.5f, %.5f", s.Lat, s.Lon), "1", 1, "L", false, 0, "")
		}
		if len(r.Stops) == 0 {
			pdf.CellFormat(0, 6, t("No place fits in this shift."), "", 1, "L", false, 0, "")
		}
		pdf.Ln(3)
	}
	return pdf.Output(w)
}

func hexRGB(s string) (int, int, int) {
	v, _ := strconv.ParseUint(s[1:], 16, 32)
	return int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)
}
