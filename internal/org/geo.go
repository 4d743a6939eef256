package org

import (
	"encoding/json"
	"fmt"
	"math"
)

// Geometry in Vigie is WGS84 longitude/latitude, as GeoJSON has it. The
// shapes here are what routing, the demo derivation and the map need:
// polygons with holes, and multipolygons (islands, enclaves).

type point struct{ x, y float64 } // longitude, latitude

type ring []point

// polygon is an outer ring followed by its holes.
type polygon []ring

type bbox struct{ minX, minY, maxX, maxY float64 }

func emptyBox() bbox {
	return bbox{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
}

func (b *bbox) add(p point) {
	b.minX = min(b.minX, p.x)
	b.minY = min(b.minY, p.y)
	b.maxX = max(b.maxX, p.x)
	b.maxY = max(b.maxY, p.y)
}

func (b *bbox) union(o bbox) {
	b.add(point{o.minX, o.minY})
	b.add(point{o.maxX, o.maxY})
}

func (b bbox) contains(p point) bool {
	return p.x >= b.minX && p.x <= b.maxX && p.y >= b.minY && p.y <= b.maxY
}

func (b bbox) empty() bool { return b.minX > b.maxX }

// shape is a Polygon or a MultiPolygon.
type shape struct {
	polys []polygon
	box   bbox
}

// parseGeometry reads a GeoJSON geometry object of type Polygon or
// MultiPolygon. It says in plain words what is wrong, for importers.
func parseGeometry(raw []byte) (shape, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return shape{}, fmt.Errorf("the geometry is not a JSON object")
	}
	var polys [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return shape{}, fmt.Errorf("the coordinates of the polygon are not lists of [longitude, latitude] pairs")
		}
		polys = [][][][]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return shape{}, fmt.Errorf("the coordinates of the multipolygon are not lists of polygons")
		}
	case "":
		return shape{}, fmt.Errorf("the geometry has no type")
	default:
		return shape{}, fmt.Errorf("the geometry is a %s; only Polygon and MultiPolygon describe a commune", g.Type)
	}
	s := shape{box: emptyBox()}
	for _, pc := range polys {
		if len(pc) == 0 {
			return shape{}, fmt.Errorf("a polygon has no ring")
		}
		var poly polygon
		for _, rc := range pc {
			if len(rc) < 4 {
				return shape{}, fmt.Errorf("a ring has %d positions; a closed ring needs at least 4", len(rc))
			}
			r := make(ring, 0, len(rc))
			for _, pos := range rc {
				if len(pos) < 2 {
					return shape{}, fmt.Errorf("a position has fewer than two numbers")
				}
				p := point{pos[0], pos[1]}
				if p.x < -180 || p.x > 180 || p.y < -90 || p.y > 90 {
					return shape{}, fmt.Errorf("the position [%g, %g] is not a longitude and latitude in degrees", p.x, p.y)
				}
				r = append(r, p)
				s.box.add(p)
			}
			poly = append(poly, r)
		}
		s.polys = append(s.polys, poly)
	}
	if len(s.polys) == 0 {
		return shape{}, fmt.Errorf("the geometry is empty")
	}
	return s, nil
}

// geoJSON writes s back as compact GeoJSON, coordinates rounded to 5
// decimals (about a metre): what the database stores.
func (s shape) geoJSON() string {
	r5 := func(f float64) float64 { return math.Round(f*1e5) / 1e5 }
	coords := make([][][][2]float64, len(s.polys))
	for i, poly := range s.polys {
		rings := make([][][2]float64, len(poly))
		for j, r := range poly {
			pts := make([][2]float64, len(r))
			for k, p := range r {
				pts[k] = [2]float64{r5(p.x), r5(p.y)}
			}
			rings[j] = pts
		}
		coords[i] = rings
	}
	var v any = map[string]any{"type": "MultiPolygon", "coordinates": coords}
	if len(coords) == 1 {
		v = map[string]any{"type": "Polygon", "coordinates": coords[0]}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// contains reports whether p lies inside s: inside an outer ring and outside
// its holes (even-odd rule per polygon).
func (s *shape) contains(p point) bool {
	if !s.box.contains(p) {
		return false
	}
	for _, poly := range s.polys {
		if !inRing(poly[0], p) {
			continue
		}
		inHole := false
		for _, h := range poly[1:] {
			if inRing(h, p) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// inRing is the crossing-number test.
func inRing(r ring, p point) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}

// centroid returns the area-weighted centroid of s and its area in square
// degrees (holes subtracted). A degenerate shape returns its box centre.
func (s *shape) centroid() (point, float64) {
	var cx, cy, total float64
	for _, poly := range s.polys {
		for i, r := range poly {
			a, x, y := ringMoments(r)
			if i > 0 {
				a, x, y = -math.Abs(a), -math.Abs(a)/a*x, -math.Abs(a)/a*y
			} else if a < 0 {
				a, x, y = -a, -x, -y
			}
			total += a
			cx += x
			cy += y
		}
	}
	if total <= 0 || math.IsNaN(cx) || math.IsNaN(cy) {
		return point{(s.box.minX + s.box.maxX) / 2, (s.box.minY + s.box.maxY) / 2}, 0
	}
	return point{cx / (3 * total), cy / (3 * total)}, total / 2
}

// ringMoments returns twice the signed area of r and the first moments
// (times 3·2A) that the centroid formula sums.
func ringMoments(r ring) (a2, mx, my float64) {
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		c := r[j].x*r[i].y - r[i].x*r[j].y
		a2 += c
		mx += (r[j].x + r[i].x) * c
		my += (r[j].y + r[i].y) * c
	}
	return a2, mx, my
}
