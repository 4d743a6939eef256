package analytics

import (
	"math"
	"strconv"
)

// Region is a named part of a grid (a police district, a commune).
type Region struct {
	Name  string
	Cells []int
}

// Regions groups the grid's cells by the name of the boundary polygon their
// centre lies in (KML Placemark names; polygons without a name are called
// "polygon N"). Polygons with the same name form one region. A cell in no
// polygon's interior (possible only on shared edges) is left out.
func (g *Grid) Regions() []Region {
	var out []Region
	byName := map[string]int{}
	type box struct{ x0, y0, x1, y1 float64 }
	boxes := make([]box, len(g.Projected.Polygons))
	for i, p := range g.Projected.Polygons {
		b := box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, q := range p.Outer {
			b.x0, b.x1 = min(b.x0, q[0]), max(b.x1, q[0])
			b.y0, b.y1 = min(b.y0, q[1]), max(b.y1, q[1])
		}
		boxes[i] = b
	}
	for c := range g.Len() {
		x, y := g.Center(c)
		for i, p := range g.Projected.Polygons {
			b := boxes[i]
			if x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1 || !p.Contains(x, y) {
				continue
			}
			name := g.Boundary.Polygons[i].Name
			if name == "" {
				name = "polygon " + strconv.Itoa(i+1)
			}
			k, ok := byName[name]
			if !ok {
				k = len(out)
				byName[name] = k
				out = append(out, Region{Name: name})
			}
			out[k].Cells = append(out[k].Cells, c)
			break
		}
	}
	return out
}
