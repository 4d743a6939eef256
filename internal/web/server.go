// Package web is Vigie's HTTP machinery, shared by every area: the server
// and its middleware (security headers with CSP nonces, cross-origin request
// protection, request ids, logs, metrics, panics), the one table that maps
// error kinds to status codes, the page layout in the look of the French
// State design system (DSFR), translations, static assets and health probes.
//
// Areas register their routes on the Server's mux with Route and render
// their pages with Render; they never write error responses themselves.
package web

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie"
)

// Config configures the HTTP server.
type Config struct {
	Addr     string
	CertFile string // HTTPS when both are set
	KeyFile  string
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header is believed.
	TrustedProxies []netip.Prefix
	// Static holds the assets served under /static/ (nil: the embedded ones).
	Static fs.FS
}

// Server is Vigie's HTTP server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	pages   *pageSet
	nav     []NavItem
	authn   func(http.Handler) http.Handler
	shield  func(http.Handler) http.Handler
	ready   []readyCheck
	metrics *httpMetrics
	srv     *http.Server
	routes  []string
}

type readyCheck struct {
	name string
	f    func(context.Context) error
}

// New returns a server with the shared routes (static assets, language
// switch, health probes) registered. reg may be nil.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	s := &Server{cfg: cfg, log: log, mux: http.NewServeMux(), pages: newPageSet()}
	if reg != nil {
		s.metrics = newHTTPMetrics(reg)
	}
	if err := LoadMessages(ownMessages()); err != nil {
		return nil, err
	}
	pages, _ := fs.Sub(ownTemplates, "templates/pages")
	if err := s.pages.add("web", pages); err != nil {
		return nil, err
	}
	static := cfg.Static
	if static == nil {
		static = Static()
	}
	s.mux.Handle("GET /static/", noteRoute(http.StripPrefix("/static/", staticHandler(static))))
	s.mux.Handle("GET /healthz", noteRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	s.mux.Handle("GET /readyz", noteRoute(http.HandlerFunc(s.readyz)))
	s.mux.Handle("POST /lang", noteRoute(http.HandlerFunc(s.setLang)))
	return s, nil
}

// Log returns the server's logger.
func (s *Server) Log() *slog.Logger { return s.log }

// Route registers a handler that returns an error; the error is written once
// by Error.
func (s *Server) Route(pattern string, f func(http.ResponseWriter, *http.Request) error) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, noteRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.Error(w, r, err)
		}
	})))
}

// Handle registers a plain handler.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, noteRoute(h))
}

// Routes lists the patterns registered through Route and Handle, in order
// (tests walk them to prove authorization on every route).
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// AddTemplates parses an area's page templates (the *.html at the root of
// fsys) and its messages.fr.json.
func (s *Server) AddTemplates(area string, fsys fs.FS) error { return s.pages.add(area, fsys) }

// AddNav adds an entry to the main menu.
func (s *Server) AddNav(items ...NavItem) { s.nav = append(s.nav, items...) }

// SetAuthenticator installs the middleware that puts the acting user in the
// request context (internal/auth provides it; main wires it).
func (s *Server) SetAuthenticator(mw func(http.Handler) http.Handler) { s.authn = mw }

// SetShield installs the defence middleware (bans, then the web application
// firewall; internal/shield provides it, main wires it). It runs after the
// client's address is known and the security headers are set, and before
// anything else looks at the request.
func (s *Server) SetShield(mw func(http.Handler) http.Handler) { s.shield = mw }

// AddReadyCheck adds a check to /readyz.
func (s *Server) AddReadyCheck(name string, f func(context.Context) error) {
	s.ready = append(s.ready, readyCheck{name, f})
}

// Render renders a page with status 200.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, name string, data any) error {
	return s.RenderStatus(w, r, 0, name, data)
}

