package analytics

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
	}
}

// TestLambert93Constants checks the computed projection against the
// constants IGN publishes for Lambert-93 (RGF93), and its origin.
func TestLambert93Constants(t *testing.T) {
	p := Lambert93
	near(t, "n", p.N, 0.7256077650532670, 1e-12)
	near(t, "C", p.C, 11754255.426096, 1e-3)
	near(t, "Xs", p.Xs, 700000, 1e-9)
	near(t, "Ys", p.Ys, 12655612.049876, 1e-3)
	x, y := p.Forward(3, 46.5)
	near(t, "origin x", x, 700000, 1e-6)
	near(t, "origin y", y, 6600000, 1e-6)
}

// TestLambertALG0003 is IGN's test point for the Lambert projection
// (note NT/G 71, ALG0003: Lambert I on the Clarke 1880 ellipsoid).
func TestLambertALG0003(t *testing.T) {
	p := LambertConic{E: 0.0824832568, N: 0.760405966, C: 11603796.9767, Xs: 600000, Ys: 5657616.674, Lon0: 0.04079234433}
	x, y := p.Forward(0.145512099*180/math.Pi, 0.872664626*180/math.Pi)
	near(t, "x", x, 1029705.0818, 0.005)
	near(t, "y", y, 272723.8510, 0.005)
}

// TestLambert93Paris: the parvis of Notre-Dame (point zéro des routes de
// France) lies near (652,000; 6,862,000) in Lambert-93.
func TestLambert93Paris(t *testing.T) {
	x, y := Lambert93.Forward(2.348795, 48.853402)
	t.Logf("Notre-Dame: (%.1f, %.1f)", x, y)
	near(t, "x", x, 652000, 1000)
	near(t, "y", y, 6862000, 1000)
}

// TestTransverseMercator checks the Krüger series against the meridian arc
// of GRS80, which is known independently: 10,001,965.729 m from the equator
// to the pole and 4,984,944.378 m to 45°.
func TestTransverseMercator(t *testing.T) {
	tm := NewTransverseMercator("test", GRS80, 0, 0, 1, 0, 0)
	x, y := tm.Forward(0, 90)
	near(t, "pole y", y, 10001965.729, 0.001)
	near(t, "pole x", x, 0, 1e-6)
	_, y = tm.Forward(0, 45)
	near(t, "45° y", y, 4984944.378, 0.001)

	utm := UTM(40, true)
	x, y = utm.Forward(57, 0)
	near(t, "UTM 40S centre x", x, 500000, 1e-6)
	near(t, "UTM 40S centre y", y, 10000000, 1e-6)
	// Symmetric about the central meridian, southern points below 10,000 km.
	x1, y1 := utm.Forward(55.5, -21.1)
	x2, y2 := utm.Forward(58.5, -21.1)
	near(t, "symmetry x", x1+x2, 1000000, 1e-6)
	near(t, "symmetry y", y1, y2, 1e-6)
	if y1 > 10000000 || y1 < 7600000 {
		t.Errorf("Réunion northing %.0f out of range", y1)
	}
}

// TestLocalProjectionIsMetric: on a local transverse Mercator, 0.01° of
// latitude near Chicago is 1,111.0 m on the ground (GRS80 meridian radius).
func TestLocalProjectionIsMetric(t *testing.T) {
	b := Boundary{Polygons: []Polygon{{Outer: Ring{{-87.8, 41.7}, {-87.6, 41.7}, {-87.6, 41.9}, {-87.8, 41.9}, {-87.8, 41.7}}}}}
	p := ProjectionFor(b)
	if _, ok := p.(TransverseMercator); !ok {
		t.Fatalf("projection for Chicago = %s, want a local transverse Mercator", p.Name())
	}
	_, y1 := p.Forward(-87.7, 41.795)
	_, y2 := p.Forward(-87.7, 41.805)
	// meridian radius M = a(1-e²)/(1-e² sin²φ)^1.5 at 41.8°: 6,363,270 m.
	near(t, "0.01° of latitude", y2-y1, 6363270*0.01*math.Pi/180, 0.5)
}

func TestProjectionFor(t *testing.T) {
	square := func(lon, lat float64) Boundary {
		return Boundary{Polygons: []Polygon{{Outer: Ring{{lon, lat}, {lon + 0.1, lat}, {lon + 0.1, lat + 0.1}, {lon, lat + 0.1}, {lon, lat}}}}}
	}
	for _, tc := range []struct {
		name     string
		lon, lat float64
		want     string
	}{
		{"Gironde", -0.6, 44.8, "Lambert-93 (EPSG:2154)"},
		{"Corse", 9.0, 42.0, "Lambert-93 (EPSG:2154)"},
		{"La Réunion", 55.4, -21.2, "974 La Réunion (RGR92 / UTM 40S)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ProjectionFor(square(tc.lon, tc.lat)).Name(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
