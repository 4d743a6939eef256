package audit

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"vigie"
)

func TestParseMotif(t *testing.T) {
	for _, tc := range []struct {
		motif, dossier, want string
	}{
		{"2026-01-000123", "", "enquete:2026-01-000123"},
		{" 2026-12-999999 ", "", "enquete:2026-12-999999"},
		{"enquete", "2026-01-000123", "enquete:2026-01-000123"},
		{"enquete:2026-01-000123", "", "enquete:2026-01-000123"},
		{"", "2026-01-000123", "enquete:2026-01-000123"},
		{"plainte", "", "plainte"},
		{"plainte", "2026-03-000001", "plainte:2026-03-000001"},
		{"controle-hierarchique", "", "controle-hierarchique"},
		{"demande-autorite-judiciaire", "", "demande-autorite-judiciaire"},
		{"maintenance", "", "maintenance"},
		{"", "", ""},
		{"enquete", "", ""},
		{"enquete", "2026-13-000123", ""},
		{"enquete", "26-01-000123", ""},
		{"2026-01-00012", "", ""},
		{"curiosite", "", ""},
		{"Plainte", "", ""},
		{"plainte", "n/a", ""},
		{"2026-01-000123", "2026-01-000124", ""},
		{"enquete:2026-01-000123", "2026-01-000124", ""},
		{"enquete:", "", ""},
		// Vigie case files: year, unit code, six digits.
		{"2026-01053-000042", "", "enquete:2026-01053-000042"},
		{"enquete", "2026-2A004-000001", "enquete:2026-2A004-000001"},
		{"plainte", "2026-97411-000007", "plainte:2026-97411-000007"},
		{"enquete", "2026-0105-000042", ""},
		{"enquete", "2026-2C004-000001", ""},
	} {
		got, err := ParseMotif(tc.motif, tc.dossier)
		if got != tc.want {
			t.Errorf("ParseMotif(%q, %q) = %q, %v; want %q", tc.motif, tc.dossier, got, err, tc.want)
		}
		if tc.want == "" && vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("ParseMotif(%q, %q) error = %v, want KindInvalid", tc.motif, tc.dossier, err)
		}
	}
}

func TestMotifFrom(t *testing.T) {
	r := httptest.NewRequest("GET", "/cases/1?motif=enquete&dossier=2026-02-000042", nil)
	if got, err := MotifFrom(r); err != nil || got != "enquete:2026-02-000042" {
		t.Errorf("MotifFrom = %q, %v", got, err)
	}
	r = httptest.NewRequest("POST", "/cases/1", strings.NewReader("motif=plainte"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got, err := MotifFrom(r); err != nil || got != "plainte" {
		t.Errorf("MotifFrom(form) = %q, %v", got, err)
	}
	r = httptest.NewRequest("GET", "/cases/1", nil)
	if _, err := MotifFrom(r); vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) != msgMotifMissing {
		t.Errorf("MotifFrom without motif = %v, want %q", err, msgMotifMissing)
	}
}

func TestParseQuery(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.ParseInLocation("2006-01-02", s, paris); return t }
	for _, tc := range []struct {
		in   string
		want Query
		bad  bool
	}{
		{"", Query{Limit: DefaultLimit}, false},
		{"actor=j.dupont&object=person&object_id=12&action=consult&dept=2a&unit=7&motif_filter=plainte",
			Query{Actor: "j.dupont", Object: "person", ObjectID: "12", Action: "consult", Dept: "2A", UnitID: 7, Motif: "plainte", Limit: DefaultLimit}, false},
		{"from=2026-01-01&to=2026-01-31", Query{From: day("2026-01-01"), To: day("2026-02-01"), Limit: DefaultLimit}, false},
		{"before=100&limit=10", Query{Before: 100, Limit: 10}, false},
		{"limit=100000", Query{Limit: MaxLimit}, false},
		{"dept=974", Query{Dept: "974", Limit: DefaultLimit}, false},
		{"action=peek", Query{}, true},
		{"dept=Paris", Query{}, true},
		{"unit=-1", Query{}, true},
		{"before=abc", Query{}, true},
		{"from=31/01/2026", Query{}, true},
		{"from=2026-02-01&to=2026-01-01", Query{}, true},
		{"actor=" + strings.Repeat("x", 300), Query{}, true},
		{"object=%ff", Query{}, true},
	} {
		v, _ := url.ParseQuery(tc.in)
		got, err := ParseQuery(v)
		if tc.bad {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Errorf("ParseQuery(%q) = %+v, %v; want KindInvalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || !got.From.Equal(tc.want.From) || !got.To.Equal(tc.want.To) {
			t.Errorf("ParseQuery(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		got.From, got.To, tc.want.From, tc.want.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != tc.want {
			t.Errorf("ParseQuery(%q) = %+v; want %+v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseQuery: any query string either parses into a query that
// survives Values → ParseQuery unchanged, or is refused as KindInvalid.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "actor=a&dept=35&from=2026-01-01&to=2026-01-02", "before=9&limit=3",
		"from=2026-01-01T10:00:00Z", "dept=2B&unit=4&action=erase", "object=%00", "to=0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid {
				t.Fatalf("ParseQuery(%q) error kind %v", s, vigie.KindOf(err))
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit {
			t.Fatalf("limit %d out of range", q.Limit)
		}
		again, err := ParseQuery(q.Values())
		if err != nil {
			t.Fatalf("re-parse of %v: %v", q.Values(), err)
		}
		if !again.From.Equal(q.From) || !again.To.Equal(q.To) {
			t.Fatalf("dates changed: %+v → %+v", q, again)
		}
		again.From, again.To, q.From, q.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if again != q {
			t.Fatalf("round trip changed the query: %+v → %+v", q, again)
		}
	})
}

// FuzzMotifFrom: a motif is either refused as KindInvalid or canonical:
// a known code, valid UTF-8, short, and parsing it again gives itself.
func FuzzMotifFrom(f *testing.F) {
	for _, s := range [][2]string{{"2026-01-000123", ""}, {"enquete", "2026-01-000123"}, {"plainte", ""},
		{"enquete:2026-01-000123", ""}, {"x", "y"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, motif, dossier string) {
		r := httptest.NewRequest("GET", "/x?"+url.Values{"motif": {motif}, "dossier": {dossier}}.Encode(), nil)
		got, err := MotifFrom(r)
		if err != nil {
			if vigie.KindOf(err) != vigie.KindInvalid || vigie.MessageOf(err) == "" {
				t.Fatalf("MotifFrom(%q, %q) = %v, want KindInvalid with a message", motif, dossier, err)
			}
			return
		}
		if !utf8.ValidString(got) || len(got) > 64 {
			t.Fatalf("motif %q is not short valid text", got)
		}
		if _, _, ok := ReasonOf(got); !ok {
			t.Fatalf("motif %q has no known reason", got)
		}
		if again, err := ParseMotif(got, ""); err != nil || again != got {
			t.Fatalf("ParseMotif(%q) = %q, %v; want itself", got, again, err)
		}
	})
}
