package audit

import (
	"regexp"
	"strings"

	"vigie"
)

// A motif says why personal data is read. French law on police files wants
// every consultation traced with its reason; Vigie accepts a case number
// (procédure) or a code from a short list, so that the journal can be
// searched and checked by reason.

// Reason is a motif code offered to the agent.
type Reason struct {
	Code      string // stored in the journal
	Label     string // English; translated by the page
	NeedsCase bool   // the code must come with a case number
}

// Reasons lists the motif codes, in the order the motif page shows them.
var Reasons = []Reason{
	{"enquete", "Judicial investigation (case number required)", true},
	{"plainte", "Handling a complaint", false},
	{"controle-hierarchique", "Supervisory check", false},
	{"demande-autorite-judiciaire", "Request from a judicial authority", false},
	{"droit-acces", "Request from the person concerned (right of access)", false},
	{"audit-securite", "Security audit of the journal", false},
	{"maintenance", "Technical maintenance", false},
}

// caseRE is a case number: year, then the month (a procedure number,
// 2026-01-000123) or the unit code (a Vigie case file, 2026-01053-000042),
// then six digits.
var caseRE = regexp.MustCompile(`^(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2]|[0-9][0-9AB][0-9]{3})-[0-9]{6}$`)

// ReasonOf returns the reason of a canonical motif ("enquete:2026-01-000123"
// or a code), and the case number if any.
func ReasonOf(motif string) (Reason, string, bool) {
	code, caseNo, _ := strings.Cut(motif, ":")
	for _, r := range Reasons {
		if r.Code == code {
			return r, caseNo, true
		}
	}
	return Reason{}, "", false
}

// Motif error messages, shown to the agent on the motif page.
const (
	msgMotifMissing = "A reason (motif) is required to consult personal data: give a case number such as 2026-01-000123 or choose a reason."
	msgMotifUnknown = "This reason is not in the list: give a case number such as 2026-01-000123 or choose a reason."
	msgCaseBad      = "The case number must look like 2026-01-000123 (year, month, six digits) or 2026-01053-000042 (year, unit code, six digits)."
)

// ParseMotif validates a motif and returns its canonical form. motif is a
// case number, a reason code, or "code:case number"; caseNo (may be empty)
// is a case number typed in a separate field. A bare case number means an
// investigation: "enquete:<number>".
func ParseMotif(motif, caseNo string) (string, error) {
	const op = "audit.ParseMotif"
	motif, caseNo = strings.TrimSpace(motif), strings.TrimSpace(caseNo)
	if motif == "" && caseNo == "" {
		return "", vigie.Invalidf(op, msgMotifMissing)
	}
	switch {
	case motif == "":
		motif = "enquete"
	case caseRE.MatchString(motif):
		if caseNo != "" && caseNo != motif {
			return "", vigie.Invalidf(op, msgCaseBad)
		}
		motif, caseNo = "enquete", motif
	}
	code, inline, hasInline := strings.Cut(motif, ":")
	if hasInline {
		if caseNo != "" && caseNo != inline {
			return "", vigie.Invalidf(op, msgCaseBad)
		}
		caseNo = inline
	}
	r, _, ok := ReasonOf(code)
	if !ok {
		return "", vigie.Invalidf(op, msgMotifUnknown)
	}
	if !r.NeedsCase {
		if caseNo != "" {
			// A case number with another reason is kept: it only adds
			// precision, but it must be well formed.
			if !caseRE.MatchString(caseNo) {
				return "", vigie.Invalidf(op, msgCaseBad)
			}
			return r.Code + ":" + caseNo, nil
		}
		return r.Code, nil
	}
	if !caseRE.MatchString(caseNo) {
		return "", vigie.Invalidf(op, msgCaseBad)
	}
	return r.Code + ":" + caseNo, nil
}
