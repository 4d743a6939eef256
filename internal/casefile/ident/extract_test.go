package ident_test

import (
	"slices"
	"strings"
	"testing"

	"vigie/internal/casefile/ident"
)

func TestExtract(t *testing.T) {
	x := newExtractor(t)
	card := withLuhn(t, "497010123456789") // a Visa number (CB range) of the test
	imei := withLuhn(t, "35209900176148")
	tests := []struct {
		name string
		text string
		want []found
	}{
		{
			name: "scam payment by transfer",
			text: "Le vendeur m'a demandé de virer 450 € sur FR76 3000 6000 0112 3456 7890 189, son numéro est le 06 12 34 56 78. " +
				"Il m'a écrit depuis vendeur.honnete@gmail.com le 12/03/2024.",
			want: []found{
				{ident.KindIBAN, "FR7630006000011234567890189"},
				{ident.KindPhone, "+33612345678"},
				{ident.KindEmail, "vendeur.honnete@gmail.com"}, // and not gmail.com as a domain
			},
		},
		{
			name: "pasted phishing SMS with tracking link",
			text: "Votre colis est bloqué. Réglez les frais (1,99 €) sur https://Colis-Suivi.example-livraison.com/pay/?id=42&utm_source=sms. " +
				"Une question ? +33 (0)7 98 76 54 32.",
			want: []found{
				{ident.KindURL, "https://colis-suivi.example-livraison.com/pay?id=42"},
				{ident.KindDomain, "example-livraison.com"},
				{ident.KindPhone, "+33798765432"},
			},
		},
		{
			name: "numbers that are not phones",
			text: "Facture n° 2024-0613 du 12/03/2024, montant 1 250,00 €, payée le 06.12.2024 à 14h30. " +
				"Société SIRET 732 829 320 00074, 75001 Paris, code 0612 34.",
			want: nil,
		},
		{
			name: "vehicle theft with the phone left inside",
			text: "Mon véhicule immatriculé FG-456-HJ a été volé, ainsi que ma vieille 205 (1234 AB 56) et la moto de mon fils, " +
				"plaque ab-789-cd. Mon iPhone (IMEI " + group(imei, 5, " ") + ") était dans la boîte à gants.",
			want: []found{
				{ident.KindPlate, "FG-456-HJ"},
				{ident.KindPlate, "1234 AB 56"},
				{ident.KindPlate, "AB-789-CD"},
				{ident.KindIMEI, imei},
			},
		},
		{
			name: "IMEISV only after the word IMEI",
			text: "IMEI/SV : " + imei[:14] + "23. Commande 3520990017614823.",
			want: []found{{ident.KindIMEI, imei}},
		},
		{
			name: "card fraud: the card is not a phone",
			text: "Ma carte " + group(card, 4, " ") + " a été débitée de 89,90 € par un site inconnu.",
			want: []found{{ident.KindCard, "<hash>"}},
		},
		{
			name: "an IBAN's digits are not an IMEI or a card",
			text: "IBAN : DE89370400440532013000 et " + group(withIBANCheck(t, "FR", "20041010050500013M02606"), 4, " ") + ".",
			want: []found{
				{ident.KindIBAN, "DE89370400440532013000"},
				{ident.KindIBAN, withIBANCheck(t, "FR", "20041010050500013M02606")},
			},
		},
		{
			name: "IBAN with a wrong checksum is not extracted",
			text: "Virement sur FR76 3000 6000 0112 3456 7890 188 demandé.",
			want: nil,
		},
		{
			name: "overseas numbers",
			text: "J'habite à Saint-Denis (974), tél 0692 12 34 56 ou fixe 02 62 20 12 34.",
			want: []found{{ident.KindPhone, "+262692123456"}, {ident.KindPhone, "+262262201234"}},
		},
		{
			name: "foreign numbers need their prefix",
			text: "Le faux conseiller appelait du +44 7911 123456, puis du 0032 470 12 34 56, jamais du 7911 123456.",
			want: []found{{ident.KindPhone, "+447911123456"}, {ident.KindPhone, "+32470123456"}},
		},
		{
			name: "bare domains, and words that only look like them",
			text: "J'ai vu l'annonce sur leboncoin.fr puis sur www.Faux-Vinted.com. Il est arrivé.Il a envoyé photos.zip, etc.",
			want: []found{{ident.KindDomain, "leboncoin.fr"}, {ident.KindDomain, "faux-vinted.com"}},
		},
		{
			name: "phishing link with a user part and a homograph",
			text: "Lien reçu : https://www.banque.fr@evil.example.com/connexion) et https://pаypal.com/login.",
			want: []found{
				{ident.KindURL, "https://evil.example.com/connexion"},
				{ident.KindDomain, "example.com"},
				{ident.KindURL, "https://xn--pypal-4ve.com/login"},
				{ident.KindDomain, "xn--pypal-4ve.com"},
			},
		},
		{
			name: "an e-mail inside a link belongs to the link",
			text: "Cliquez sur https://example.org/unsubscribe?mail=jean@example.fr&tel=0612345678 pour confirmer.",
			want: []found{
				{ident.KindURL, "https://example.org/unsubscribe?mail=jean@example.fr&tel=0612345678"},
				{ident.KindDomain, "example.org"},
			},
		},
		{
			name: "plate-like words that are not plates",
			text: "Le SS-123-AB et AB-123-WW sont faux, AI-123-BC aussi. RDV le 12 MA 99, ABC-123-DE, XAB-123-CD.",
			want: nil,
		},
		{
			name: "empty",
			text: "",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := x.Extract(tc.text)
			got := summary(ids)
			for i := range got {
				if got[i].kind == ident.KindCard {
					got[i].value = "<hash>"
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Extract(%q)\n got  %v\n want %v", tc.text, got, tc.want)
			}
			checkOffsets(t, x, tc.text, ids)
		})
	}
}

