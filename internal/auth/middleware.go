package auth

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"vigie"
	"vigie/internal/db"
	"vigie/internal/web"
)

// CookieName is the session cookie.
const CookieName = "vigie_session"

// tokenPrefix starts every API token, so that leaked tokens are easy to
// recognise (secret scanners) and to tell from other credentials.
const tokenPrefix = "vig_"

// parseBearer extracts the token of an "Authorization: Bearer vig_..."
// header. It accepts only the exact shape Vigie issues.
func parseBearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) != len(tokenPrefix)+43 {
		return "", false
	}
	for _, c := range tok[len(tokenPrefix):] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return tok, true
}

// Middleware authenticates a request by its session cookie or bearer
// token and puts the acting user in its context. A staff session whose
// second factor is not done counts as signed out. A bearer token that is
// not valid is refused outright (401), rather than silently ignored.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			u, err := a.authToken(ctx, h)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
				code := web.StatusOf(err)
				web.WriteJSON(w, code, web.APIError{Error: vigie.KindOf(err).String(),
					Message: web.T(web.Lang(r), vigie.MessageOf(err)), Status: code})
				return
			}
			next.ServeHTTP(w, r.WithContext(vigie.WithUser(ctx, u)))
			return
		}
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			u, err := a.authSession(ctx, c.Value)
			if err != nil {
				a.log.WarnContext(ctx, "session check failed", "err", err)
			}
			if errors.Is(err, errSessionReused) {
				// The cookie is void: the browser that sent it forgets it.
				a.setCookie(w, r, "")
			}
			if u != nil {
				ctx = vigie.WithUser(ctx, u)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

var errBadToken = vigie.E(vigie.KindUnauthenticated, "auth.token", "The API token is not valid, has expired or was revoked.", nil)

// authToken resolves a bearer token to its user. A token acts with its
// user's rights: the user is loaded afresh, so a role change or a disabled
// account applies at once.
func (a *Auth) authToken(ctx context.Context, header string) (*vigie.User, error) {
	tok, ok := parseBearer(header)
	if !ok {
		return nil, errBadToken
	}
	t, err := tokenByHash(ctx, a.d, hashSecret(tok))
	if err != nil {
		if vigie.KindOf(err) == vigie.KindNotFound {
			return nil, errBadToken
		}
		return nil, vigie.E(vigie.KindUnavailable, "auth.token", "Sign-in is unavailable right now; please try again.", err)
	}
	now := a.now()
	if !t.ExpiresAt.After(now) {
		return nil, errBadToken
	}
	u, err := userByID(ctx, a.d, t.UserID)
	if err != nil || u.Disabled {
		return nil, errBadToken
	}
	// last_used_at is a hint for its owner: a minute's precision spares
	// a write per request.
	if now.Sub(t.LastUsed) > time.Minute {
		if err := touchToken(ctx, a.d, t.ID, now); err != nil {
			a.log.WarnContext(ctx, "token last-use update failed", "err", err)
		}
	}
	return u.User("token"), nil
}

// authSession resolves a session cookie to its user, or nil when the
// session is unknown, incomplete, idle for too long or expired.
func (a *Auth) authSession(ctx context.Context, cookie string) (*vigie.User, error) {
	if len(cookie) != 43 {
		return nil, nil
	}
	hash := hashSecret(cookie)
	s, err := sessionByHash(ctx, a.d, hash)
	if err != nil {
		if vigie.KindOf(err) == vigie.KindNotFound {
			return nil, nil
		}
		return nil, err
	}
	if !s.MFADone {
		return nil, nil
	}
	u, err := userByID(ctx, a.d, s.UserID)
	if err != nil {
		return nil, err
	}
	now := a.now()
	if u.Disabled || !s.ExpiresAt.After(now) || now.Sub(s.LastSeen) > a.idleFor(u.Role) {
		_, err := deleteSession(ctx, a.d, hash)
		return nil, err
	}
	if c := vigie.ClientFrom(ctx); OtherClient(s.IP, s.UserAgent, c.IP, c.UserAgent) {
		return nil, a.endReusedSession(ctx, s, u, c, now)
	}
	if now.Sub(s.LastSeen) > time.Minute {
		if err := touchSession(ctx, a.d, hash, now); err != nil {
			return nil, err
		}
	}
	vu := u.User("session")
	vu.SessionID = hash
	return vu, nil
}

// Require returns nil when someone is signed in with one of roles (any
// role when none is given), vigie.ErrUnauthenticated when nobody is, and
// a KindForbidden error otherwise. Handlers call it first:
//
//	if err := auth.Require(r.Context(), vigie.RoleAdmin); err != nil { return err }
func Require(ctx context.Context, roles ...vigie.Role) error {
	u := vigie.UserFrom(ctx)
	if u == nil {
		return vigie.ErrUnauthenticated
	}
	if len(roles) == 0 || slices.Contains(roles, u.Role) {
		return nil
	}
	return vigie.E(vigie.KindForbidden, "auth.Require", "You are not allowed to do this.", nil)
}

// setCookie sets (or, with an empty value, clears) the session cookie.
func (a *Auth) setCookie(w http.ResponseWriter, r *http.Request, value string) {
	c := &http.Cookie{Name: CookieName, Value: value, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil || a.cfg.SecureCookie, SameSite: http.SameSiteLaxMode}
	if value == "" {
		c.MaxAge = -1
	} else {
		// The browser keeps the cookie no longer than the session may live.
		c.MaxAge = int(a.cfg.MaxLifetime / time.Second)
	}
	http.SetCookie(w, c)
}

func sessionCookie(r *http.Request) string {
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

// SECURITY: a session cookie stolen (malware, a shared computer, a proxy
// log) and replayed from elsewhere. A session remembers the address and
// the user agent it was opened from; a request that comes from another
// network (/24 in IPv4, /64 in IPv6) AND with another user agent ends the
// session at once: the request is treated as signed out, the cookie is
// cleared, the event is journaled and reported (OnSessionReuse: the
// shield raises an alert). The legitimate user signs in again. Either
// change alone is normal (a phone moving between networks, a browser
// updated while at the same desk) and does nothing.

// errSessionReused is logged only: the request goes on signed out.
var errSessionReused = errors.New("auth: session used from another client: ended")

// SessionReuse describes a session ended because it was used from
// another client than the one that opened it.
type SessionReuse struct {
	At          time.Time
	UserID      int64
	Login       string
	Dept        string
	UnitID      int64
	Via         string // how the session was opened (password, oidc, passkey…)
	SignedInAt  time.Time
	SignInIP    string
	SignInAgent string
	IP          string // the address that reused it
	Agent       string // and its user agent
}

// OnSessionReuse sets the function told of every session ended because it
// was reused from another client (main hands it to the shield). It is
// called after the session is deleted and the event journaled, on the
// request's goroutine: it must not block.
func (a *Auth) OnSessionReuse(fn func(context.Context, SessionReuse)) {
	if fn == nil {
		a.onReuse.Store(nil)
		return
	}
	a.onReuse.Store(&fn)
}

// OtherClient reports whether a request from ip with user agent ua comes
// from another client than the one that signed in (signInIP,
// signInAgent): another network and another user agent. Unknown values
// (a session opened from the console, a request without an address)
// never count as a change.
func OtherClient(signInIP, signInAgent, ip, ua string) bool {
	if signInIP == "" || signInAgent == "" || ip == "" {
		return false
	}
	a, err1 := netip.ParseAddr(signInIP)
	b, err2 := netip.ParseAddr(ip)
	if err1 != nil || err2 != nil {
		return false
	}
	if sameNetwork(a.Unmap().WithZone(""), b.Unmap().WithZone("")) {
		return false
	}
	return truncate(ua, 300) != signInAgent
}

func sameNetwork(a, b netip.Addr) bool {
	if a.Is4() != b.Is4() {
		return false
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	pa, _ := a.Prefix(bits)
	pb, _ := b.Prefix(bits)
	return pa == pb
}

// endReusedSession deletes a reused session, journals it and reports it.
// It returns errSessionReused (or the database error).
func (a *Auth) endReusedSession(ctx context.Context, s *Session, u *userRow, c vigie.Client, now time.Time) error {
	ev := SessionReuse{At: now, UserID: u.ID, Login: u.Login, Dept: u.Dept, UnitID: u.UnitID, Via: s.Via,
		SignedInAt: s.CreatedAt, SignInIP: s.IP, SignInAgent: s.UserAgent, IP: c.IP, Agent: truncate(c.UserAgent, 300)}
	var ended bool
	err := a.d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if ended, err = deleteSession(ctx, tx, s.ID); err != nil || !ended {
			return err // a concurrent request ended it already
		}
		return a.record(ctx, tx, u.User("session"), vigie.Record{Action: vigie.ActAuth, Object: "user",
			ObjectID: itoa(u.ID), Dept: u.Dept, UnitID: u.UnitID,
			Detail: "session ended: used from another client (opened from " + s.IP + ", " + truncate(s.UserAgent, 120) + ")"})
	})
	if err != nil {
		return err
	}
	if ended {
		if fn := a.onReuse.Load(); fn != nil {
			(*fn)(context.WithoutCancel(ctx), ev)
		}
	}
	return errSessionReused
}
