package waf

import (
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// dfa answers "does the pattern match anywhere in s?" with a lazily built
// deterministic automaton over the program Go's regexp compiles, so the
// answer is the one regexp.MatchString gives.
//
// PERFORMANCE: Go's regexp simulates an NFA on inputs longer than a few
// hundred bytes: for CRS's large patterns, about 100 ns per input byte,
// per rule. The automaton's states are sets of program counters; each
// (state, character) transition is computed once and cached, after which
// a byte costs one table lookup. A pattern whose automaton grows past
// maxStates stops using it and falls back to regexp.
type dfa struct {
	prog   *syntax.Prog
	mu     sync.Mutex // guards states, other maps, and state creation
	states map[string]*dstate
	start  *dstate
	failed atomic.Bool
}

// maxStates bounds each automaton (a state costs about 1 KB).
const maxStates = 400

// Context of the previous character, which decides the empty-width
// assertions (^, $, \b) before the next one.
const (
	prevStart   = 1 << iota // beginning of the text
	prevNewline             // previous character was '\n'
	prevWord                // previous character was a word character
)

type dstate struct {
	pcs  []uint32 // threads waiting to be closed (targets of consumed runes)
	prev uint8
	next [utf8.RuneSelf]atomic.Pointer[dstate]
	// other holds transitions on non-ASCII runes (guarded by dfa.mu).
	other map[rune]*dstate
	// end caches whether the pattern matches at the end of the text:
	// 0 unknown, 1 no, 2 yes.
	end atomic.Int32
}

// matched is the sink state: a match was found.
var matched = &dstate{}

func newDFA(pattern string) *dfa {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	d := &dfa{prog: prog, states: map[string]*dstate{}}
	d.start = d.intern(nil, prevStart|prevNewline)
	return d
}

// match reports whether the pattern matches somewhere in s; ok is false
// when the automaton gave up (the caller then asks regexp).
func (d *dfa) match(s string) (found, ok bool) {
	if d.failed.Load() {
		return false, false
	}
	st := d.start
	for i := 0; i < len(s); {
		c := s[i]
		var next *dstate
		if c < utf8.RuneSelf {
			next = st.next[c].Load()
			if next == nil {
				next = d.step(st, rune(c))
			}
			i++
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			next = d.stepOther(st, r)
			i += n
		}
		if next == nil {
			return false, false
		}
		if next == matched {
			return true, true
		}
		st = next
	}
	switch st.end.Load() {
	case 1:
		return false, true
	case 2:
		return true, true
	}
	_, m := d.closure(st, -1)
	if m {
		st.end.Store(2)
	} else {
		st.end.Store(1)
	}
	return m, true
}

func (d *dfa) stepOther(st *dstate, r rune) *dstate {
	d.mu.Lock()
	next, ok := st.other[r]
	d.mu.Unlock()
	if ok {
		return next
	}
	return d.step(st, r)
}

// step computes, caches and returns the transition of st on r (nil when
// the automaton has given up).
func (d *dfa) step(st *dstate, r rune) *dstate {
	pcs, m := d.closure(st, r)
	var next *dstate
	if m {
		next = matched
	} else {
		var out []uint32
		for _, pc := range pcs {
			in := &d.prog.Inst[pc]
			if consumes(in, r) {
				out = append(out, in.Out)
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
		prev := uint8(0)
		if r == '\n' {
			prev |= prevNewline
		}
		if syntax.IsWordChar(r) {
			prev |= prevWord
		}
		next = d.intern(out, prev)
		if next == nil {
			return nil
		}
	}
	if r < utf8.RuneSelf {
		st.next[r].Store(next)
	} else {
		d.mu.Lock()
		if st.other == nil {
			st.other = map[rune]*dstate{}
		}
		if len(st.other) < 256 {
			st.other[r] = next
		}
		d.mu.Unlock()
	}
	return next
}

func (d *dfa) intern(pcs []uint32, prev uint8) *dstate {
	key := make([]byte, 0, 1+4*len(pcs))
	key = append(key, prev)
	for _, pc := range pcs {
		key = append(key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if st, ok := d.states[string(key)]; ok {
		return st
	}
	if len(d.states) >= maxStates {
		d.failed.Store(true)
		return nil
	}
	st := &dstate{pcs: pcs, prev: prev}
	d.states[string(key)] = st
	return st
}

// closure follows the empty transitions from st's threads and from the
// program's start (a match may begin anywhere), with the assertions
// decided by the previous character (st.prev) and the next one, r (-1 at
// the end). It returns the instructions that consume a rune, and whether
// a match is complete.
func (d *dfa) closure(st *dstate, r rune) ([]uint32, bool) {
	ctx := emptyContext(st.prev, r)
	n := len(d.prog.Inst)
	seen := make([]bool, n)
	stack := make([]uint32, 0, len(st.pcs)+1)
	stack = append(stack, uint32(d.prog.Start))
	for i := len(st.pcs) - 1; i >= 0; i-- {
		stack = append(stack, st.pcs[i])
	}
	var out []uint32
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstMatch:
			return nil, true
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^ctx == 0 {
				stack = append(stack, in.Out)
			}
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		case syntax.InstFail:
		}
	}
	return out, false
}

// emptyContext is syntax.EmptyOpContext with the previous character
// described by its flags.
func emptyContext(prev uint8, r rune) syntax.EmptyOp {
	var op syntax.EmptyOp
	if prev&prevStart != 0 {
		op |= syntax.EmptyBeginText
	}
	if prev&(prevStart|prevNewline) != 0 {
		op |= syntax.EmptyBeginLine
	}
	if r < 0 {
		op |= syntax.EmptyEndText | syntax.EmptyEndLine
	} else if r == '\n' {
		op |= syntax.EmptyEndLine
	}
	if (prev&prevWord != 0) != (r >= 0 && syntax.IsWordChar(r)) {
		op |= syntax.EmptyWordBoundary
	} else {
		op |= syntax.EmptyNoWordBoundary
	}
	return op
}

func consumes(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune, syntax.InstRune1:
		return in.MatchRune(r)
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return false
}
