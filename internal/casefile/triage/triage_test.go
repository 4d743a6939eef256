package triage_test

import (
	"bufio"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"vigie/internal/casefile/triage"
	"vigie/internal/db"
	"vigie/internal/db/dbtest"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"J'ai été VOLÉ à la gare", []string{"vole", "gare"}},
		{"L'IBAN du bénéficiaire : FR76 3000", []string{"iban", "beneficiaire", "fr76"}},
		{"ma sœur, 1 250,00 €", []string{"soeur"}},
		{"qu'il m'arnaque", []string{"arnaque"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := triage.Words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	f := triage.Features("carte bancaire volée")
	if !slices.Contains(f, "carte_bancaire") || !slices.Contains(f, "bancaire_volee") {
		t.Errorf("Features lacks the word pairs: %q", f)
	}
}

func TestGenerateIsDeterministicAndVaried(t *testing.T) {
	a, b := triage.Generate(7, 500), triage.Generate(7, 500)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two corpora")
	}
	distinct := map[string]bool{}
	perCat := map[string]int{}
	for _, e := range a {
		distinct[e.Text] = true
		perCat[e.Category]++
	}
	if len(distinct) < 450 {
		t.Errorf("only %d distinct narratives in 500", len(distinct))
	}
	for _, c := range triage.Categories() {
		if perCat[c] < 50 {
			t.Errorf("category %s: %d examples", c, perCat[c])
		}
	}
}

// accuracy returns the share of examples whose category (and priority) the
// classifier finds.
func accuracy(c *triage.Classifier, xs []triage.Example) (cat, pri float64, misses []string) {
	var nc, np int
	for _, e := range xs {
		s := c.Suggest(e.Text)
		if s.Category == e.Category {
			nc++
		} else {
			misses = append(misses, e.Category+" → "+s.Category+": "+e.Text)
		}
		if s.Priority == e.Priority {
			np++
		}
	}
	return float64(nc) / float64(len(xs)), float64(np) / float64(len(xs)), misses
}

func handwritten(t testing.TB) []triage.Example {
	t.Helper()
	f, err := os.Open("testdata/handwritten.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []triage.Example
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("bad line %q", line)
		}
		out = append(out, triage.Example{Category: parts[0], Priority: parts[1], Text: parts[2]})
	}
	return out
}

// TestAccuracy measures the classifier on a held-out generated set (another
// seed) and on hand-written narratives. The thresholds are what the model
// reaches today, minus a margin: a drop is a regression.
func TestAccuracy(t *testing.T) {
	c := triage.Default()
	heldCat, heldPri, _ := accuracy(c, triage.Generate(99, 900))
	handCat, handPri, misses := accuracy(c, handwritten(t))
	t.Logf("held-out generated (900): category %.1f%%, priority %.1f%%", 100*heldCat, 100*heldPri)
	t.Logf("hand-written (%d): category %.1f%%, priority %.1f%%", len(handwritten(t)), 100*handCat, 100*handPri)
	for _, m := range misses {
		t.Logf("miss: %s", m)
	}
	if heldCat < 0.95 {
		t.Errorf("held-out category accuracy %.2f, want ≥ 0.95", heldCat)
	}
	if handCat < 0.6 {
		t.Errorf("hand-written category accuracy %.2f, want ≥ 0.60", handCat)
	}
}

func TestSuggestExplains(t *testing.T) {
	c := triage.Default()
	text := "Un faux conseiller de ma banque m'a fait faire un virement vers un IBAN inconnu."
	s := c.Suggest(text)
	if s.Category != "online_scam" {
		t.Fatalf("category %q, want online_scam", s.Category)
	}
	if s.Confidence <= 0 || s.Confidence > 1 {
		t.Errorf("confidence %v out of (0, 1]", s.Confidence)
	}
	if len(s.Reasons) == 0 {
		t.Fatal("no reasons")
	}
	words := triage.Features(text)
	for _, r := range s.Reasons {
		if !slices.Contains(words, r) {
			t.Errorf("reason %q is not a word of the text", r)
		}
	}
	if got := c.Suggest("   "); got.Category != "" {
		t.Errorf("an empty text got a suggestion: %+v", got)
	}
}

