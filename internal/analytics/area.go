package analytics

import (
	"fmt"
	"math"

	"vigie"
	"vigie/internal/org"
)

// Area is the local geometry a risk map and a patrol plan are drawn on:
// the communes of a unit's territory (a brigade, the brigades under a
// compagnie, or a whole département for a groupement), projected, and a
// grid over them.
type Area struct {
	Dept     string
	Unit     org.Unit
	Grid     *Grid
	Communes []AreaCommune
	// CellCommune is the name of the commune each cell's centre lies in.
	CellCommune []string
	// Start is the default start point of patrols, projected: the centre of
	// the territory's most populous commune (where brigades usually sit).
	StartX, StartY     float64
	StartLon, StartLat float64
}

// AreaCommune is one commune of the area with its projected polygons.
type AreaCommune struct {
	INSEE, Name string
	BrigadeID   int64
	Population  int64
	Projected   []Polygon
	Polygons    []Polygon  // WGS84 degrees
	box         [4]float64 // minX, minY, maxX, maxY of the projected outer rings
}

// Locate returns the index in Communes of the commune holding the WGS84
// point, or -1 when the point is outside the area.
func (a *Area) Locate(lon, lat float64) int {
	x, y := a.Grid.Proj.Forward(lon, lat)
	for i, c := range a.Communes {
		if x < c.box[0] || y < c.box[1] || x > c.box[2] || y > c.box[3] {
			continue
		}
		for _, p := range c.Projected {
			if p.Contains(x, y) {
				return i
			}
		}
	}
	return -1
}

// cellSizes are tried in order; the first whose grid has at most
// maxMapCells cells is used. 250 m is the cell of the backtests; a whole
// département gets 1 km cells (the gendarmerie's earlier tool used 1 km).
var cellSizes = []float64{250, 500, 1000, 2000, 4000}

const maxMapCells = 15000

// NewArea builds the area of unit from its communes (with geometry, and
// brigade ids set). Communes whose geometry cannot be read are left out.
func NewArea(unit org.Unit, communes []org.Commune) (*Area, error) {
	const op = "analytics.NewArea"
	var b Boundary
	type part struct {
		c     org.Commune
		first int
		n     int
	}
	var parts []part
	for _, c := range communes {
		cb, err := readGeoJSON([]byte(c.Geometry))
		if err != nil || len(cb.Polygons) == 0 {
			continue
		}
		p := part{c: c, first: len(b.Polygons), n: len(cb.Polygons)}
		for _, poly := range cb.Polygons {
			poly.Name = c.Name
			b.Polygons = append(b.Polygons, poly)
		}
		parts = append(parts, p)
	}
	if len(b.Polygons) == 0 {
		return nil, vigie.E(vigie.KindNotFound, op, "This unit has no commune with a known outline: no map can be drawn.", nil)
	}
	proj := ProjectionFor(b)
	var g *Grid
	for _, size := range cellSizes {
		var err error
		g, err = NewGrid(b, proj, size)
		if err != nil {
			return nil, err
		}
		if g.Len() <= maxMapCells {
			break
		}
	}
	a := &Area{Dept: unit.Dept, Unit: unit, Grid: g, CellCommune: make([]string, g.Len())}
	var best int64 = -1
	for _, p := range parts {
		ac := AreaCommune{INSEE: p.c.INSEE, Name: p.c.Name, BrigadeID: p.c.BrigadeID, Population: p.c.Population,
			Projected: g.Projected.Polygons[p.first : p.first+p.n], Polygons: b.Polygons[p.first : p.first+p.n]}
		ac.box = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, pl := range ac.Projected {
			for _, q := range pl.Outer {
				ac.box[0], ac.box[1] = min(ac.box[0], q[0]), min(ac.box[1], q[1])
				ac.box[2], ac.box[3] = max(ac.box[2], q[0]), max(ac.box[3], q[1])
			}
		}
		a.Communes = append(a.Communes, ac)
		if p.c.Population > best {
			best = p.c.Population
			sub := Boundary{Polygons: b.Polygons[p.first : p.first+p.n]}
			a.StartLon, a.StartLat = sub.Centroid()
			a.StartX, a.StartY = proj.Forward(a.StartLon, a.StartLat)
		}
	}
	for _, r := range g.Regions() {
		for _, c := range r.Cells {
			a.CellCommune[c] = r.Name
		}
	}
	return a, nil
}

// CellLonLat returns the WGS84 centre of a cell, by inverting the
// projection numerically (a few Newton steps on the forward projection,
// accurate to well under a metre).
func (a *Area) CellLonLat(cell int) (lon, lat float64) {
	x, y := a.Grid.Center(cell)
	return a.Inverse(x, y)
}

// Inverse returns the WGS84 point that projects to (x, y), by Newton's
// method from the area's start point.
func (a *Area) Inverse(x, y float64) (lon, lat float64) {
	p := a.Grid.Proj
	lon, lat = a.StartLon, a.StartLat
	const h = 1e-6
	for range 8 {
		fx, fy := p.Forward(lon, lat)
		ex, ey := fx-x, fy-y
		if math.Abs(ex) < 1e-3 && math.Abs(ey) < 1e-3 {
			break
		}
		x1, y1 := p.Forward(lon+h, lat)
		x2, y2 := p.Forward(lon, lat+h)
		a11, a21 := (x1-fx)/h, (y1-fy)/h
		a12, a22 := (x2-fx)/h, (y2-fy)/h
		det := a11*a22 - a12*a21
		if det == 0 {
			break
		}
		lon -= (a22*ex - a12*ey) / det
		lat -= (-a21*ex + a11*ey) / det
	}
	return lon, lat
}

// String names the area for logs.
func (a *Area) String() string {
	return fmt.Sprintf("%s unit %d (%d cells of %g m)", a.Dept, a.Unit.ID, a.Grid.Len(), a.Grid.Size)
}
