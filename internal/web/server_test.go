package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vigie"
	"vigie/internal/web"
)

func newServer(t *testing.T) *web.Server {
	t.Helper()
	s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestErrorKindsMapToStatus(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		name string
		err  error
		want int
		msg  string
	}{
		{"invalid", vigie.Invalidf("op", "The code must have 6 digits."), 400, "The code must have 6 digits."},
		{"not found", vigie.ErrNotFound, 404, "Not found."},
		{"forbidden", vigie.ErrForbidden, 403, "You are not allowed to do this."},
		{"unauthenticated", vigie.ErrUnauthenticated, 401, "Please sign in."},
		{"conflict", vigie.E(vigie.KindConflict, "op", "Already exists.", nil), 409, "Already exists."},
		{"too many", vigie.E(vigie.KindTooMany, "op", "Slow down.", nil), 429, "Slow down."},
		// Internal text never reaches the user.
		{"internal", vigie.E(vigie.KindInternal, "op", "secret table name", io.ErrUnexpectedEOF), 500, "Something went wrong"},
		{"plain error", io.ErrUnexpectedEOF, 500, "Something went wrong"},
	}
	for i, tc := range cases {
		path := "/api/v1/case" + string(rune('a'+i))
		s.Route("GET "+path, func(w http.ResponseWriter, r *http.Request) error { return tc.err })
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Accept-Language", "en")
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d", rec.Code, tc.want)
			}
			body := rec.Body.String()
			if !strings.Contains(body, tc.msg) {
				t.Errorf("body %q does not contain %q", body, tc.msg)
			}
			if strings.Contains(body, "secret table") || strings.Contains(body, "unexpected EOF") {
				t.Errorf("internal detail leaked: %s", body)
			}
		})
	}
}

func TestFrenchByDefault(t *testing.T) {
	s := newServer(t)
	s.Route("GET /api/v1/x", func(w http.ResponseWriter, r *http.Request) error { return vigie.ErrForbidden })
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
	if !strings.Contains(rec.Body.String(), "autorisé") {
		t.Errorf("default language is not French: %s", rec.Body.String())
	}
}

func TestHTMLErrorPageAndSecurityHeaders(t *testing.T) {
	s := newServer(t)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/nothing-here", nil))
	// The mux's own 404 is plain; an area's not-found renders the page.
	s.Route("GET /page", func(w http.ResponseWriter, r *http.Request) error { return vigie.ErrNotFound })
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/page", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "Page introuvable") {
		t.Fatalf("got %d %q, want the French 404 page", rec.Code, rec.Body.String())
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "'nonce-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows unsafe-inline: %q", csp)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("missing nosniff")
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	s := newServer(t)
	s.Route("POST /do", func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil })
	req := httptest.NewRequest("POST", "/do", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site POST: status %d, want 403", rec.Code)
	}
	req = httptest.NewRequest("POST", "/do", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 204 {
		t.Errorf("same-origin POST: status %d, want 204", rec.Code)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	cases := []struct{ in, want string }{
		{``, "empty"},
		{`{"name":`, "not valid JSON"},
		{`{"n":"x"}`, `field "n" must be int`},
		{`{"zzz":1}`, "unknown field"},
		{`{"n":1}{"n":2}`, "single JSON value"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
		var b body
		err := web.DecodeJSON(r, &b)
		if vigie.KindOf(err) != vigie.KindInvalid || !strings.Contains(vigie.MessageOf(err), tc.want) {
			t.Errorf("DecodeJSON(%q) = %v, want invalid mentioning %q", tc.in, err, tc.want)
		}
	}
}

func TestReadyz(t *testing.T) {
	s := newServer(t)
	s.AddReadyCheck("db", func(context.Context) error { return nil })
	s.AddReadyCheck("bus", func(context.Context) error { return io.EOF })
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"bus": "unavailable"`) {
		t.Errorf("readyz = %d %s", rec.Code, rec.Body.String())
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/admin", "//evil.example", "/\\evil", "https://x", "/a\r\nSet-Cookie: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !web.LocalPath(p) {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\r\n") {
			t.Errorf("LocalPath(%q) = true", p)
		}
	})
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(`{"name":"a","n":1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		var v struct {
			Name string `json:"name"`
			N    int    `json:"n"`
		}
		err := web.DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(in)), &v)
		if err != nil && vigie.KindOf(err) != vigie.KindInvalid {
			t.Errorf("DecodeJSON(%q): kind %v, want invalid", in, vigie.KindOf(err))
		}
	})
}

func TestWebTemplatesTranslated(t *testing.T) {
	for _, dir := range []string{"templates", "templates/pages"} {
		missing, err := web.Untranslated(os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range missing {
			t.Errorf("no French translation: %s", m)
		}
	}
}

func TestMetricsLabelRoutePattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := web.New(web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	s.Route("GET /units/{id}", func(w http.ResponseWriter, r *http.Request) error { return nil })
	s.SetAuthenticator(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(vigie.WithUser(r.Context(), &vigie.User{ID: 7})))
		})
	})
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/units/42", nil))
	n := testutil.ToFloat64(metricCounter(t, reg))
	if n != 1 {
		t.Errorf("vigie_http_requests_total{route=\"GET /units/{id}\"} = %v, want 1", n)
	}
}

func metricCounter(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "vigie_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == "GET /units/{id}" {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatal("no series labelled with the route pattern")
	return nil
}

// TestFormErrorGoesBackWithFlash: a refused form sends the browser back to
// the page it came from, where the reason is shown once.
func TestFormErrorGoesBackWithFlash(t *testing.T) {
	s := newServer(t)
	s.FormRoute("POST /things", func(w http.ResponseWriter, r *http.Request) error {
		return vigie.Invalidf("test", "The name is required.")
	})
	s.Route("GET /things/new", func(w http.ResponseWriter, r *http.Request) error {
		return s.Render(w, r, "web/error.html", map[string]any{"Status": 200, "Title": "Error", "Message": ""})
	})
	req := httptest.NewRequest("POST", "http://vigie.test/things", nil)
	req.Header.Set("Referer", "http://vigie.test/things/new?x=1")
	req.Header.Set("Accept-Language", "en")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/things/new?x=1" {
		t.Fatalf("refused form: %d to %q, want 303 back to the form", rec.Code, rec.Header().Get("Location"))
	}
	cookie := rec.Result().Cookies()[0]
	req = httptest.NewRequest("GET", "http://vigie.test/things/new?x=1", nil)
	req.AddCookie(cookie)
	req.Header.Set("Accept-Language", "en")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "The name is required.") || !strings.Contains(rec.Body.String(), "fr-alert--error") {
		t.Errorf("the form page does not show the reason")
	}
	// A referer from another site is not followed: the error page is shown.
	req = httptest.NewRequest("POST", "http://vigie.test/things", nil)
	req.Header.Set("Referer", "http://evil.test/")
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("foreign referer: status %d, want 400", rec.Code)
	}
}
