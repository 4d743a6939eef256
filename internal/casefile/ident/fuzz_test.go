package ident_test

import (
	"regexp"
	"strings"
	"testing"

	"vigie/internal/casefile/ident"
)

var longDigits = regexp.MustCompile(`[0-9]{13,}`)

var fuzzSeeds = []string{
	"Le vendeur m'a demandé de virer 450 € sur FR76 3000 6000 0112 3456 7890 189, son numéro est le 06 12 34 56 78.",
	"Réglez sur https://Colis.example.com:443/pay/?utm_source=sms&id=4#x ou +33 (0)7 98 76 54 32, vendeur@pâtisserie.fr",
	"FG-456-HJ, 1234 AB 56, 45 AB 2A, IMEI 35 209900 176148 1, carte 4111 1111 1111 1111, leboncoin.fr",
	"0692 12 34 56, 0044 20 7946 0958, SIRET 732 829 320 00074, 12/03/2024, 1 250,00 €",
	"https://www.banque.fr@evil.example.com/) https://pаypal.com/ [x](http://a.b.co.uk/?a=1&&b=2)",
}

// FuzzExtract: no panic; offsets in range and in order; every identifier
// re-normalises from its text to itself; no card number comes out whole.
func FuzzExtract(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	x := newExtractor(f)
	f.Fuzz(func(t *testing.T, text string) {
		ids := x.Extract(text)
		last := 0
		for _, id := range ids {
			if id.Start < last {
				t.Fatalf("%s at %d comes after an identifier at %d", id.Kind, id.Start, last)
			}
			last = id.Start
			if id.Kind == ident.KindCard && longDigits.MatchString(id.Value+" "+id.Display) {
				t.Fatalf("card identifier holds a long run of digits: %+v", id)
			}
		}
		checkOffsets(t, x, text, ids)
	})
}

// FuzzNormalize: no panic; a success has the asked kind, a non-empty Value
// and Display, and its Value normalises to itself.
func FuzzNormalize(f *testing.F) {
	for i, s := range fuzzSeeds {
		for _, part := range strings.Split(s, ", ") {
			f.Add(uint8(i), part)
		}
	}
	x := newExtractor(f)
	f.Fuzz(func(t *testing.T, k uint8, raw string) {
		kind := ident.Kinds[int(k)%len(ident.Kinds)]
		id, err := x.Normalize(kind, raw)
		if err != nil {
			return
		}
		if id.Kind != kind || id.Value == "" || id.Display == "" || id.Start != 0 || id.End != 0 {
			t.Fatalf("Normalize(%s, %q) = %+v", kind, raw, id)
		}
		if kind == ident.KindCard {
			if longDigits.MatchString(id.Value + " " + id.Display) {
				t.Fatalf("card identifier holds a long run of digits: %+v", id)
			}
			return
		}
		again, err := x.Normalize(kind, id.Value)
		if err != nil || again.Value != id.Value || again.Display != id.Display {
			t.Fatalf("Normalize(%s, %q) = %q; its Value gives %+v, %v", kind, raw, id.Value, again, err)
		}
	})
}
