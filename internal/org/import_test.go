package org

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"vigie"
	"vigie/internal/web"
)

const square = `{"type":"Polygon","coordinates":[[[5,46],[5.1,46],[5.1,46.1],[5,46.1],[5,46]]]}`

func feature(code, nom, geometry string) string {
	return `{"type":"Feature","properties":{"code":"` + code + `","nom":"` + nom + `"},"geometry":` + geometry + `}`
}

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func TestParseCommunes(t *testing.T) {
	tests := []struct {
		name, dept, geo, pop string
		wantErr              string // part of the message; "" for success
		wantN, wantSkipped   int
	}{
		{"one commune", "01", collection(feature("01001", "A", square)), "", "", 1, 0},
		{"Corsica code", "2A", collection(feature("2A004", "Ajaccio", square)), "", "", 1, 0},
		{"overseas code", "974", collection(feature("97411", "Saint-Denis", square)), "", "", 1, 0},
		{"population matched, others skipped", "01", collection(feature("01001", "A", square)),
			`[{"code":"01001","departement":"01","codesPostaux":["01400"],"population":860},{"code":"01999","departement":"01","population":5},{"code":"2A004","departement":"2A","population":5}]`, "", 1, 1},
		{"not JSON", "01", `{"type":`, "", "not valid GeoJSON", 0, 0},
		{"not a collection", "01", square, "", "FeatureCollection", 0, 0},
		{"empty", "01", collection(), "", "no commune", 0, 0},
		{"a point", "01", collection(feature("01001", "A", `{"type":"Point","coordinates":[5,46]}`)), "", "Point", 0, 0},
		{"no geometry", "01", collection(feature("01001", "A", "null")), "", "no geometry", 0, 0},
		{"missing code", "01", collection(`{"type":"Feature","properties":{"nom":"A"},"geometry":` + square + `}`), "", `no "code"`, 0, 0},
		{"missing name", "01", collection(feature("01001", "", square)), "", `no "nom"`, 0, 0},
		{"wrong prefix", "01", collection(feature("38185", "Grenoble", square)), "", "not an INSEE code of département 01", 0, 0},
		{"duplicate", "01", collection(feature("01001", "A", square), feature("01001", "B", square)), "", "appears twice", 0, 0},
		{"open ring", "01", collection(feature("01001", "A", `{"type":"Polygon","coordinates":[[[5,46],[5.1,46],[5,46]]]}`)), "", "at least 4", 0, 0},
		{"out of range", "01", collection(feature("01001", "A", `{"type":"Polygon","coordinates":[[[500,46],[5.1,46],[5.1,46.1],[500,46]]]}`)), "", "not a longitude", 0, 0},
		{"bad population", "01", collection(feature("01001", "A", square)), `{"code":1}`, "population file", 0, 0},
		{"bad dept", "1", collection(feature("01001", "A", square)), "", "not valid", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, skipped, err := ParseCommunes(tt.dept, []byte(tt.geo), []byte(tt.pop))
			if tt.wantErr != "" {
				if vigie.KindOf(err) != vigie.KindInvalid || !strings.Contains(vigie.MessageOf(err), tt.wantErr) {
					t.Errorf("error = %v, want an invalid-input error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != tt.wantN || skipped != tt.wantSkipped {
				t.Errorf("got %d communes, %d skipped; want %d, %d", len(cs), skipped, tt.wantN, tt.wantSkipped)
			}
		})
	}
	cs, _, _ := ParseCommunes("01", []byte(collection(feature("01001", "A", square))), []byte(`[{"code":"01001","codesPostaux":["01400"],"population":860}]`))
	if cs[0].Population != 860 || strings.Join(cs[0].PostalCodes, ",") != "01400" {
		t.Errorf("population not matched: %+v", cs[0])
	}
}

func FuzzParseCommunes(f *testing.F) {
	f.Add("01", []byte(collection(feature("01001", "A", square))), []byte(`[{"code":"01001","population":3}]`))
	f.Add("2A", []byte(collection(feature("2A004", "A", `{"type":"MultiPolygon","coordinates":[[[[8,41],[8.1,41],[8.1,41.1],[8,41]]]]}`))), []byte(nil))
	f.Add("974", []byte(`{"type":"FeatureCollection","features":[{"properties":{"code":97411}}]}`), []byte(`[]`))
	f.Add("01", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"01001","nom":"x"},"geometry":{"type":"Polygon","coordinates":[[[1],[2,3,4],[],[5,6]]]}}]}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, dept string, geo, pop []byte) {
		cs, _, err := ParseCommunes(dept, geo, pop)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Fatalf("error %v is not an invalid-input error with a message", err)
			}
			return
		}
		for _, c := range cs {
			if !ValidINSEE(c.INSEE, dept) {
				t.Fatalf("accepted code %q for département %q", c.INSEE, dept)
			}
			// What is stored parses again.
			if _, err := parseGeometry([]byte(c.Geometry)); err != nil {
				t.Fatalf("stored geometry %s does not parse: %v", c.Geometry, err)
			}
		}
	})
}

// TestFrench checks every {{t "..."}} and {{tf "..."}} of the templates has
// a French translation.
func TestFrench(t *testing.T) {
	sub, _ := fs.Sub(templates, "templates")
	if err := web.LoadMessages(sub); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\{\{tf? "([^"]+)"`)
	names, _ := fs.Glob(sub, "*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(sub, n)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !web.HasFrench(m[1]) {
				t.Errorf("%s: %q has no French translation", n, m[1])
			}
		}
	}
	for _, k := range []Kind{Groupement, Compagnie, Brigade} {
		if !web.HasFrench(string(k)) {
			t.Errorf("kind %q has no French label", k)
		}
	}
}
