package waf

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"rsc.io/binaryregexp"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// Vigie's @rx operator: the same matching as Coraza's (Go regexp with
// (?sm), captures, binary patterns), behind an exact pre-check.
//
// PERFORMANCE: 86 % of the firewall's time on large bodies goes to Go's
// regexp, which runs in O(pattern × input) and cannot skip ahead. Most CRS
// patterns cannot match unless the input contains one of a few literal
// strings ("<script", "select", "${", "'"): we derive from each pattern's
// syntax tree a set of strings such that every match contains one of them,
// and run the regexp only when the input contains one. The derivation is
// conservative (case is always ignored, and any construct it does not
// understand yields "no requirement"), so a skipped regexp could never
// have matched: detection is unchanged. Coraza's own SecRxPreFilter is
// not used: it lets some matching inputs through (a real bypass).
//
// SECURITY: the soundness of required() is what keeps detection intact;
// TestRxRequiredSound checks it against every CRS pattern.
type rxOp struct {
	re  *regexp.Regexp
	req []string // canonical strings, one of which a match contains; nil: none
	dfa *dfa     // nil: regexp only
}

type binaryRxOp struct{ re *binaryregexp.Regexp }

// rxCompiled is memoized (one per distinct pattern, shared by WAFs).
type rxCompiled struct {
	re  *regexp.Regexp
	req []string
	dfa *dfa
}

func newRx(opts plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	// Coraza enables dotall and multiline by default (ModSecurity's
	// behaviour, which CRS is written for).
	pattern := "(?sm)" + opts.Arguments
	if matchesBytes(pattern) {
		// Patterns with non-UTF-8 byte escapes are matched on bytes, as
		// Coraza does (without the flags).
		v, err := memo(opts.Memoizer, "vigie-binrx:"+opts.Arguments, func() (any, error) { return binaryregexp.Compile(opts.Arguments) })
		if err != nil {
			return nil, err
		}
		return &binaryRxOp{re: v.(*binaryregexp.Regexp)}, nil
	}
	v, err := memo(opts.Memoizer, "vigie-rx:"+pattern, func() (any, error) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, err
		}
		return &rxCompiled{re: re, req: requiredOf(pattern), dfa: newDFA(pattern)}, nil
	})
	if err != nil {
		return nil, err
	}
	c := v.(*rxCompiled)
	return &rxOp{re: c.re, req: c.req, dfa: c.dfa}, nil
}

func memo(m plugintypes.Memoizer, key string, f func() (any, error)) (any, error) {
	if m == nil {
		return f()
	}
	return m.Do(key, f)
}

func (o *rxOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	// The automaton answers in one table lookup per byte; the literal
	// pre-check serves the patterns whose automaton grew too large.
	found, ok := false, false
	if o.dfa != nil {
		found, ok = o.dfa.match(value)
	}
	if ok {
		if !found {
			return false
		}
		if !tx.Capturing() {
			return true
		}
	} else if o.req != nil && !containsAny(value, o.req) {
		return false
	}
	if tx.Capturing() {
		m := o.re.FindStringSubmatchIndex(value)
		if m == nil {
			return false
		}
		for i := 0; i < len(m)/2 && i < 9; i++ {
			if m[2*i] >= 0 {
				tx.CaptureField(i, value[m[2*i]:m[2*i+1]])
			} else {
				tx.CaptureField(i, "")
			}
		}
		return true
	}
	return o.re.MatchString(value)
}

func (o *binaryRxOp) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if tx.Capturing() {
		m := o.re.FindStringSubmatch(value)
		if m == nil {
			return false
		}
		for i := 0; i < len(m) && i < 9; i++ {
			tx.CaptureField(i, m[i])
		}
		return true
	}
	return o.re.MatchString(value)
}

// matchesBytes reports whether pattern has \xNN or \x{NN} escapes that
// decode to bytes that are not UTF-8 (Coraza then matches on bytes).
func matchesBytes(pattern string) bool {
	if !strings.Contains(pattern, `\x`) {
		return false
	}
	var b []byte
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '\\' || i+1 >= len(pattern) {
			b = append(b, c)
			continue
		}
		if pattern[i+1] != 'x' {
			// An escaped character: keep both, skip the escaped one (so
			// that "\\x41" is a backslash and "x41").
			b = append(b, c, pattern[i+1])
			i++
			continue
		}
		hex, adv := "", 0
		switch {
		case i+2 < len(pattern) && pattern[i+2] == '{':
			if end := strings.IndexByte(pattern[i+3:], '}'); end >= 0 {
				hex, adv = pattern[i+3:i+3+end], 3+end
			}
		case i+3 < len(pattern):
			hex, adv = pattern[i+2:i+4], 3
		}
		n, err := strconv.ParseUint(hex, 16, 32)
		if hex == "" || err != nil {
			b = append(b, c)
			continue
		}
		if n < 0x100 {
			b = append(b, byte(n))
		} else {
			b = utf8.AppendRune(b, rune(n))
		}
		i += adv
	}
	return !utf8.Valid(b)
}

// --- Required strings --------------------------------------------------------

const (
	maxExact     = 64 // largest set of exact strings kept while combining
	maxClassSize = 10 // largest character class expanded into strings
)

