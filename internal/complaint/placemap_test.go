package complaint

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"vigie/internal/org"
)

// TestPlaceMapProjection: the numbers the SVG gives the page's script
// invert the projection: a point of a commune comes back as its longitude
// and latitude (what a click there writes in the form).
func TestPlaceMapProjection(t *testing.T) {
	communes := []org.Commune{
		{INSEE: "01053", Name: "Bourg-en-Bresse", Geometry: `{"type":"Polygon","coordinates":[[[5.18,46.18],[5.27,46.18],[5.27,46.24],[5.18,46.24],[5.18,46.18]]]}`},
		{INSEE: "01004", Name: "Ambérieu <en> Bugey", Geometry: `{"type":"MultiPolygon","coordinates":[[[[5.33,45.93],[5.40,45.93],[5.40,45.99],[5.33,45.93]]]]}`},
		{INSEE: "01999", Name: "Sans forme", Geometry: `{"type":"Point","coordinates":[5,46]}`},
		{INSEE: "01998", Name: "Illisible", Geometry: `not json`},
	}
	svg := string(placeMap("Communes : Ain", communes))
	m := regexp.MustCompile(`data-proj="([^"]+)"`).FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no projection in %.200s", svg)
	}
	var v [4]float64
	for i, f := range strings.Fields(m[1]) {
		v[i], _ = strconv.ParseFloat(f, 64)
	}
	pr := placeProj{lon0: v[0], lat0: v[1], kx: v[2], scale: v[3]}
	for _, want := range [][2]float64{{5.2255, 46.2052}, {5.36, 45.95}, {5.18, 46.24}} {
		x, y := pr.xy(want[0], want[1])
		if x < -0.01 || x > placeMapWidth+0.01 || y < -0.01 {
			t.Errorf("%v is drawn outside the map: %.1f, %.1f", want, x, y)
		}
		lon, lat := pr.lonLat(x, y)
		if math.Abs(lon-want[0]) > 1e-6 || math.Abs(lat-want[1]) > 1e-6 {
			t.Errorf("%v comes back as %.6f, %.6f", want, lon, lat)
		}
	}
	if strings.Count(svg, "<path ") != 2 || strings.Contains(svg, "<en>") || !strings.Contains(svg, "Ambérieu &lt;en&gt; Bugey") {
		t.Errorf("paths or escaping wrong: %d paths", strings.Count(svg, "<path "))
	}
	if placeMap("x", communes[2:]) != "" || placeMap("x", nil) != "" {
		t.Error("a map without any commune shape")
	}
	if d := mapDept("", &Form{Commune: "Saint-Denis (97411)"}); d != "974" {
		t.Errorf("département of 97411: %q", d)
	}
	if d := mapDept("2a", &Form{Commune: "Bourg-en-Bresse (01053)"}); d != "2A" {
		t.Errorf("asked 2a: %q", d)
	}
	if d := mapDept("x", &Form{}); d != "" {
		t.Errorf("nothing known: %q", d)
	}
}

// FuzzPlaceMap: whatever the geometry (imported by administrators) and the
// département asked for (a form field), the map is drawn or left out, never
// a panic, and a name never becomes markup.
func FuzzPlaceMap(f *testing.F) {
	f.Add(`{"type":"Polygon","coordinates":[[[5.18,46.18],[5.27,46.18],[5.27,46.24],[5.18,46.18]]]}`, "01", "Bourg")
	f.Add(`{"type":"MultiPolygon","coordinates":[[[[1,2],[1,2]]]]}`, "2a", "<script>")
	f.Add(`{"type":"Polygon","coordinates":[[[1e308,-1e308],[0,0]]]}`, "97411", "x")
	f.Fuzz(func(t *testing.T, geom, dept, name string) {
		svg := string(placeMap("t", []org.Commune{{INSEE: "01053", Name: name, Geometry: geom}}))
		if svg != "" && (!strings.HasPrefix(svg, "<svg ") || strings.Contains(svg, "<script")) {
			t.Fatalf("map %.200q", svg)
		}
		if d := mapDept(dept, &Form{Commune: dept}); d != "" && !validDept(d) {
			t.Fatalf("département %q from %q", d, dept)
		}
	})
}
