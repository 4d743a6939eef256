package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"vigie"
)

// A flash is a one-time message carried by a short-lived cookie to the next
// page the browser renders: "unit created", or why a form was refused.
// Nothing is kept on the server, so it works across replicas.
const flashCookie = "vigie_flash"

// Flash kinds, as DSFR alert styles.
const (
	FlashInfo    = "info"
	FlashSuccess = "success"
	FlashError   = "error"
)

// SetFlash stores msg (already translated) for the next page.
func SetFlash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(kind + "\n" + msg)),
		Path: "/", MaxAge: 60, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// popFlash reads and clears the flash of the request, if any.
func popFlash(w http.ResponseWriter, r *http.Request) (kind, msg string) {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return "", ""
	}
	kind, msg, ok := strings.Cut(string(b), "\n")
	if !ok || (kind != FlashInfo && kind != FlashSuccess && kind != FlashError) {
		return "", ""
	}
	return kind, msg
}

// FormRoute registers the handler of an HTML form post. When the handler
// refuses the input (an invalid or conflicting request), the browser goes
// back to the page the form was on, with the reason shown above it, rather
// than to an error page; other errors are handled as by Route.
func (s *Server) FormRoute(pattern string, f func(http.ResponseWriter, *http.Request) error) {
	s.Route(pattern, func(w http.ResponseWriter, r *http.Request) error {
		err := f(w, r)
		if err == nil {
			return nil
		}
		k := vigie.KindOf(err)
		back := sameSiteReferer(r)
		if (k != vigie.KindInvalid && k != vigie.KindConflict) || back == "" || WantsJSON(r) {
			return err
		}
		SetFlash(w, r, FlashError, T(Lang(r), userMessage(err, StatusOf(err))))
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	})
}

// sameSiteReferer returns the path (and query) of the Referer when it is a
// page of this site, else "".
func sameSiteReferer(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return ""
	}
	p := u.EscapedPath()
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	if !LocalPath(p) {
		return ""
	}
	return p
}
