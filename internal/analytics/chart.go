package analytics

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
)

// chartColours are distinguishable for the common colour blindnesses
// (Okabe–Ito).
var chartColours = []string{"#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#999999"}

// WriteChart draws a backtest as an SVG: on the left, each method's hit
// rate against the share of the area flagged (log scale); on the right,
// each method's mean weekly gain over the best count baseline at 5 %, with
// its 95 % interval (mean ± t·sd/√weeks). A method whose interval lies above
// zero beats the baseline by more than the week-to-week noise.
func WriteChart(w io.Writer, res *Result, title string) error {
	const (
		W, H      = 960, 420
		left, top = 60, 50
		pw, ph    = 400, 300
		right     = 560
		rw        = 340
	)
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))

	// Left panel: hit-rate curves.
	lx := func(c float64) float64 { // log scale 0.5 % .. 20 %
		lo, hi := math.Log(0.005), math.Log(0.2)
		return left + (math.Log(c)-lo)/(hi-lo)*pw
	}
	maxHR := 0.0
	for _, m := range res.Methods {
		for _, h := range m.HitRate {
			if !math.IsNaN(h) {
				maxHR = max(maxHR, h)
			}
		}
	}
	maxHR = math.Ceil(maxHR/10) * 10
	if maxHR == 0 {
		maxHR = 10
	}
	ly := func(h float64) float64 { return top + ph - h/maxHR*ph }
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", left, top, pw, ph)
	for h := 0.0; h <= maxHR; h += 10 {
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n", left, left+pw, ly(h), ly(h), left-5, ly(h)+4, h)
	}
	for _, c := range res.Coverages {
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n", lx(c), lx(c), top, top+ph, lx(c), top+ph+16, 100*c)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">share of the area flagged (%%, log scale)</text>`+"\n", left+pw/2, top+ph+34)
	fmt.Fprintf(b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">hit rate (%% of the week's events)</text>`+"\n", top+ph/2, top+ph/2)
	for i, m := range res.Methods {
		col := chartColours[i%len(chartColours)]
		var pts string
		for k, c := range res.Coverages {
			if !math.IsNaN(m.HitRate[k]) {
				pts += fmt.Sprintf("%.1f,%.1f ", lx(c), ly(m.HitRate[k]))
			}
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", pts, col)
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="3" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", left+10, top+12+16*i, col, left+28, top+17+16*i, html.EscapeString(m.Name))
	}

	// Right panel: mean weekly gain at 5 % with 95 % intervals.
	type bar struct {
		name     string
		mean, ci float64
		col      string
	}
	var bars []bar
	span := 1.0
	for i, m := range res.Methods {
		if m.Name == res.Baseline || m.Paired.N < 2 {
			continue
		}
		ci := tCritical(m.Paired.N-1) * m.Paired.SD / math.Sqrt(float64(m.Paired.N))
		bars = append(bars, bar{m.Name, m.Paired.MeanDiff, ci, chartColours[i%len(chartColours)]})
		span = max(span, math.Abs(m.Paired.MeanDiff)+ci)
	}
	span = math.Ceil(span)
	rx := func(v float64) float64 { return right + 130 + (v+span)/(2*span)*(rw-130) }
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">gain over %s at 5 %% (points, 95 %% interval)</text>`+"\n", right, top-8, html.EscapeString(res.Baseline))
	fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#888" stroke-dasharray="4 3"/>`+"\n", rx(0), rx(0), top, top+ph)
	for _, v := range []float64{-span, 0, span} {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%+g</text>`+"\n", rx(v), top+ph+16, v)
	}
	for i, br := range bars {
		y := float64(top) + 20 + float64(i)*28
		fmt.Fprintf(b, `<text x="%d" y="%.1f">%s</text>`+"\n", right, y+4, html.EscapeString(br.name))
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", rx(br.mean-br.ci), rx(br.mean+br.ci), y, y, br.col)
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%+.2f ± %.2f</title></circle>`+"\n", rx(br.mean), y, br.col, br.mean, br.ci)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d">%d cells, %d weeks from %s</text>`+"\n", right, top+ph+34, res.Cells, res.Weeks, res.Periods[0].Start.Format("2006-01-02"))
	fmt.Fprintln(b, `</svg>`)
	return b.Flush()
}

// tCritical is the two-sided 95 % critical value of Student's t.
func tCritical(df int) float64 {
	return studentQuantile(0.975, df)
}
