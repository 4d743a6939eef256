package complaint

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/web"
)

// The delays dashboard: does online filing cut processing delays? For each
// brigade, compagnie and département of the reader's scope: time to
// acknowledge (first taken in hand), time to first action (first answer the
// citizen sees), time to close (decision), backlog and monthly trend.
// Aggregated figures only: no personal data, hence vigie.PermStats.

// DelayRow is the figures of one unit (or of a month).
type DelayRow struct {
	UnitID     int64
	Name       string
	Kind       string
	Depth      int
	Received   int
	Backlog    int     // open now
	Late       int     // open and past a deadline
	AckMedian  float64 // hours
	FirstMed   float64 // hours
	CloseMed   float64 // days
	AckWithin  float64 // share acknowledged within AckWithin, 0..1
	ack, first []float64
	close      []float64
	ackOK      int
}

func (d *DelayRow) add(sub, ack, first, closed time.Time, step string, now time.Time) {
	d.Received++
	if IsOpen(step) {
		d.Backlog++
		if lateness(step, sub, ack, now) != "" {
			d.Late++
		}
	}
	if !ack.IsZero() {
		h := ack.Sub(sub).Hours()
		d.ack = append(d.ack, h)
		if h <= AckWithin.Hours() {
			d.ackOK++
		}
	}
	if !first.IsZero() {
		d.first = append(d.first, first.Sub(sub).Hours())
	}
	if !closed.IsZero() {
		d.close = append(d.close, closed.Sub(sub).Hours()/24)
	}
}

func (d *DelayRow) merge(o *DelayRow) {
	d.Received += o.Received
	d.Backlog += o.Backlog
	d.Late += o.Late
	d.ackOK += o.ackOK
	d.ack = append(d.ack, o.ack...)
	d.first = append(d.first, o.first...)
	d.close = append(d.close, o.close...)
}