// checkOffsets checks that each identifier's offsets are in range and that
// the text there normalises to the same identifier.
func checkOffsets(t *testing.T, x *ident.Extractor, text string, ids []ident.Identifier) {
	t.Helper()
	for _, id := range ids {
		if id.Start < 0 || id.Start >= id.End || id.End > len(text) {
			t.Fatalf("%s %q: offsets [%d:%d] out of range for %d bytes", id.Kind, id.Value, id.Start, id.End, len(text))
		}
		raw := text[id.Start:id.End]
		again, err := x.Normalize(id.Kind, raw)
		if err != nil {
			t.Fatalf("Normalize(%s, %q) of an extracted identifier: %v", id.Kind, raw, err)
		}
		if again.Value != id.Value || again.Display != id.Display || again.Kind != id.Kind {
			t.Fatalf("Normalize(%s, %q) = %q/%q, extracted as %q/%q", id.Kind, raw, again.Value, again.Display, id.Value, id.Display)
		}
	}
}

// TestCardNeverWhole: SECURITY. A card number must never come out whole,
// in any field, whatever its separators.
func TestCardNeverWhole(t *testing.T) {
	x := newExtractor(t)
	cards := []string{
		withLuhn(t, "497010123456789"),    // Visa / CB
		withLuhn(t, "555555555555444"),    // Mastercard
		withLuhn(t, "222100000000000"),    // Mastercard 2-series
		withLuhn(t, "37828224631000"),     // American Express
		withLuhn(t, "601100000000000"),    // Discover
		withLuhn(t, "353011133330000"),    // JCB
		withLuhn(t, "620000000000000000"), // UnionPay, 19 digits
		withLuhn(t, "400000000000"),       // Visa, 13 digits
	}
	for _, c := range cards {
		for _, written := range []string{c, group(c, 4, " "), group(c, 4, "-"), group(c, 4, "\u00a0")} {
			text := "Débit frauduleux sur la carte " + written + " hier."
			ids := x.Extract(text)
			if len(ids) != 1 || ids[0].Kind != ident.KindCard {
				t.Errorf("Extract(%q) = %+v, want one card", text, ids)
			}
			id, err := x.Normalize(ident.KindCard, written)
			if err != nil {
				t.Errorf("Normalize(card, %q): %v", written, err)
			}
			for _, got := range append(ids, id) {
				for _, field := range []string{got.Value, got.Display} {
					if digits := strings.Map(keepDigits, field); strings.Contains(digits, c) || strings.Contains(field, written) {
						t.Errorf("card %s appears whole in %q", c, field)
					}
					if strings.Count(strings.Map(keepDigits, field), "") > 11 && got.Kind == ident.KindCard && field == got.Display {
						t.Errorf("Display %q shows more than 10 digits", field)
					}
				}
			}
			if want := c[:6] + strings.Repeat("*", len(c)-10) + c[len(c)-4:]; id.Display != want {
				t.Errorf("Display = %q, want %q", id.Display, want)
			}
		}
	}
}

func keepDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}
