// Package triage suggests an offence category and a priority for the
// narrative of a complaint: a multinomial naive Bayes classifier over words
// and word pairs, after French normalisation (lower case, accents folded,
// elisions split, stop words dropped).
//
// It is a suggestion, never a decision: the agent confirms or corrects, and
// each correction is kept (table triage_corrections, written by
// SaveCorrection in the agent's transaction) and learnt at once; Retrain
// rebuilds the model from the generated base corpus and every correction.
//
// Explainable: Reasons are the words of the text that weigh most for the
// suggested category against the others (log-likelihood ratio), so the agent
// sees why ("iban", "virement", "site").
//
// The base corpus is generated (corpus.go): templates × vocabulary × noise,
// deterministic for a seed, written for this project. Accuracy is measured
// on a held-out generated set and on hand-written narratives in testdata
// (see triage_test.go and docs/casefiles.md); the second figure is the
// honest one.
package triage

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Example is a narrative with its category and priority.
type Example struct {
	Text, Category, Priority string
}

// Suggestion is what the classifier proposes for a narrative.
type Suggestion struct {
	Category   string   `json:"category"`
	Priority   string   `json:"priority"`
	Confidence float64  `json:"confidence"` // probability of the category, 0..1
	Reasons    []string `json:"reasons"`    // the words that weighed most
}

// correctionWeight: an agent's correction counts as this many generated
// examples, so that a few corrections move the model.
const correctionWeight = 5

// Classifier is safe for concurrent use.
type Classifier struct {
	mu          sync.RWMutex
	base        []Example
	corrections []Example
	cat, pri    *bayes
}

// New trains a classifier on base (the generated corpus) and corrections.
func New(base, corrections []Example) *Classifier {
	c := &Classifier{base: base}
	c.Retrain(corrections)
	return c
}

// Default returns a classifier trained on the default generated corpus.
func Default() *Classifier { return WithCorrections(nil) }

// defaultModel is the model of the default corpus, trained once per
// process (about half a second) and copied by WithCorrections.
var defaultModel = sync.OnceValue(func() *Classifier { return New(Generate(DefaultSeed, DefaultSize), nil) })

// WithCorrections returns a classifier trained on the default generated
// corpus and corrections, without training on the corpus again.
func WithCorrections(corrections []Example) *Classifier {
	base := defaultModel()
	base.mu.RLock()
	c := &Classifier{base: base.base, cat: base.cat.clone(), pri: base.pri.clone()}
	base.mu.RUnlock()
	for _, e := range corrections {
		f := Features(e.Text)
		c.cat.add(e.Category, f, correctionWeight)
		c.pri.add(e.Priority, f, correctionWeight)
	}
	c.corrections = slices.Clone(corrections)
	return c
}

// Retrain rebuilds the model from the base corpus and the given corrections
// (which replace those learnt so far).
func (c *Classifier) Retrain(corrections []Example) {
	cat, pri := newBayes(), newBayes()
	for _, e := range c.base {
		f := Features(e.Text)
		cat.add(e.Category, f, 1)
		pri.add(e.Priority, f, 1)
	}
	for _, e := range corrections {
		f := Features(e.Text)
		cat.add(e.Category, f, correctionWeight)
		pri.add(e.Priority, f, correctionWeight)
	}
	c.mu.Lock()
	c.cat, c.pri, c.corrections = cat, pri, slices.Clone(corrections)
	c.mu.Unlock()
}

// Learn adds one correction to the model at once (naive Bayes counts add up).
func (c *Classifier) Learn(e Correction) {
	f := Features(e.Text)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cat.add(e.Category, f, correctionWeight)
	c.pri.add(e.Priority, f, correctionWeight)
	c.corrections = append(c.corrections, Example{Text: e.Text, Category: e.Category, Priority: e.Priority})
}

// Corrections returns how many corrections the model has learnt.
func (c *Classifier) Corrections() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.corrections)
}

// Suggest proposes a category and a priority for text.
func (c *Classifier) Suggest(text string) Suggestion {
	f := Features(text)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(f) == 0 || len(c.cat.classes) == 0 {
		return Suggestion{}
	}
	cat, conf, scores := c.cat.predict(f)
	pri, _, _ := c.pri.predict(f)
	_ = scores
	return Suggestion{Category: cat, Priority: pri, Confidence: conf, Reasons: c.cat.reasons(cat, f, 5)}
}

// bayes is a multinomial naive Bayes model with Laplace smoothing.
type bayes struct {
	classes []string
	docs    map[string]float64            // class → documents
	words   map[string]map[string]float64 // class → feature → count
	total   map[string]float64            // class → feature count
	vocab   map[string]struct{}
	ndocs   float64
}

func newBayes() *bayes {
	return &bayes{docs: map[string]float64{}, words: map[string]map[string]float64{}, total: map[string]float64{},
		vocab: map[string]struct{}{}}
}