func (d *DelayRow) finish() {
	d.AckMedian, d.FirstMed, d.CloseMed = median(d.ack), median(d.first), median(d.close)
	if d.Received > 0 {
		d.AckWithin = float64(d.ackOK) / float64(d.Received)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// Delays are the dashboard's figures.
type Delays struct {
	From, To time.Time
	Units    []DelayRow // depth-first: département, compagnies, brigades
	Months   []DelayRow // Name is "2026-03"
	Total    DelayRow
}

// Delays computes the figures for the units (and the months) since from.
func (s *Service) Delays(ctx context.Context, units []int64, tree unitTree, names map[int64]string, from time.Time) (Delays, error) {
	now := s.cfg.Now()
	out := Delays{From: from, To: now}
	if len(units) == 0 {
		return out, nil
	}
	args := []any{db.Millis(from)}
	for _, u := range units {
		args = append(args, u)
	}
	rows, err := s.db.Query(ctx, `SELECT unit_id, step, submitted_at, acked_at, first_action_at, closed_at FROM complaints
WHERE submitted_at >= ? AND unit_id IN (`+placeholders(len(units))+`)`, args...)
	if err != nil {
		return out, fmt.Errorf("complaint: delays: %w", err)
	}
	defer rows.Close()
	own := map[int64]*DelayRow{}
	months := map[string]*DelayRow{}
	for rows.Next() {
		var unit int64
		var step string
		var sub, ack, first, closed int64
		if err := rows.Scan(&unit, &step, &sub, &ack, &first, &closed); err != nil {
			return out, err
		}
		st, at, ft, ct := db.Time(sub), db.Time(ack), db.Time(first), db.Time(closed)
		if own[unit] == nil {
			own[unit] = &DelayRow{UnitID: unit}
		}
		own[unit].add(st, at, ft, ct, step, now)
		m := st.In(paris).Format("2006-01")
		if months[m] == nil {
			months[m] = &DelayRow{Name: m}
		}
		months[m].add(st, at, ft, ct, step, now)
		out.Total.add(st, at, ft, ct, step, now)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	// Roll each unit's figures up into every unit of the scope above it.
	in := map[int64]bool{}
	for _, u := range units {
		in[u] = true
	}
	agg := map[int64]*DelayRow{}
	for _, u := range units {
		agg[u] = &DelayRow{UnitID: u, Name: names[u], Kind: string(tree.Kind(u))}
	}
	for u, r := range own {
		for a := u; a != 0; a = tree.Parent(a) {
			if in[a] {
				agg[a].merge(r)
			}
		}
	}
	// Depth-first order from the scope's roots.
	var walk func(u int64, depth int)
	walk = func(u int64, depth int) {
		r := agg[u]
		r.Depth = depth
		r.finish()
		out.Units = append(out.Units, *r)
		var kids []int64
		for _, k := range units {
			if tree.Parent(k) == u {
				kids = append(kids, k)
			}
		}
		slices.SortFunc(kids, func(a, b int64) int { return strings.Compare(names[a], names[b]) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, u := range units {
		if !in[tree.Parent(u)] {
			walk(u, 0)
		}
	}
	for m, r := range months {
		_ = m
		r.finish()
		out.Months = append(out.Months, *r)
	}
	slices.SortFunc(out.Months, func(a, b DelayRow) int { return strings.Compare(a.Name, b.Name) })
	out.Total.finish()
	return out, nil
}

// trendSVG draws the monthly trend: bars of complaints received, and the
// line of the median time to acknowledge. Server-rendered, no script.
func trendSVG(title string, months []DelayRow, lblRecv, lblAck string) template.HTML {
	if len(months) == 0 {
		return ""
	}
	const W, H, pad = 720.0, 240.0, 36.0
	maxN, maxH := 1, 1.0
	for _, m := range months {
		maxN = max(maxN, m.Received)
		if !math.IsNaN(m.AckMedian) {
			maxH = math.Max(maxH, m.AckMedian)
		}
	}
	bw := (W - 2*pad) / float64(len(months))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" class="vigie-chart">`, W, H, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#666"/>`, pad, H-pad, W-pad, H-pad)
	var line []string
	for i, m := range months {
		x := pad + float64(i)*bw
		h := (H - 2*pad) * float64(m.Received) / float64(maxN)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#6a6af4"><title>%s: %d</title></rect>`, x+bw*0.15, H-pad-h, bw*0.7, h, m.Name, m.Received)
		if i%3 == 0 || i == len(months)-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="10" text-anchor="middle">%s</text>`, x+bw/2, H-pad+14, m.Name)
		}
		if !math.IsNaN(m.AckMedian) {
			line = append(line, fmt.Sprintf("%.1f,%.1f", x+bw/2, H-pad-(H-2*pad)*m.AckMedian/maxH))
		}
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#e1000f" stroke-width="2"/>`, strings.Join(line, " "))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="14" font-size="11" fill="#6a6af4">■ %s (max %d)</text>`, pad, template.HTMLEscapeString(lblRecv), maxN)
	fmt.Fprintf(&b, `<text x="%.0f" y="28" font-size="11" fill="#e1000f">— %s (max %.0f h)</text>`, pad, template.HTMLEscapeString(lblAck), maxH)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type delaysPage struct {
	D          Delays
	Chart      template.HTML
	Months     int
	AckHours   int
	DecideDays int
}

func (h *Handler) pageDelays(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	units, err := h.scope(ctx, vigie.PermStats)
	if err != nil {
		return err
	}
	months := 18
	from := time.Now().In(paris).AddDate(0, -months, 0)
	from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, paris)
	d, err := h.svc.Delays(ctx, units, h.tree, h.unitNames(ctx, units), from)
	if err != nil {
		return err
	}
	lang := web.Lang(r)
	chart := trendSVG(web.T(lang, "Monthly trend"), d.Months, web.T(lang, "complaints received"), web.T(lang, "median time to acknowledge"))
	return h.s.Render(w, r, "complaint/delays.html", delaysPage{D: d, Chart: chart, Months: months, AckHours: int(AckWithin.Hours()), DecideDays: int(DecideWithin.Hours() / 24)})
}

func num(x float64, prec int) string {
	if math.IsNaN(x) {
		return "—"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// Ack is the median time to acknowledge, in hours, for display.
func (d DelayRow) Ack() string { return num(d.AckMedian, 1) }

// First is the median time to first action, in hours, for display.
func (d DelayRow) First() string { return num(d.FirstMed, 1) }

// Close is the median time to close, in days, for display.
func (d DelayRow) Close() string { return num(d.CloseMed, 1) }

// OnTime is the share acknowledged within the deadline, in percent.
func (d DelayRow) OnTime() string {
	if d.Received == 0 {
		return "—"
	}
	return num(100*d.AckWithin, 0) + " %"
}
