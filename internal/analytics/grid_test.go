package analytics

import (
	"slices"
	"testing"
)

// TestNearAndNeighbours on a 4 × 3 grid of 10-unit cells.
func TestNearAndNeighbours(t *testing.T) {
	b := Boundary{Polygons: []Polygon{{Outer: Ring{{0, 0}, {40, 0}, {40, 30}, {0, 30}, {0, 0}}}}}
	g, err := NewGrid(b, identity{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 12 {
		t.Fatalf("cells = %d, want 12", g.Len())
	}
	corner, middle := g.CellAt(5, 5), g.CellAt(15, 15)
	if got := g.Neighbours(nil, corner); len(got) != 3 {
		t.Errorf("corner has %d neighbours, want 3", len(got))
	}
	if got := g.Neighbours(nil, middle); len(got) != 8 || slices.Contains(got, middle) {
		t.Errorf("middle cell's neighbours = %v, want 8 others", got)
	}
	// Within 10 of (15, 15): its own centre (d² 0) and the four sides (d² 100).
	var got []int
	var d2s []float64
	g.Near(15, 15, 10, func(c int, d2 float64) { got = append(got, c); d2s = append(d2s, d2) })
	slices.Sort(d2s)
	if len(got) != 5 || !slices.Equal(d2s, []float64{0, 100, 100, 100, 100}) {
		t.Errorf("Near(15, 15, 10) = %v with d² %v, want the cell and its four sides", got, d2s)
	}
	// Off the grid: only the cells in reach, none invented.
	got = got[:0]
	g.Near(-20, -20, 36, func(c int, _ float64) { got = append(got, c) })
	if !slices.Equal(got, []int{corner}) {
		t.Errorf("Near(-20, -20, 36) = %v, want only the corner cell %d", got, corner)
	}
}
