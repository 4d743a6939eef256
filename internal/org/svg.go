package org

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
)

// The map of a département is an inline SVG drawn from its own commune
// geometry (no tiles, nothing fetched from elsewhere). Longitude and
// latitude are projected equirectangularly, x scaled by the cosine of the
// mean latitude, which is faithful enough at the scale of a département.

// palette is a qualitative palette (ColorBrewer Set3 and Pastel1 tones,
// readable under black outlines).
var palette = []string{
	"#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
	"#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f",
}

const unassignedFill = "#f6f6f6"

// MapWidth is the width of the map in SVG units.
const mapWidth = 800.0

// drawMap returns the SVG of the communes, coloured by brigade, and the
// colour of each brigade. names gives the brigades' names for the tooltips.
func drawMap(title string, communes []Commune, names map[int64]string) (template.HTML, map[int64]string) {
	type item struct {
		c Commune
		s shape
	}
	var items []item
	box := emptyBox()
	for _, c := range communes {
		s, err := parseGeometry([]byte(c.Geometry))
		if err != nil {
			continue
		}
		items = append(items, item{c, s})
		box.union(s.box)
	}
	if len(items) == 0 || box.empty() {
		return "", nil
	}
	k := math.Cos((box.minY + box.maxY) / 2 * math.Pi / 180)
	scale := mapWidth / math.Max((box.maxX-box.minX)*k, 1e-9)
	height := (box.maxY - box.minY) * scale
	proj := func(p point) (float64, float64) {
		return (p.x - box.minX) * k * scale, (box.maxY - p.y) * scale
	}

	// Colour brigades so that neighbours (by centre distance) differ: each
	// brigade takes the first colour its nearest already-coloured brigades
	// do not use.
	centres := map[int64]point{}
	counts := map[int64]float64{}
	for _, it := range items {
		if b := it.c.BrigadeID; b != 0 {
			c := centres[b]
			x, y := proj(point{(it.s.box.minX + it.s.box.maxX) / 2, (it.s.box.minY + it.s.box.maxY) / 2})
			centres[b] = point{c.x + x, c.y + y}
			counts[b]++
		}
	}
	ids := make([]int64, 0, len(centres))
	for id := range centres {
		c := centres[id]
		centres[id] = point{c.x / counts[id], c.y / counts[id]}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	colours := map[int64]string{}
	for _, id := range ids {
		done := make([]int64, 0, len(colours))
		for o := range colours {
			done = append(done, o)
		}
		slices.SortFunc(done, func(a, b int64) int {
			return cmp.Or(cmp.Compare(dist2(centres[a], centres[id]), dist2(centres[b], centres[id])), cmp.Compare(a, b))
		})
		used := map[string]bool{}
		for _, o := range done[:min(len(done), len(palette)-1)] {
			used[colours[o]] = true
		}
		for _, p := range palette {
			if !used[p] {
				colours[id] = p
				break
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="carte-titre" class="vigie-map" width="100%%">`, mapWidth, math.Ceil(height))
	fmt.Fprintf(&b, `<title id="carte-titre">%s</title>`, html.EscapeString(title))
	for _, it := range items {
		fill := unassignedFill
		label := it.c.Name + " (" + it.c.INSEE + ")"
		if col, ok := colours[it.c.BrigadeID]; ok {
			fill = col
			label += " — " + names[it.c.BrigadeID]
		}
		fmt.Fprintf(&b, `<path fill="%s" stroke="#3a3a3a" stroke-width="0.4" fill-rule="evenodd" data-insee="%s" d="`, fill, html.EscapeString(it.c.INSEE))
		for _, poly := range it.s.polys {
			for _, r := range poly {
				lx, ly := math.Inf(1), math.Inf(1)
				for i, p := range r {
					x, y := proj(p)
					// Drop points closer than half a unit to the last one kept.
					if i > 0 && i < len(r)-1 && math.Abs(x-lx) < 0.5 && math.Abs(y-ly) < 0.5 {
						continue
					}
					if i == 0 {
						b.WriteByte('M')
					} else {
						b.WriteByte('L')
					}
					fmt.Fprintf(&b, "%.1f %.1f", x, y)
					lx, ly = x, y
				}
				b.WriteByte('Z')
			}
		}
		fmt.Fprintf(&b, `"><title>%s</title></path>`, html.EscapeString(label))
	}
	b.WriteString(`</svg>`)
	// The markup is built above from numbers and escaped names only.
	return template.HTML(b.String()), colours
}