// TestCorrectionsRetrain: a narrative the model gets wrong is learnt from
// stored corrections, on both engines.
func TestCorrectionsRetrain(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		text := "le chien du voisin aboie toute la nuit et il a empoisonné mon chat avec de la mort-aux-rats"
		c := triage.Default()
		before := c.Suggest(text)
		// The agent says otherwise than the model, whatever the model says.
		want := "fake_ad"
		if before.Category == want {
			want = "burglary"
		}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for range 3 {
				if err := triage.SaveCorrection(ctx, tx, triage.Correction{Text: text, Category: want, Priority: "high",
					SuggestedCategory: before.Category, SuggestedPriority: before.Priority, Dept: "01", By: 1, At: time.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		corr, err := triage.LoadCorrections(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(corr) != 3 {
			t.Fatalf("%d corrections loaded, want 3", len(corr))
		}
		c.Retrain(corr)
		if got := c.Suggest(text); got.Category != want {
			t.Errorf("after retraining: %q, want %s (before: %q)", got.Category, want, before.Category)
		}
		if c.Corrections() != 3 {
			t.Errorf("Corrections() = %d", c.Corrections())
		}
		// Learn alone does it too, without the database.
		c2 := triage.Default()
		for range 3 {
			c2.Learn(triage.Correction{Text: text, Category: want, Priority: "high"})
		}
		if got := c2.Suggest(text); got.Category != want {
			t.Errorf("after Learn: %q, want %s", got.Category, want)
		}
	})
}

func FuzzSuggest(f *testing.F) {
	c := triage.New(triage.Generate(1, 400), nil)
	for _, s := range []string{"", "vol de carte", "l'IBAN FR76", "\xff\xfe", "ÉÉÉ œ", strings.Repeat("a ", 1000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range triage.Words(s) {
			if !utf8.ValidString(w) && utf8.ValidString(s) {
				t.Fatalf("word %q of valid text is not valid UTF-8", w)
			}
		}
		sg := c.Suggest(s)
		if sg.Category != "" && (sg.Confidence <= 0 || sg.Confidence > 1.0000001) {
			t.Fatalf("confidence %v", sg.Confidence)
		}
	})
}

func BenchmarkSuggest(b *testing.B) {
	c := triage.Default()
	text := handwritten(b)[20].Text
	for b.Loop() {
		c.Suggest(text)
	}
}

func BenchmarkTrain(b *testing.B) {
	base := triage.Generate(triage.DefaultSeed, triage.DefaultSize)
	for b.Loop() {
		triage.New(base, nil)
	}
}

// TestWithCorrectionsCopies: the shared default model is not changed by
// what one classifier learns.
func TestWithCorrectionsCopies(t *testing.T) {
	text := "mon hamster a été enlevé par un extraterrestre"
	before := triage.Default().Suggest(text)
	want := "fake_ad"
	if before.Category == want {
		want = "burglary"
	}
	a := triage.WithCorrections([]triage.Example{{Text: text, Category: want, Priority: "low"}})
	for range 5 {
		a.Learn(triage.Correction{Text: text, Category: want, Priority: "low"})
	}
	if a.Suggest(text).Category != want {
		t.Fatal("the corrections were not learnt")
	}
	if after := triage.Default().Suggest(text); after.Category != before.Category || after.Confidence != before.Confidence {
		t.Errorf("the default model changed: %+v, was %+v", after, before)
	}
	if triage.Default().Corrections() != 0 {
		t.Error("the default model holds corrections")
	}
}

func BenchmarkWithCorrections(b *testing.B) {
	triage.Default()
	for b.Loop() {
		triage.WithCorrections(nil)
	}
}
