package ident

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// French registration plates. SIV (since 2009): AB-123-CD. FNI (1950-2009):
// 1234 AB 56, the last part being the département (2A and 2B for Corsica,
// 971 to 976 overseas).
var (
	sivField = regexp.MustCompile(`^([A-Z]{2})[- ]?([0-9]{3})[- ]?([A-Z]{2})$`)
	fniField = regexp.MustCompile(`^([1-9][0-9]{0,3})[- ]?([A-Z]{1,3})[- ]?(2[AB]|97[1-6]|[0-9]{2})$`)
)

// scanPlates finds plates in a text, each at the start of a word. Letters
// must be capitals unless a SIV plate is written with its two dashes:
// "fg-456-hj" is a plate, "ab 123 cd" in running text is too likely not to
// be one. An FNI plate in text has at least two letters ("à 14 H 30").
func scanPlates(text string, cands []candidate) []candidate {
	for i := 0; i < len(text); i++ {
		if !isLetter(text[i]) && !isDigit(text[i]) {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); i > 0 && isWordRune(r) {
			continue
		}
		end := sivAt(text, i)
		if end < 0 {
			end = fniAt(text, i)
		}
		if end < 0 || !bounded(text, i, end) {
			continue
		}
		if id, msg := normalizePlate(text[i:end]); msg == "" {
			cands = append(cands, candidate{ids: []Identifier{id}, start: i, end: end, priority: prioPlate})
			i = end - 1
		}
	}
	return cands
}

// sivAt returns the end of the SIV plate written at i, or -1.
func sivAt(text string, i int) int {
	p := pattern{text: text, i: i}
	upper := p.letters(2, 2, false)
	sep1 := p.sep()
	p.digits(3, 3)
	sep2 := p.sep()
	upper = p.letters(2, 2, false) && upper
	if p.failed || !upper && (sep1 != '-' || sep2 != '-') {
		return -1
	}
	return p.i
}

// fniAt returns the end of the FNI plate written at i, or -1.
func fniAt(text string, i int) int {
	p := pattern{text: text, i: i}
	if i < len(text) && text[i] == '0' {
		return -1
	}
	p.digits(1, 4)
	p.sep()
	if !p.letters(2, 3, true) || p.failed {
		return -1
	}
	p.sep()
	start := p.i
	switch n := p.digits(2, 3); {
	case p.failed && p.i == start+1 && text[start] == '2' && start+1 < len(text) && (text[start+1] == 'A' || text[start+1] == 'B'):
		return start + 2
	case p.failed, n == 3 && (text[start:start+2] != "97" || text[start+2] < '1' || text[start+2] > '6'):
		return -1
	}
	return p.i
}

// pattern reads a plate one part at a time; failed records the first miss.
type pattern struct {
	text   string
	i      int
	failed bool
}

func (p *pattern) digits(lo, hi int) int {
	n := 0
	for n < hi && p.i < len(p.text) && isDigit(p.text[p.i]) {
		p.i++
		n++
	}
	p.failed = p.failed || n < lo
	return n
}

// letters reads ASCII letters and reports whether they were capitals; with
// onlyUpper, lower case ends the run.
func (p *pattern) letters(lo, hi int, onlyUpper bool) bool {
	n, upper := 0, true
	for n < hi && p.i < len(p.text) && isLetter(p.text[p.i]) {
		if c := p.text[p.i]; c >= 'a' {
			if onlyUpper {
				break
			}
			upper = false
		}
		p.i++
		n++
	}
	p.failed = p.failed || n < lo
	return upper
}

func (p *pattern) sep() byte {
	if p.i < len(p.text) && (p.text[p.i] == '-' || p.text[p.i] == ' ') {
		p.i++
		return p.text[p.i-1]
	}
	return 0
}

func normalizePlate(raw string) (Identifier, string) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if m := sivField.FindStringSubmatch(s); m != nil {
		if msg := sivRules(m[1], m[2], m[3]); msg != "" {
			return Identifier{}, msg
		}
		v := m[1] + "-" + m[2] + "-" + m[3]
		return Identifier{Kind: KindPlate, Value: v, Display: v}, ""
	}
	if m := fniField.FindStringSubmatch(s); m != nil {
		if strings.ContainsAny(m[2], "IO") {
			return Identifier{}, "Old plates (1234 AB 56) never use the letters I and O."
		}
		if d := m[3]; d == "00" || d > "95" && len(d) == 2 && d[0] != '2' {
			return Identifier{}, "The last part of an old plate is a département: 01 to 95, 2A, 2B or 971 to 976."
		}
		v := m[1] + " " + m[2] + " " + m[3]
		return Identifier{Kind: KindPlate, Value: v, Display: v}, ""
	}
	return Identifier{}, "A French plate is written AB-123-CD (since 2009) or 1234 AB 56 (before)."
}

// sivRules applies the letters and numbers that the SIV never issues.
func sivRules(left, num, right string) string {
	switch {
	case strings.ContainsAny(left+right, "IOU"):
		return "Plates never use the letters I, O and U."
	case left == "SS" || right == "SS":
		return "Plates never use the letters SS."
	case right == "WW":
		return "WW is only used at the start of a temporary plate (WW-123-AB)."
	case num == "000":
		return "The number of a plate runs from 001 to 999."
	}
	return ""
}

// bounded reports whether text[start:end] is a whole word: no letter or digit
// touches it on either side.
func bounded(text string, start, end int) bool {
	if r, _ := utf8.DecodeLastRuneInString(text[:start]); start > 0 && isWordRune(r) {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(text[end:]); end < len(text) && isWordRune(r) {
		return false
	}
	return true
}
