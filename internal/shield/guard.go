package shield

import (
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"vigie"
)

// Middleware is the cheapest defence, in front of the firewall: a request
// from a banned address or network is refused with a 403 before anything
// else reads it (no database query: the ban snapshot is in memory), and
// every answer is shown to the request-stream detectors.
func (s *Shield) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := vigie.ClientFrom(r.Context())
		addr := ParseAddr(c.IP)
		now := s.now()
		if b, ok := s.bans.load().lookup(addr, now); ok {
			s.refused.Add(1)
			refuse(w, r, b)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if fs := s.det.Observe(Hit{At: now, Addr: addr, Method: r.Method, Path: r.URL.Path, Status: sw.status(), UserAgent: c.UserAgent}); len(fs) > 0 {
			s.submit(fs)
		}
	})
}

// refuse answers a banned request: JSON for the API, a short page in
// French (and English) otherwise. It says until when, so that a person
// behind a shared address knows to wait; it never says why.
func refuse(w http.ResponseWriter, r *http.Request, b Ban) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	retry := int(time.Until(b.ExpiresAt).Seconds()) + 1
	if retry > 0 {
		h.Set("Retry-After", strconv.Itoa(retry))
	}
	until := b.ExpiresAt.UTC().Format("2006-01-02 15:04")
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.Header.Get("Accept"), "application/json") {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"forbidden","message":"Votre adresse est temporairement bloquée (jusqu’au ` + until + ` UTC). Your address is temporarily blocked.","status":403}` + "\n"))
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Accès bloqué — Vigie</title></head><body>` +
		`<h1>Accès temporairement bloqué</h1><p>Des requêtes inhabituelles sont venues de votre adresse réseau. L’accès est bloqué jusqu’au ` +
		html.EscapeString(until) + ` (UTC). Si vous pensez qu’il s’agit d’une erreur, contactez le service informatique de votre gendarmerie.</p>` +
		`<p lang="en">Access from your network address is temporarily blocked.</p></body></html>`))
}

// statusWriter remembers the status code of the answer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
