package waf

import (
	"net/http"
	"strconv"
	"time"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"

	"vigie"
)

// Verdict is what the firewall concluded about one request that it
// interrupted or that matched at least one rule.
type Verdict struct {
	Time      time.Time
	RequestID string
	ClientIP  string
	Method    string
	Path      string
	// Status is the status the firewall answered (403, 400, 413…), or 0
	// when the request went on to Vigie (scored below the threshold, or
	// detection-only mode).
	Status int
	// Blocked: the firewall answered instead of Vigie.
	Blocked bool
	// Score is CRS's inbound anomaly score.
	Score int
	Rules []Hit
}

// Hit is one rule that matched.
type Hit struct {
	ID       int    `json:"id"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
	// Data is the matched data, cut to MaxHitData bytes.
	Data string `json:"data"`
}

// MaxHitData bounds the matched data kept in a Hit.
const MaxHitData = 200

// verdict reports the request to OnVerdict when it matched anything.
// Nothing is built when OnVerdict is nil.
func (f *Firewall) verdict(r *http.Request, tx types.Transaction, client vigie.Client, status int) {
	if f.cfg.OnVerdict == nil {
		return
	}
	matched := tx.MatchedRules()
	blocker := -1
	if it := tx.Interruption(); it != nil {
		blocker = it.RuleID
	}
	var hits []Hit
	for _, m := range matched {
		// Informational rules (CRS's "enabling body inspection") have no
		// severity: not a finding, unless it is the rule that blocked.
		if m.Message() == "" || m.Rule().Severity().String() == "unknown" && m.Rule().ID() != blocker && m.Rule().ID() != 949110 {
			continue
		}
		hits = append(hits, Hit{ID: m.Rule().ID(), Message: m.Message(), Severity: m.Rule().Severity().String(), Data: truncate(m.Data(), MaxHitData)})
	}
	if len(hits) == 0 && status == 0 {
		return
	}
	ip := client.IP
	if ip == "" {
		ip = r.RemoteAddr
	}
	f.cfg.OnVerdict(r.Context(), Verdict{
		Time: now(), RequestID: client.RequestID, ClientIP: ip, Method: r.Method, Path: r.URL.Path,
		Status: status, Blocked: status != 0, Score: anomalyScore(tx), Rules: hits,
	})
}

// anomalyScore reads CRS's blocking inbound anomaly score.
func anomalyScore(tx types.Transaction) int {
	st, ok := tx.(plugintypes.TransactionState)
	if !ok {
		return 0
	}
	for _, key := range []string{"blocking_inbound_anomaly_score", "anomaly_score"} {
		if v := st.Variables().TX().Get(key); len(v) > 0 {
			if n, err := strconv.Atoi(v[0]); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
