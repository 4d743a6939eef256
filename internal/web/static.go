package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The static directory holds Vigie's own assets (committed) and, under
// static/dsfr, the French State design system copied from the npm package
// @gouvfr/dsfr by `npm ci` (scripts/copy-dsfr.mjs; not committed). A binary
// built before `npm ci` still works, without the DSFR look.
//
//go:embed static
var staticFiles embed.FS

//go:embed messages.fr.json
var messagesFile embed.FS

func ownMessages() fs.FS { return messagesFile }

// Static returns the embedded static assets.
func Static() fs.FS {
	sub, _ := fs.Sub(staticFiles, "static")
	return sub
}

// HasDSFR reports whether the DSFR assets were embedded at build time.
func HasDSFR() bool {
	_, err := fs.Stat(Static(), "dsfr/dsfr.min.css")
	return err == nil
}

func staticHandler(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}