// RenderStatus renders page name ("area/file.html") with data.
func (s *Server) RenderStatus(w http.ResponseWriter, r *http.Request, code int, name string, data any) error {
	u := vigie.UserFrom(r.Context())
	pd := PageData{Lang: Lang(r), User: u, Nonce: Nonce(r), Path: r.URL.Path, Status: code, D: data}
	if u != nil {
		for _, n := range s.nav {
			if len(n.Roles) == 0 || slices.Contains(n.Roles, u.Role) {
				pd.Nav = append(pd.Nav, n)
			}
		}
	}
	pd.FlashKind, pd.Flash = popFlash(w, r)
	return s.pages.render(w, r, code, name, pd)
}

// Handler returns the full handler: the middleware chain around the mux.
func (s *Server) Handler() http.Handler {
	var h http.Handler = noteUser(s.mux)
	if s.authn != nil {
		h = s.authn(h)
	}
	// Cross-site request forgery: refuse unsafe cross-origin requests from
	// browsers (Sec-Fetch-Site / Origin checks). API calls with bearer
	// tokens come without those headers and pass.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, vigie.E(vigie.KindForbidden, "web.csrf", "This request came from another site and was refused.", nil))
	}))
	h = cop.Handler(h)
	if s.shield != nil {
		h = s.shield(h)
	}
	h = s.securityHeaders(h)
	h = s.observe(h)
	h = s.client(h)
	return s.recoverer(h)
}

// ListenAndServe serves until ctx is cancelled, then shuts down gracefully:
// in-flight requests get up to 15 s to finish. ready is called once the
// listener is open.
func (s *Server) ListenAndServe(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return vigie.E(vigie.KindInvalid, "web.Listen", fmt.Sprintf("Cannot listen on %s: %v", s.cfg.Addr, err), err)
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // uploads
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	tlsOn := s.cfg.CertFile != "" && s.cfg.KeyFile != ""
	if tlsOn {
		s.srv.TLSConfig = TLSConfig()
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- s.srv.ServeTLS(ln, s.cfg.CertFile, s.cfg.KeyFile)
		} else {
			errc <- s.srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// TLSConfig is Vigie's TLS policy: TLS 1.3 preferred, TLS 1.2 only with
// forward-secret AEAD suites.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	res := map[string]string{}
	code := http.StatusOK
	for _, c := range s.ready {
		if err := c.f(ctx); err != nil {
			res[c.name] = "unavailable"
			code = http.StatusServiceUnavailable
			s.log.Warn("readiness check failed", "check", c.name, "err", err)
		} else {
			res[c.name] = "ok"
		}
	}
	WriteJSON(w, code, res)
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("lang")
	if lang != "fr" && lang != "en" {
		s.Error(w, r, vigie.Invalidf("web.setLang", "Unknown language."))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	next := r.PostFormValue("next")
	if !LocalPath(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// LocalPath reports whether p is a path on this site (and not "//evil"),
// safe to redirect to.
func LocalPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\") && !strings.ContainsAny(p, "\r\n")
}

type nonceKey struct{}

// Nonce returns the request's Content-Security-Policy nonce.
func Nonce(r *http.Request) string {
	n, _ := r.Context().Value(nonceKey{}).(string)
	return n
}

// securityHeaders sets a strict CSP with a fresh nonce per request and the
// other headers that browsers need to protect users (SECURITY).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [18]byte
		rand.Read(b[:])
		nonce := base64.StdEncoding.EncodeToString(b[:])
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; style-src 'self' 'nonce-"+nonce+"'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce)))
	})
}

// client records who the request comes from, and gives it an id.
func (s *Server) client(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := base64.RawURLEncoding.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		c := vigie.Client{IP: s.clientIP(r), UserAgent: r.UserAgent(), RequestID: id}
		next.ServeHTTP(w, r.WithContext(vigie.WithClient(r.Context(), c)))
	})
}

func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || len(s.cfg.TrustedProxies) == 0 {
		return host
	}
	trusted := func(a netip.Addr) bool {
		for _, p := range s.cfg.TrustedProxies {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !trusted(addr) {
		return host
	}
	// Walk X-Forwarded-For from the right, skipping our own proxies.
	parts := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			break
		}
		if !trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				s.Error(w, r, vigie.E(vigie.KindInternal, "web.recover", "", fmt.Errorf("panic: %v", p)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