// info describes what a sub-pattern can match: exactly the strings of
// exact (when known), and in any case a string containing one of req
// (when req is known; an empty string in req means no requirement).
type info struct {
	exact      []string
	exactKnown bool
	req        []string
	reqKnown   bool
}

func exactly(s ...string) info { return info{exact: s, exactKnown: true} }

// asReq returns the requirement that info implies, if any.
func (i info) asReq() ([]string, bool) {
	if i.reqKnown {
		return i.req, true
	}
	if i.exactKnown {
		return i.exact, true
	}
	return nil, false
}

// requiredOf returns canonical strings one of which every match of
// pattern contains, or nil when there is no useful requirement.
func requiredOf(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	req, ok := analyze(re.Simplify()).asReq()
	if !ok || len(req) == 0 || slices.Contains(req, "") {
		return nil
	}
	// Drop strings that contain another one of the set: the shorter one
	// is found whenever the longer one is.
	slices.SortFunc(req, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, s := range req {
		dup := false
		for _, t := range out {
			if strings.Contains(s, t) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

func analyze(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactly("")
	case syntax.OpLiteral:
		return exactly(canonRunes(re.Rune))
	case syntax.OpCharClass:
		var set []string
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > maxClassSize {
				return info{}
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set = append(set, canonRunes([]rune{r}))
			}
		}
		return exactly(dedupe(set)...)
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpPlus:
		req, ok := analyze(re.Sub[0]).asReq()
		return info{req: req, reqKnown: ok}
	case syntax.OpRepeat:
		if re.Min < 1 {
			return info{}
		}
		req, ok := analyze(re.Sub[0]).asReq()
		return info{req: req, reqKnown: ok}
	case syntax.OpConcat:
		return analyzeConcat(re.Sub)
	case syntax.OpAlternate:
		return analyzeAlternate(re.Sub)
	}
	// OpStar, OpQuest, OpAnyChar, OpAnyCharNotNL, OpNoMatch and anything
	// else: no requirement.
	return info{}
}

func analyzeConcat(subs []*syntax.Regexp) info {
	var (
		cands [][]string // requirements found along the way
		cur   = []string{""}
		inCur = true // cur holds the exact strings of the children since the last break
		all   = true // every child was exact and cur never broke
	)
	flush := func() {
		if inCur && len(cur) > 0 && !slices.Contains(cur, "") {
			cands = append(cands, cur)
		}
	}
	for _, sub := range subs {
		in := analyze(sub)
		if req, ok := in.asReq(); ok && !slices.Contains(req, "") && len(req) > 0 {
			cands = append(cands, req)
		}
		if in.exactKnown && len(cur)*len(in.exact) <= maxExact {
			next := make([]string, 0, len(cur)*len(in.exact))
			for _, a := range cur {
				for _, b := range in.exact {
					next = append(next, a+b)
				}
			}
			cur = dedupe(next)
			continue
		}
		// The run of exact strings ends here.
		flush()
		all = false
		if in.exactKnown {
			cur = in.exact
		} else {
			cur = []string{""}
		}
	}
	if all {
		return exactly(cur...)
	}
	flush()
	best := pick(cands)
	return info{req: best, reqKnown: best != nil}
}

func analyzeAlternate(subs []*syntax.Regexp) info {
	infos := make([]info, len(subs))
	allExact := true
	var exact []string
	for k, sub := range subs {
		infos[k] = analyze(sub)
		if infos[k].exactKnown {
			exact = append(exact, infos[k].exact...)
		} else {
			allExact = false
		}
	}
	if allExact && len(exact) <= maxExact {
		return exactly(dedupe(exact)...)
	}
	// A match of the alternation is a match of one branch: it contains
	// one of that branch's required strings. A branch that requires
	// nothing makes the whole alternation require nothing.
	var req []string
	for _, in := range infos {
		r, ok := in.asReq()
		if !ok || slices.Contains(r, "") {
			return info{}
		}
		req = append(req, r...)
	}
	return info{req: dedupe(req), reqKnown: true}
}

// pick chooses the most selective requirement: the one whose shortest
// string is longest, then the smallest set.
func pick(cands [][]string) []string {
	var best []string
	bestMin := -1
	for _, c := range cands {
		m := len(c[0])
		for _, s := range c {
			m = min(m, len(s))
		}
		if m > bestMin || m == bestMin && len(c) < len(best) {
			best, bestMin = c, m
		}
	}
	return best
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// --- Canonical case ----------------------------------------------------------

// canonRune maps r to the smallest rune of its case-folding orbit, the
// orbit Go's (?i) matching uses: 'k', 'K' and the Kelvin sign all map to
// 'K'. Comparing canonical forms ignores case exactly as (?i) does.
func canonRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

func canonRunes(rs []rune) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteRune(canonRune(r))
	}
	return b.String()
}

// canon returns s in canonical case. Invalid UTF-8 bytes become U+FFFD,
// as Go's regexp reads them.
func canon(s string) string {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, i, len(s)+8)
	copy(b, s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, canonRune(r))
		i += n
	}
	return string(b)
}

// containsAny reports whether s, in canonical case, contains one of req.
func containsAny(s string, req []string) bool {
	c := canon(s)
	for _, r := range req {
		if strings.Contains(c, r) {
			return true
		}
	}
	return false
}
