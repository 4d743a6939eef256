package waf

import (
	"regexp"

	"github.com/corazawaf/libinjection-go"
	"sync"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

var registerOnce sync.Once

// stockRx keeps Coraza's own @rx (benchmarks compare with it).
var stockRx = false

// registerOperators installs Vigie's replacements in Coraza (once per
// process; Coraza's registry is global).
func registerOperators() {
	registerOnce.Do(func() {
		plugins.RegisterBodyProcessor("xml", func() plugintypes.BodyProcessor { return xmlProcessor{} })
		if !stockRx {
			plugins.RegisterOperator("rx", newRx)
		}
		plugins.RegisterOperator("detectSQLi", func(plugintypes.OperatorOptions) (plugintypes.Operator, error) { return detectSQLi{}, nil })
	})
}

// detectSQLi is Coraza's @detectSQLi (libinjection), except for one value
// shape that libinjection reads as SQL: an e-mail address whose "+tag" is
// an SQL keyword ("jean+or@orange.fr" reads "jean or @orange.fr" once the
// '+' is decoded as a space, a tautology). Such a value has no quote, no
// operator, no parenthesis: nothing an injection could use.
type detectSQLi struct{}

func (detectSQLi) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if taggedEmail.MatchString(value) {
		return false
	}
	ok, fingerprint := libinjection.IsSQLi(value)
	if !ok {
		return false
	}
	tx.CaptureField(0, fingerprint)
	return true
}

var taggedEmail = regexp.MustCompile(`^[A-Za-z0-9._%-]+[+ ][A-Za-z0-9._%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$`)
