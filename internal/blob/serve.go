package blob

import (
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ServeAttachment writes a stored file as a download.
//
// SECURITY: user files are never rendered by the application's origin,
// where an HTML or SVG file, or a PDF with scripts, would run with the
// user's session. The response always says "Content-Disposition:
// attachment", "X-Content-Type-Options: nosniff" and a sandboxing
// Content-Security-Policy (no script, no plugin, no same-origin), and the
// Content-Type is the sniffed type when it is one Put accepts by default,
// else application/octet-stream. When rc can seek (a local file), ranges
// are served (videos).
func ServeAttachment(w http.ResponseWriter, r *http.Request, rc io.Reader, o Object) {
	typ := o.Type
	if !slices.Contains(DefaultAllowed, typ) {
		typ = "application/octet-stream"
	} else if typ == TypeText {
		typ = "text/plain; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", disposition(o.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	if rs, ok := rc.(io.ReadSeeker); ok {
		// ETag: the content's address; ServeContent answers ranges and
		// conditional requests from it.
		h.Set("ETag", `"`+o.SHA256+`"`)
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	if o.Size > 0 {
		h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.Copy(w, rc)
	}
}

// disposition builds "attachment; filename=..." with RFC 2231 encoding for
// names outside ASCII, and a plain ASCII fallback.
func disposition(name string) string {
	name = CleanName(name)
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}
