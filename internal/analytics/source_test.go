package analytics

import (
	"strings"
	"testing"
	"time"

	"vigie"
	"vigie/internal/web"
)

func TestParseRecords(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		def     Source
		n       int
		skipped Skipped
		err     bool
	}{
		{"csv with source column", "start,end,lon,lat,source,category\n2026-01-01 10:00,2026-01-01 12:00,5.2,46.2,call,Noise\n", "", 1, Skipped{}, false},
		{"csv default source", "date,x,y\n2026-01-01,5.2,46.2\n", SourceLAPI, 1, Skipped{}, false},
		{"csv no source at all", "date,x,y\n2026-01-01,5.2,46.2\n", "", 0, Skipped{SkipBadSource: 1}, false},
		{"bad rows", "time,lon,lat\n,5,46\nnope,5,46\n2026-01-01,200,46\n2026-01-01,5\n2026-01-01,0,0\n", SourceOffence, 0,
			Skipped{SkipMissingTime: 1, SkipBadTime: 1, SkipBadCoords: 2, SkipMalformed: 1}, false},
		{"end before start", "start,end,lon,lat\n2026-01-02,2026-01-01,5,46\n", SourceCall, 0, Skipped{SkipBadWindow: 1}, false},
		{"future", "time,lon,lat\n2027-01-02,5,46\n", SourceCall, 0, Skipped{SkipFuture: 1}, false},
		{"control character in category", "time,lon,lat,category\n2026-01-02,5,46,\"a\x01b\"\n", SourceCall, 0, Skipped{SkipBadCategory: 1}, false},
		{"no lat column", "time,lon\n2026-01-01,5\n", SourceCall, 0, nil, true},
		{"empty", "  \n", SourceCall, 0, nil, true},
		{"geojson", `{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"Point","coordinates":[5.2,46.2]},"properties":{"time":"2026-01-01 10:00","category":"burglary","source":"offence"}},
			{"type":"Feature","geometry":{"type":"LineString","coordinates":[[5.2,46.2],[5.3,46.3]]},"properties":{}},
			{"type":"Feature","geometry":{"type":"Point","coordinates":[5.2]},"properties":{"time":"2026-01-01"}},
			{"type":"Feature","geometry":{"type":"Point","coordinates":[5.2,46.2]},"properties":{}}]}`, SourceOffence, 1,
			Skipped{SkipMalformed: 1, SkipBadCoords: 1, SkipMissingTime: 1}, false},
		{"geojson not a collection", `{"type":"Point","coordinates":[1,2]}`, SourceOffence, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, skipped, err := ParseRecords(strings.NewReader(tt.in), tt.def, now)
			if tt.err {
				if vigie.KindOf(err) != vigie.KindInvalid {
					t.Fatalf("err = %v, want Invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.n {
				t.Errorf("got %d records, want %d", len(recs), tt.n)
			}
			for k, v := range tt.skipped {
				if skipped[k] != v {
					t.Errorf("skipped[%q] = %d, want %d (%v)", k, skipped[k], v, skipped)
				}
			}
			if skipped.Total() != tt.skipped.Total() {
				t.Errorf("skipped %v, want %v", skipped, tt.skipped)
			}
		})
	}
	recs, _, _ := ParseRecords(strings.NewReader("start,end,lon,lat,source,category\n2026-01-01 10:00,2026-01-01 12:00,5.2,46.2,CALL,Noise\n"), "", now)
	if r := recs[0]; r.Source != SourceCall || r.Category != "noise" || r.End.Sub(r.Start) != 2*time.Hour {
		t.Errorf("record %+v", r)
	}
}

// FuzzParseRecords: any input is read without panic, and every record
// returned is usable (valid source, degrees in range, end not before start).
func FuzzParseRecords(f *testing.F) {
	f.Add("time,lon,lat\n2026-01-01,5.2,46.2\n")
	f.Add("start,end,lon,lat,source,category\n2026-01-01 10:00,2026-01-01 12:00,5.2,46.2,call,noise\n")
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[5.2,46.2]},"properties":{"time":"2026-01-01"}}]}`)
	f.Add("\ufefftime;lon;lat\n\"2026\",x,y")
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		recs, skipped, err := ParseRecords(strings.NewReader(in), SourceOffence, now)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("error of kind %v: %v", vigie.KindOf(err), err)
			}
			return
		}
		if skipped == nil {
			t.Fatal("nil Skipped")
		}
		for _, r := range recs {
			if !r.Source.Valid() || r.Lon < -180 || r.Lon > 180 || r.Lat < -90 || r.Lat > 90 || r.End.Before(r.Start) || r.Start.After(now.Add(24*time.Hour)) {
				t.Fatalf("unusable record %+v", r)
			}
		}
	})
}

// TestTranslated: every template string, reason sentence, skip reason and
// "too little history" explanation has a French translation.
func TestTranslated(t *testing.T) {
	missing, err := web.Untranslated(Templates())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Errorf("no French for template string %q", m)
	}
	others := append([]string{}, ReasonFormats...)
	others = append(others, SkipMalformed, SkipMissingTime, SkipBadTime, SkipBadCoords, SkipBadSource, SkipBadCategory,
		SkipBadWindow, SkipFuture, SkipOutsideUnit, "Risk map of %s", "The patrol report is recorded.",
		"Too few recorded offences in this territory to forecast", "The recorded history is shorter than four weeks",
		"The model cannot forecast this period from the history", "Arrival", "No place fits in this shift.",
		"Model: %s. Forecasts are about places and times, never persons.")
	for _, m := range others {
		if !web.HasFrench(m) {
			t.Errorf("no French for %q", m)
		}
	}
}

func TestReasonText(t *testing.T) {
	fr := func(f string, a ...any) string { return web.Tf("fr", f, a...) }
	web.Untranslated(Templates()) // loads the catalog
	tests := []struct {
		r    Reason
		want string
	}{
		{Reason{Kind: ReasonNearRepeat, Events: 4, Radius: 300, Days: 14}, "4 infractions à moins de 300 m ces 14 derniers jours"},
		{Reason{Kind: ReasonLongTerm, Events: 57, Top: 2}, "niveau de long terme élevé (2 % les plus hautes) (57 infractions depuis le début de l’historique)"},
		{Reason{Kind: ReasonLongTerm, Events: 135, Top: 0.02}, "niveau de long terme très élevé (1 % les plus hautes) (135 infractions depuis le début de l’historique)"},
		{Reason{Kind: ReasonNearRepeat, Events: 1, Radius: 300, Days: 14}, "1 infraction à moins de 300 m ces 14 derniers jours"},
		{Reason{Kind: ReasonSource, Source: "lapi", Events: 12, Days: 7}, "12 détections LAPI dans la cellule ces 7 derniers jours"},
		{Reason{Kind: ReasonSource, Source: "call", Events: 3, Days: 7}, "3 appels pour intervention dans la cellule ces 7 derniers jours"},
		{Reason{Kind: ReasonNeighbours, Top: 80}, "niveau de long terme des cellules voisines faible"},
	}
	for _, tt := range tests {
		if got := ReasonText(tt.r, fr); got != tt.want {
			t.Errorf("ReasonText(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}
