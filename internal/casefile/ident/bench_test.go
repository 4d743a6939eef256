package ident_test

import (
	"strings"
	"testing"
)

// narrative2K is a 2 KB complaint of the kind THESEE receives: mostly prose,
// a dozen identifiers, and numbers that are not identifiers.
var narrative2K = func() string {
	s := strings.Repeat("Bonjour, je souhaite déposer plainte pour une escroquerie. Le 12/03/2024 j'ai vu sur leboncoin.fr "+
		"une annonce pour une console à 450 €. Le vendeur, joignable au 06 12 34 56 78 et par e-mail à vendeur.honnete@gmail.com, "+
		"m'a demandé de virer la somme sur FR76 3000 6000 0112 3456 7890 189 puis de confirmer sur "+
		"https://paiement-securise.example-shop.com/confirm/?ref=8841&utm_source=sms. Je n'ai jamais rien reçu. "+
		"Mon véhicule FG-456-HJ était garé au 12 rue de la Paix, 75001 Paris. Montant total : 1 250,00 €. ", 4)
	return s[:2048]
}()

func BenchmarkExtract2K(b *testing.B) {
	x := newExtractor(b)
	b.SetBytes(int64(len(narrative2K)))
	b.ReportAllocs()
	for b.Loop() {
		x.Extract(narrative2K)
	}
}
