package complaint

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"vigie/internal/org"
)

// The map of the "where" step: the communes of one département as an
// inline SVG drawn on the server from internal/org's geometry (nothing
// fetched from elsewhere). A small script (step.html, CSP nonce) turns a
// click into latitude and longitude in the form's fields; without
// JavaScript the map is only a picture and the fields stay as they are.
//
// Projection: equirectangular, x scaled by the cosine of the mean
// latitude (as internal/org's maps). The SVG carries what the script needs
// to invert it: data-proj="lon0 lat0 kx scale", where
// x = (lon − lon0)·kx·scale and y = (lat0 − lat)·scale.

const placeMapWidth = 800.0

// placeProj is the projection of one map.
type placeProj struct{ lon0, lat0, kx, scale float64 }

func (p placeProj) xy(lon, lat float64) (float64, float64) {
	return (lon - p.lon0) * p.kx * p.scale, (p.lat0 - lat) * p.scale
}

// lonLat inverts xy (what the page's script computes).
func (p placeProj) lonLat(x, y float64) (float64, float64) {
	return p.lon0 + x/(p.kx*p.scale), p.lat0 - y/p.scale
}

// rings reads the rings of a GeoJSON Polygon or MultiPolygon; anything
// else gives none.
func rings(raw string) [][][2]float64 {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if json.Unmarshal([]byte(raw), &g) != nil {
		return nil
	}
	switch g.Type {
	case "Polygon":
		var p [][][2]float64
		if json.Unmarshal(g.Coordinates, &p) == nil {
			return p
		}
	case "MultiPolygon":
		var mp [][][][2]float64
		if json.Unmarshal(g.Coordinates, &mp) == nil {
			var out [][][2]float64
			for _, p := range mp {
				out = append(out, p...)
			}
			return out
		}
	}
	return nil
}

// placeMap draws the communes; "" when none has a geometry.
func placeMap(title string, communes []org.Commune) template.HTML {
	type shape struct {
		c     org.Commune
		rings [][][2]float64
	}
	var shapes []shape
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range communes {
		rs := rings(c.Geometry)
		if len(rs) == 0 {
			continue
		}
		for _, r := range rs {
			for _, p := range r {
				minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
				minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
			}
		}
		shapes = append(shapes, shape{c, rs})
	}
	if len(shapes) == 0 || maxX <= minX || maxY <= minY {
		return ""
	}
	kx := math.Cos((minY + maxY) / 2 * math.Pi / 180)
	pr := placeProj{lon0: minX, lat0: maxY, kx: kx, scale: placeMapWidth / ((maxX - minX) * kx)}
	height := math.Ceil((maxY - minY) * pr.scale)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" id="place-map" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="place-map-title" data-proj="%g %g %g %g">`,
		placeMapWidth, height, pr.lon0, pr.lat0, pr.kx, pr.scale)
	fmt.Fprintf(&b, `<title id="place-map-title">%s</title>`, html.EscapeString(title))
	for _, s := range shapes {
		fmt.Fprintf(&b, `<path fill="#e3e3fd" stroke="#3a3a3a" stroke-width="0.4" fill-rule="evenodd" data-insee="%s" d="`, html.EscapeString(s.c.INSEE))
		for _, r := range s.rings {
			lx, ly := math.Inf(1), math.Inf(1)
			for i, p := range r {
				x, y := pr.xy(p[0], p[1])
				if i > 0 && i < len(r)-1 && math.Abs(x-lx) < 0.5 && math.Abs(y-ly) < 0.5 {
					continue // closer than half a unit to the last point kept
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
		fmt.Fprintf(&b, `"><title>%s</title></path>`, html.EscapeString(s.c.Name+" ("+s.c.INSEE+")"))
	}
	b.WriteString(`<circle id="place-marker" r="5" fill="#e1000f" stroke="#fff" stroke-width="1.5" visibility="hidden"/></svg>`)
	// Built from numbers and escaped names only.
	return template.HTML(b.String())
}

// mapDept is the département whose map the "where" step shows: the one
// asked for, else the citizen's (no place), else the commune's.
func mapDept(asked string, f *Form) string {
	if d := strings.ToUpper(strings.TrimSpace(asked)); validDept(d) {
		return d
	}
	if validDept(f.Dept) {
		return f.Dept
	}
	if insee, ok := INSEEOf(f.Commune); ok {
		if strings.HasPrefix(insee, "97") {
			return insee[:3]
		}
		return insee[:2]
	}
	return ""
}
