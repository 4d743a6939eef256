package org

import (
	"context"
	"math"
	"testing"
	"time"

	"vigie"
	"vigie/internal/db/dbtest"
)

func TestRoute(t *testing.T) {
	d := dbtest.OpenSQLite(t)
	seed(t, d)
	s := New(Config{DB: d, Journal: &memJournal{}})
	ctx := context.Background()
	tests := []struct {
		name     string
		lon, lat float64
		insee    string
	}{
		{"Bourg-en-Bresse prefecture", 5.2256, 46.2052, "01053"},
		{"Marseille prefecture", 5.3811, 43.2946, "13055"},
		{"Quimper prefecture", -4.1030, 47.9960, "29232"},
		{"Ajaccio prefecture", 8.7369, 41.9192, "2A004"},
		{"Toulouse prefecture", 1.4442, 43.6045, "31555"},
		{"Bordeaux prefecture", -0.5792, 44.8378, "33063"},
		{"Rennes prefecture", -1.6778, 48.1113, "35238"},
		{"Grenoble prefecture", 5.7245, 45.1885, "38185"},
		{"Lille prefecture", 3.0635, 50.6292, "59350"},
		{"Strasbourg prefecture", 7.7521, 48.5734, "67482"},
		{"Lyon prefecture", 4.8357, 45.7640, "69123"},
		{"Saint-Denis de La Réunion prefecture", 55.4504, -20.8823, "97411"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, b, err := s.Route(ctx, tt.lon, tt.lat)
			if err != nil {
				t.Fatalf("Route(%g, %g): %v", tt.lon, tt.lat, err)
			}
			if c.INSEE != tt.insee {
				t.Errorf("Route(%g, %g) = commune %s (%s), want %s", tt.lon, tt.lat, c.INSEE, c.Name, tt.insee)
			}
			if b.Kind != Brigade || b.ID != c.BrigadeID || b.Dept != c.Dept {
				t.Errorf("Route(%g, %g) brigade = %+v, want the brigade of %s", tt.lon, tt.lat, b, c.INSEE)
			}
			c2, b2, err := s.RouteCommune(ctx, tt.insee)
			if err != nil || c2.INSEE != tt.insee || b2.ID != b.ID {
				t.Errorf("RouteCommune(%s) = %s, %d, %v; want %s, %d", tt.insee, c2.INSEE, b2.ID, err, tt.insee, b.ID)
			}
		})
	}

	errs := []struct {
		name     string
		lon, lat float64
		kind     vigie.Kind
	}{
		{"Paris is not served", 2.3522, 48.8566, vigie.KindNotFound},
		{"open sea", -5.0, 45.0, vigie.KindNotFound},
		{"latitude out of range", 5, 91, vigie.KindInvalid},
		{"NaN", math.NaN(), 45, vigie.KindInvalid},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Route(ctx, tt.lon, tt.lat)
			if vigie.KindOf(err) != tt.kind {
				t.Errorf("Route(%g, %g) error = %v, want kind %v", tt.lon, tt.lat, err, tt.kind)
			}
			if vigie.MessageOf(err) == "" {
				t.Errorf("Route(%g, %g) error has no message for people", tt.lon, tt.lat)
			}
		})
	}
	for _, insee := range []string{"75056", "1", "ABCDEFG"} {
		if _, _, err := s.RouteCommune(ctx, insee); vigie.KindOf(err) != vigie.KindNotFound && vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("RouteCommune(%q) error = %v, want not found or invalid", insee, err)
		}
	}
}

// TestShapeContains covers holes and multipolygons, which real communes have
// (enclaves, islands).
func TestShapeContains(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) string {
		return "[[" + f(x0) + "," + f(y0) + "],[" + f(x1) + "," + f(y0) + "],[" + f(x1) + "," + f(y1) + "],[" + f(x0) + "," + f(y1) + "],[" + f(x0) + "," + f(y0) + "]]"
	}
	withHole := `{"type":"Polygon","coordinates":[` + sq(0, 0, 10, 10) + `,` + sq(4, 4, 6, 6) + `]}`
	multi := `{"type":"MultiPolygon","coordinates":[[` + sq(0, 0, 1, 1) + `],[` + sq(5, 5, 6, 6) + `]]}`
	tests := []struct {
		geo  string
		x, y float64
		want bool
	}{
		{withHole, 1, 1, true},
		{withHole, 5, 5, false}, // in the hole
		{withHole, 11, 5, false},
		{multi, 0.5, 0.5, true},
		{multi, 5.5, 5.5, true},
		{multi, 3, 3, false},
	}
	for _, tt := range tests {
		s, err := parseGeometry([]byte(tt.geo))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.contains(point{tt.x, tt.y}); got != tt.want {
			t.Errorf("contains(%s, %g %g) = %v, want %v", tt.geo, tt.x, tt.y, got, tt.want)
		}
	}
}

func f(x float64) string { return fmtFloat(x) }

func BenchmarkRoute(b *testing.B) {
	d := dbtest.OpenSQLite(b)
	seed(b, d)
	s := New(Config{DB: d, Journal: &memJournal{}})
	ctx := context.Background()
	start := time.Now()
	ix, err := s.index(ctx)
	if err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	for i := 0; b.Loop(); i++ {
		if _, ok := ix.find(point{4.8357 + float64(i%100)*0.001, 45.7640}); !ok {
			b.Fatal("not found")
		}
	}
	b.ReportMetric(float64(build.Milliseconds()), "index-build-ms")
}
