package complaint

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for every parser of outside input: amounts, commune
// answers, dates, verification codes, and the validation of whole forms.

func FuzzParseEuros(f *testing.F) {
	for _, s := range []string{"250", "1 250,50", "80 €", "0,99", "1.2.3", "", "-5", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := parseEuros(s)
		if ok && (c < 0 || c > 100_000_000*100+99) {
			t.Fatalf("parseEuros(%q) = %d", s, c)
		}
		if ok {
			// What FormatEuros writes reads back the same.
			back, ok2 := parseEuros(strings.ReplaceAll(FormatEuros(c), "\u202f", ""))
			if !ok2 || back != c {
				t.Fatalf("round trip %d → %q → %d, %v", c, FormatEuros(c), back, ok2)
			}
		}
	})
}

func FuzzINSEEOf(f *testing.F) {
	for _, s := range []string{"01053", "Bourg-en-Bresse (01053)", "2A004", "(", ")", "x (2B)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := INSEEOf(s)
		if ok {
			if len(code) != 5 {
				t.Fatalf("INSEEOf(%q) = %q", s, code)
			}
			if again, ok := INSEEOf(code); !ok || again != code {
				t.Fatalf("INSEEOf is not idempotent on %q", code)
			}
		}
	})
}

func FuzzParseLocal(f *testing.F) {
	for _, s := range []string{"2026-03-14T18:30", "2026-03-14", "2026-02-30", "hier"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseLocal(s, paris) // must not panic
	})
}

func FuzzNormalizeCode(f *testing.F) {
	f.Add("abcd-efgh-2345-jklm-6789")
	f.Fuzz(func(t *testing.T, s string) {
		c := NormalizeCode(s)
		if strings.ContainsAny(c, " -") && !strings.ContainsRune(s, '\u2010') {
			// spaces and dashes are removed
			t.Fatalf("NormalizeCode(%q) = %q", s, c)
		}
	})
}

// FuzzForm: whatever a citizen types in any field, validation answers
// with messages and never panics, and every message is a sentence.
func FuzzForm(f *testing.F) {
	f.Add("online_scam", "un récit de plus de vingt caractères", "01053", "46.2", "5.2", "2026-01-01T10:00", "2026-01-02T10:00", "FR7630006000011234567890189", "450", "0612345678", "a@b.fr", "AB-123-CD", "490154203237518")
	f.Fuzz(func(t *testing.T, cat, narrative, commune, lat, lon, from, to, iban, amount, phone, email, plate, imei string) {
		form := Form{Emergency: "no", AuthorKnown: "no", Violence: "no", Category: cat, Narrative: narrative, Commune: commune, Lat: lat, Lon: lon,
			From: from, To: to, VictimIs: "self", Victim: Person{Name: narrative, Phone: phone, Email: email},
			Items:    []Item{{Kind: ItemVehicle, Plate: plate}, {Kind: ItemPhone, IMEI: imei}},
			Payments: []Payment{{IBAN: iban, Amount: amount, Date: from}}, ScamPhone: phone, ScamEmail: email, Website: commune}
		c := testChecker(time.Date(2026, 6, 1, 12, 0, 0, 0, paris))
		for _, step := range FormSteps {
			for field, msg := range c.Step(step, &form) {
				if msg == "" || !utf8.ValidString(msg) || field == "" {
					t.Fatalf("step %s: field %q message %q", step, field, msg)
				}
			}
		}
		c.Identifiers(&form)
	})
}