func (b *bayes) clone() *bayes {
	n := &bayes{classes: slices.Clone(b.classes), docs: maps.Clone(b.docs), words: make(map[string]map[string]float64, len(b.words)),
		total: maps.Clone(b.total), vocab: maps.Clone(b.vocab), ndocs: b.ndocs}
	for c, w := range b.words {
		n.words[c] = maps.Clone(w)
	}
	return n
}

func (b *bayes) add(class string, feats []string, w float64) {
	if class == "" {
		return
	}
	if _, ok := b.words[class]; !ok {
		b.words[class] = map[string]float64{}
		b.classes = append(b.classes, class)
		slices.Sort(b.classes)
	}
	b.docs[class] += w
	b.ndocs += w
	for _, f := range feats {
		b.words[class][f] += w
		b.total[class] += w
		b.vocab[f] = struct{}{}
	}
}

// logLike is log P(feature | class), smoothed.
func (b *bayes) logLike(class, f string) float64 {
	return math.Log((b.words[class][f] + 1) / (b.total[class] + float64(len(b.vocab)) + 1))
}

// predict returns the best class, its posterior probability and every
// class's log score.
func (b *bayes) predict(feats []string) (string, float64, map[string]float64) {
	scores := make(map[string]float64, len(b.classes))
	best, bestScore := "", math.Inf(-1)
	for _, c := range b.classes {
		s := math.Log(b.docs[c] / b.ndocs)
		for _, f := range feats {
			if _, known := b.vocab[f]; !known {
				continue // unknown words say nothing
			}
			s += b.logLike(c, f)
		}
		scores[c] = s
		if s > bestScore {
			best, bestScore = c, s
		}
	}
	var z float64
	for _, s := range scores {
		z += math.Exp(s - bestScore)
	}
	return best, 1 / z, scores
}

// reasons returns the features of feats that favour class most against the
// average of the other classes.
func (b *bayes) reasons(class string, feats []string, n int) []string {
	type w struct {
		f string
		v float64
	}
	seen := map[string]bool{}
	var ws []w
	for _, f := range feats {
		if _, known := b.vocab[f]; !known || seen[f] {
			continue
		}
		seen[f] = true
		var others float64
		for _, c := range b.classes {
			if c != class {
				others += b.logLike(c, f)
			}
		}
		others /= float64(max(len(b.classes)-1, 1))
		if v := b.logLike(class, f) - others; v > 0.5 {
			ws = append(ws, w{f, v})
		}
	}
	slices.SortFunc(ws, func(a, b w) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return cmp.Compare(a.f, b.f)
	})
	var out []string
	for _, x := range ws[:min(n, len(ws))] {
		out = append(out, x.f)
	}
	return out
}

// Features returns the normalised words of text that are not stop words,
// and the pairs of consecutive kept words ("carte bancaire" → "carte_bancaire").
func Features(text string) []string {
	words := Words(text)
	out := make([]string, 0, 2*len(words))
	out = append(out, words...)
	for i := 1; i < len(words); i++ {
		out = append(out, words[i-1]+"_"+words[i])
	}
	return out
}

// Words lowers, folds accents, splits on what is not a letter or a digit,
// splits elisions (l', d', qu'), and drops stop words, one-letter words and
// long digit runs (amounts, phone numbers: they say nothing of the offence).
func Words(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		w := b.String()
		b.Reset()
		if len(w) < 2 || stop[w] {
			return
		}
		digits := strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
		if digits {
			return
		}
		out = append(out, w)
	}
	text = strings.NewReplacer("œ", "oe", "Œ", "oe", "æ", "ae").Replace(text)
	for _, r := range text {
		r = fold(unicode.ToLower(r))
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			continue
		}
		flush()
	}
	flush()
	return out
}

// fold removes the accents of French letters.
func fold(r rune) rune {
	switch r {
	case 'à', 'â', 'ä', 'á', 'ã':
		return 'a'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'î', 'ï', 'í':
		return 'i'
	case 'ô', 'ö', 'ó', 'õ':
		return 'o'
	case 'ù', 'û', 'ü', 'ú':
		return 'u'
	case 'ç':
		return 'c'
	case 'ÿ':
		return 'y'
	case '’':
		return '\''
	}
	return r
}

// stop lists French (and a few English) words that carry no offence.
var stop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je
		la le les leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur
		ta te tes toi ton tu un une vos votre vous ete etre avoir ai as avait avais avons ont suis est sont etait etais
		etions fait faire plus tres tout tous toute toutes bien aussi alors donc car comme quand puis apres avant depuis
		ainsi encore deja si oui non cela ca ceci celui celle ceux dont lequel laquelle ici la-bas y bonjour madame monsieur
		merci cordialement the and of to in is was it my on at for with this that`) {
		m[w] = true
	}
	return m
}()
