package waf

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The three requests: a GET with 3 query arguments, a form POST
// with 6 fields, a JSON POST with a 10 KB complaint narrative.
func benchRequests(b *testing.B) map[string]req {
	long := strings.TrimSuffix(truncate(strings.Repeat(narrativeRomance+"\n\n", 14), 10240), "…")
	return map[string]req{
		"GET3Args": {target: "/complaints?status=open&page=2&q=arnaque+au+faux+conseiller"},
		"FormPOST6Fields": {ctype: "application/x-www-form-urlencoded", target: "/complaints/new",
			body: form("kind", "escroquerie", "amount", "5250", "iban", "FR76 3000 6000 0112 3456 7890 189",
				"phone", "+44 7700 900123", "website", "https://www.transcash.fr/verifier-ticket?code=XXXX&ref=5512",
				"email", "martine.d@orange.fr")},
		"JSON10KBNarrative": {ctype: "application/json", target: "/api/v1/complaints", body: jsonBody(b, map[string]any{"narrative": long})},
		// The same text where no exclusion applies: every CRS rule reads it.
		"JSON10KBFullCRS": {ctype: "application/json", target: "/api/v1/notes", body: jsonBody(b, map[string]any{"text": long})},
	}
}

func BenchmarkFirewall(b *testing.B) {
	h := testFirewall(b).Middleware(backend)
	for _, name := range []string{"GET3Args", "FormPOST6Fields", "JSON10KBNarrative", "JSON10KBFullCRS"} {
		q := benchRequests(b)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			// The machine is shared: CPU time is the figure, not wall time.
			cpu0 := cpuTime()
			defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				var body *bytes.Reader
				method := http.MethodGet
				r := httptest.NewRequest(method, q.target, nil)
				if q.body != nil {
					body = bytes.NewReader(q.body)
					r = httptest.NewRequest(http.MethodPost, q.target, body)
					r.Header.Set("Content-Type", q.ctype)
					r.Header.Set("Content-Length", itoa(len(q.body)))
				}
				r.Host = "localhost"
				r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")
				r.Header.Set("Accept", "text/html,application/xhtml+xml")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// cpuTime is the process's user and system CPU time, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestMain lets a benchmark run use Coraza's stock @rx operator, to
// compare: VIGIE_WAF_STOCK_RX=1 go test -bench Firewall.
func TestMain(m *testing.M) {
	stockRx = os.Getenv("VIGIE_WAF_STOCK_RX") != ""
	os.Exit(m.Run())
}
