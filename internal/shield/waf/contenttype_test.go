package waf

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// TestImportContentTypes: CSV and GeoJSON bodies pass on the analytics
// import, and only there (CRS 920420 keeps refusing them elsewhere).
func TestImportContentTypes(t *testing.T) {
	// The application gets the body exactly as sent.
	var got []byte
	h := testFirewall(t).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		io.WriteString(w, "ok")
	}))
	csv := []byte("date,heure,nature,commune,latitude,longitude,description\n" +
		"2026-03-02,21:40,cambriolage,Bourg-en-Bresse,46.2052,5.2255,\"Porte forcée, bijoux volés ; voisin l'a vu partir\"\n" +
		"2026-03-03,08:15,vol de véhicule,Oyonnax,46.2561,5.6556,\"Clio grise, plaque AB-123-CD\"\n" +
		"2026-03-04,14:00,escroquerie,Ambérieu-en-Bugey,45.9581,5.3587,\"faux conseiller bancaire: « validez l'opération »\"\n")
	geo := []byte(`{"type":"FeatureCollection","features":[` +
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[5.2255,46.2052]},"properties":{"nature":"cambriolage","date":"2026-03-02T21:40:00+01:00","commune":"Bourg-en-Bresse"}},` +
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[5.6556,46.2561]},"properties":{"nature":"vol de véhicule","date":"2026-03-03T08:15:00+01:00","note":"témoin: l'homme portait un sweat « Paris »"}}]}`)
	for _, c := range []struct {
		name, target, ctype string
		body                []byte
		want                int
	}{
		{"CSV on the import", "/api/v1/analytics/events?unit=12&source=offence", "text/csv", csv, 200},
		{"CSV with charset on the import", "/api/v1/analytics/events?unit=12", "text/csv; charset=utf-8", csv, 200},
		{"GeoJSON on the import", "/api/v1/analytics/events?unit=12", "application/geo+json", geo, 200},
		{"JSON on the import still", "/api/v1/analytics/events?unit=12", "application/json", []byte(`{"events":[{"nature":"vol","lat":46.2,"lon":5.2}]}`), 200},
		{"CSV on a complaint", "/api/v1/complaints", "text/csv", csv, 403},
		{"GeoJSON on the risk map", "/api/v1/analytics/risk", "application/geo+json", geo, 403},
		{"CSV on a look-alike path", "/api/v1/analytics/events2", "text/csv", csv, 403},
		{"CSV on a sub-path", "/api/v1/analytics/events/x", "text/csv", csv, 403},
		{"another type on the import", "/api/v1/analytics/events", "application/x-yaml", []byte("a: 1\n"), 403},
	} {
		code, v, _ := send(t, h, req{name: c.name, method: http.MethodPost, target: c.target, ctype: c.ctype, body: c.body})
		if code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, code, c.want, describe(v))
		}
		if code == 200 && !bytes.Equal(got, c.body) {
			t.Errorf("%s: the application got %d bytes, want the %d sent", c.name, len(got), len(c.body))
		}
		got = nil
	}
}
