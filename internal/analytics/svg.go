package analytics

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// The risk map is an inline SVG drawn in the grid's projection (so that
// cells are squares): commune outlines tinted by brigade, the cells of the
// top 20 % coloured by risk class, the flagged cells outlined and numbered,
// the recent events of the chosen layers as dots, and patrol routes. No
// tiles, nothing fetched from elsewhere, no script.

const mapWidth = 800.0

// riskClasses: share of the area (top x %) → fill, darkest first.
var riskClasses = []struct {
	Top  float64
	Fill string
}{{1, "#67000d"}, {2, "#cb181d"}, {5, "#fb6a4a"}, {10, "#fcae91"}, {20, "#fee5d9"}}

// RiskClasses returns the legend: top share and colour.
func RiskClasses() [][2]string {
	var out [][2]string
	for _, c := range riskClasses {
		out = append(out, [2]string{fmt.Sprintf("%g", c.Top), c.Fill})
	}
	return out
}

var layerColours = map[Source]string{SourceOffence: "#000091", SourceCall: "#009081", SourceLAPI: "#a558a0", SourcePatrol: "#18753c"}

// LayerColour is the colour of a source's dots.
func LayerColour(s Source) string { return layerColours[s] }

var brigadeTints = []string{"#f5f5fe", "#fef4f2", "#f3fbf6", "#fef6e3", "#f6f0fb", "#eef9fc"}

// MapInput is what DrawMap draws.
type MapInput struct {
	Title    string
	Area     *Area
	Forecast *Forecast // nil or TooLittle: outlines only
	Layers   []Source
	Routes   []PatrolRoute
}

// DrawMap returns the SVG markup of a risk map.
func DrawMap(in MapInput) template.HTML {
	a := in.Area
	g := a.Grid
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range g.Projected.Polygons {
		for _, q := range p.Outer {
			minX, maxX = min(minX, q[0]), max(maxX, q[0])
			minY, maxY = min(minY, q[1]), max(maxY, q[1])
		}
	}
	scale := mapWidth / math.Max(maxX-minX, 1)
	height := math.Ceil((maxY - minY) * scale)
	px := func(x, y float64) (float64, float64) { return (x - minX) * scale, (maxY - y) * scale }

	var b strings.Builder
	b.Grow(1 << 18)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="risk-title" class="vigie-map" width="100%%">`, mapWidth, height)
	fmt.Fprintf(&b, `<title id="risk-title">%s</title>`, html.EscapeString(in.Title))
	tint := map[int64]string{}
	for _, c := range a.Communes {
		if _, ok := tint[c.BrigadeID]; !ok {
			tint[c.BrigadeID] = brigadeTints[len(tint)%len(brigadeTints)]
		}
	}
	for _, c := range a.Communes {
		fmt.Fprintf(&b, `<path fill="%s" stroke="#929292" stroke-width="0.5" fill-rule="evenodd" d="`, tint[c.BrigadeID])
		for _, p := range c.Projected {
			writeRing(&b, p.Outer, px)
			for _, h := range p.Holes {
				writeRing(&b, h, px)
			}
		}
		fmt.Fprintf(&b, `"><title>%s (%s)</title></path>`, html.EscapeString(c.Name), html.EscapeString(c.INSEE))
	}
	f := in.Forecast
	side := g.Size * scale
	if f != nil && !f.TooLittle {
		for c, top := range f.Top {
			if f.Scores[c] <= 0 || top > 20 {
				continue
			}
			fill := riskClasses[len(riskClasses)-1].Fill
			for _, rc := range riskClasses {
				if top <= rc.Top {
					fill = rc.Fill
					break
				}
			}
			x, y := g.Center(c)
			sx, sy := px(x-g.Size/2, y+g.Size/2)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.2f" height="%.2f" fill="%s" fill-opacity="0.85"/>`, sx, sy, side, side, fill)
		}
		for _, fc := range f.Flagged {
			x, y := g.Center(fc.Cell)
			sx, sy := px(x-g.Size/2, y+g.Size/2)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.2f" height="%.2f" fill="none" stroke="#161616" stroke-width="0.8" data-rank="%d"><title>%d</title></rect>`,
				sx, sy, side, side, fc.Rank, fc.Rank)
			if fc.Rank <= 20 {
				cx, cy := px(x, y)
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle" fill="#161616" stroke="#fff" stroke-width="2" paint-order="stroke">%d</text>`, cx, cy-side/2-1, fc.Rank)
			}
		}
		for _, src := range in.Layers {
			col := layerColours[src]
			for _, r := range f.Recent[src] {
				x, y := g.Proj.Forward(r.Lon, r.Lat)
				sx, sy := px(x, y)
				if sx < 0 || sy < 0 || sx > mapWidth || sy > height {
					continue
				}
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="1.8" fill="%s" data-source="%s"/>`, sx, sy, col, src)
			}
		}
	}
	for i, r := range in.Routes {
		col := routeColours[i%len(routeColours)]
		sx, sy := px(a.StartX, a.StartY)
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="5 3" data-patrol="%d" points="%.1f,%.1f`, col, i+1, sx, sy)
		for _, s := range r.Stops {
			x, y := px(s.X, s.Y)
			fmt.Fprintf(&b, ` %.1f,%.1f`, x, y)
		}
		fmt.Fprintf(&b, ` %.1f,%.1f"/>`, sx, sy)
		for k, s := range r.Stops {
			x, y := px(s.X, s.Y)
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s"/><text x="%.1f" y="%.1f" font-size="7" text-anchor="middle" fill="#fff">%d</text>`, x, y, col, x, y+2.5, k+1)
		}
	}
	if len(in.Routes) > 0 {
		sx, sy := px(a.StartX, a.StartY)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="8" height="8" fill="#161616"/>`, sx-4, sy-4)
	}
	b.WriteString(`</svg>`)
	// The markup is built above from numbers and escaped names only.
	return template.HTML(b.String())
}

var routeColours = []string{"#000091", "#c9191e", "#18753c", "#b34000", "#6e445a", "#009081"}

// RouteColour is the colour of patrol i (from 0) on maps.
func RouteColour(i int) string { return routeColours[i%len(routeColours)] }

func writeRing(b *strings.Builder, r Ring, px func(x, y float64) (float64, float64)) {
	lx, ly := math.Inf(1), math.Inf(1)
	for i, q := range r {
		x, y := px(q[0], q[1])
		if i > 0 && i < len(r)-1 && math.Abs(x-lx) < 0.6 && math.Abs(y-ly) < 0.6 {
			continue
		}
		if i == 0 {
			b.WriteByte('M')
		} else {
			b.WriteByte('L')
		}
		fmt.Fprintf(b, "%.1f %.1f", x, y)
		lx, ly = x, y
	}
	b.WriteByte('Z')
}
