package analytics

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"

	"vigie"
)

// squareWithHole is 0..10 × 0..10 minus 4..6 × 4..6, next to 10..20 × 0..10.
var squareWithHole = Boundary{Polygons: []Polygon{
	{Outer: Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, Holes: []Ring{{{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}}}},
	{Outer: Ring{{10, 0}, {20, 0}, {20, 10}, {10, 10}, {10, 0}}},
}}

func TestContainsWithHoles(t *testing.T) {
	for _, tc := range []struct {
		x, y float64
		want bool
	}{
		{1, 1, true}, {5, 5, false}, {3.9, 5, true}, {6.1, 5, true},
		{15, 5, true}, {9.99, 5, true}, {10.01, 5, true}, {21, 5, false}, {-1, 5, false}, {5, 11, false},
	} {
		if got := squareWithHole.Contains(tc.x, tc.y); got != tc.want {
			t.Errorf("Contains(%g, %g) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

// identity is a projection that keeps coordinates, for grid tests.
type identity struct{}

func (identity) Forward(x, y float64) (float64, float64) { return x, y }
func (identity) Name() string                            { return "identity" }

// TestGridHoles: 1-unit cells over squareWithHole: 200 centres in the
// bounding box, minus the 4 whose centre is in the hole.
func TestGridHoles(t *testing.T) {
	g, err := NewGrid(squareWithHole, identity{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Len(), 196; got != want {
		t.Errorf("cells = %d, want %d", got, want)
	}
	if c := g.CellAt(5.5, 5.5); c != -1 {
		t.Errorf("cell in the hole = %d, want -1", c)
	}
	for _, p := range [][2]float64{{0.5, 0.5}, {9.5, 9.5}, {10.5, 0.5}, {19.5, 9.5}} {
		c := g.CellAt(p[0], p[1])
		if c < 0 {
			t.Fatalf("no cell at %v", p)
		}
		if x, y := g.Center(c); x != p[0] || y != p[1] {
			t.Errorf("centre of cell at %v = (%g, %g)", p, x, y)
		}
	}
	skipped := Skipped{}
	kept := g.Place([]Event{{Lon: 1, Lat: 1}, {Lon: 5, Lat: 5}, {Lon: 30, Lat: 5}}, skipped)
	if len(kept) != 1 || skipped[SkipOutside] != 2 {
		t.Errorf("kept %d, skipped %v; want 1 kept and 2 outside", len(kept), skipped)
	}
}

const geojsonWithHole = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
 "geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}},
 {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[10,0],[20,0],[20,10],[10,10]]]]}}]}`

const kmlWithHole = `<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>a</name><MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>
0,0 10,0 10,10 0,10 0,0</coordinates></LinearRing></outerBoundaryIs>
<innerBoundaryIs><LinearRing><coordinates>4,4,0 6,4,0 6,6,0 4,6,0 4,4,0</coordinates></LinearRing></innerBoundaryIs></Polygon></MultiGeometry></Placemark>
<Placemark><Point><coordinates>3,3</coordinates></Point></Placemark>
<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>10,0 20,0 20,10 10,10 10,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>`

func TestReadBoundary(t *testing.T) {
	for name, src := range map[string]string{"GeoJSON": geojsonWithHole, "KML": kmlWithHole} {
		t.Run(name, func(t *testing.T) {
			b, err := ReadBoundary(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Polygons) != 2 || len(b.Polygons[0].Holes) != 1 {
				t.Fatalf("got %d polygons, %d holes in the first", len(b.Polygons), len(b.Polygons[0].Holes))
			}
			if !b.Contains(1, 1) || b.Contains(5, 5) || !b.Contains(15, 5) {
				t.Errorf("the read boundary does not contain what it should")
			}
		})
	}
}

func TestReadBoundaryErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":         "",
		"text":          "hello",
		"bad JSON":      `{"type":`,
		"line only":     `{"type":"LineString","coordinates":[[0,0],[1,1]]}`,
		"unknown type":  `{"type":"Circle"}`,
		"two points":    `{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}`,
		"out of range":  `{"type":"Polygon","coordinates":[[[0,0],[200,0],[1,1],[0,0]]]}`,
		"bad XML":       `<kml><Polygon>`,
		"not KML":       `<html></html>`,
		"KML no outer":  `<kml><Polygon></Polygon></kml>`,
		"KML bad coord": `<kml><Polygon><outerBoundaryIs><coordinates>1;2 3,4</coordinates></outerBoundaryIs></Polygon></kml>`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadBoundary(strings.NewReader(src))
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Errorf("err = %v, want an Invalid error with a message", err)
			}
		})
	}
}

func FuzzReadBoundary(f *testing.F) {
	f.Add(geojsonWithHole)
	f.Add(kmlWithHole)
	f.Add(`<kml><Polygon><outerBoundaryIs><coordinates>0,0 1,0 1,1 0,0</coordinates></outerBoundaryIs></Polygon></kml>`)
	f.Fuzz(func(t *testing.T, src string) {
		b, err := ReadBoundary(strings.NewReader(src))
		if err != nil {
			return
		}
		for _, p := range b.Polygons {
			if len(p.Outer) < 4 || p.Outer[0] != p.Outer[len(p.Outer)-1] {
				t.Fatalf("accepted an open or short ring: %v", p.Outer)
			}
		}
		_ = ProjectionFor(b)
	})
}

const eventsCSV = `id,occurred_at,longitude,latitude
1,2024-01-02 10:30,2.35,48.85
2,2024-01-01T08:00:00+01:00,2.36,48.86
3,2024-01-03,2.37,48.87
4,2024-01-03 11:00:05,2.37,48.87
5,,2.35,48.85
6,yesterday,2.35,48.85
7,2024-01-02 10:30,abc,48.85
8,2024-01-02 10:30,0,0
9,2024-01-02 10:30,2.35,95
10,2024-01-02
`

func TestReadEvents(t *testing.T) {
	check := func(t *testing.T, data []byte) {
		t.Helper()
		events, skipped, err := ReadEvents(bytes.NewReader(data), Columns{})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 4 {
			t.Fatalf("read %d events, want 4", len(events))
		}
		if !events[0].Time.Equal(time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC)) || events[0].Lon != 2.36 {
			t.Errorf("first event %+v, want the RFC 3339 one, sorted first", events[0])
		}
		want := Skipped{SkipMissingTime: 1, SkipBadTime: 1, SkipBadCoords: 3, SkipMalformed: 1}
		for r, n := range want {
			if skipped[r] != n {
				t.Errorf("skipped[%s] = %d, want %d (all: %v)", r, skipped[r], n, skipped)
			}
		}
	}
	t.Run("plain", func(t *testing.T) { check(t, []byte(eventsCSV)) })
	t.Run("gzip", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(eventsCSV))
		zw.Close()
		check(t, buf.Bytes())
	})
	t.Run("named columns", func(t *testing.T) {
		src := "when;where\n" // not CSV with commas: one column only
		if _, _, err := ReadEvents(strings.NewReader(src), Columns{}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("err = %v, want Invalid", err)
		}
		src = "t,e,n\n2024-05-01 12:00,4.8,45.7\n"
		events, _, err := ReadEvents(strings.NewReader(src), Columns{Time: "t", Lon: "e", Lat: "n"})
		if err != nil || len(events) != 1 || events[0].Lat != 45.7 {
			t.Errorf("got %v, %v", events, err)
		}
		if _, _, err := ReadEvents(strings.NewReader(src), Columns{Time: "when"}); vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("missing named column: err = %v, want Invalid", err)
		}
	})
}

func FuzzReadEvents(f *testing.F) {
	f.Add([]byte(eventsCSV))
	f.Add([]byte("date,lon,lat\n\"2024-01-01,1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, skipped, err := ReadEvents(bytes.NewReader(data), Columns{})
		if err != nil {
			return
		}
		for i, e := range events {
			if e.Lon < -180 || e.Lon > 180 || e.Lat < -90 || e.Lat > 90 {
				t.Fatalf("accepted bad coordinates %v", e)
			}
			if i > 0 && e.Time.Before(events[i-1].Time) {
				t.Fatal("events not sorted")
			}
		}
		if skipped.Total() < 0 {
			t.Fatal("negative skip count")
		}
	})
}
