package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"

	"vigie/internal/web"
)

// openAPIDoc is the OpenAPI 3.1 description of /api/v1, written by hand
// next to main because main is the one place that knows every area's
// routes. openapi_test.go proves that it lists exactly the /api/v1 routes
// the app registers, so that it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPIETag identifies this build's document, so that clients that
// cached it revalidate for a 304 instead of downloading it again.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// registerOpenAPI serves the API description at GET /api/v1/openapi.json.
// It is public: it describes the API, holds no data, and clients need it
// before they have a token.
func registerOpenAPI(s *web.Server) {
	modTime := time.Now() // the document changes only with the binary
	s.Handle("GET /api/v1/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		// A few minutes: long enough to spare tools that poll it, short
		// enough that a deployment's new routes show up soon.
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", openAPIETag)
		http.ServeContent(w, r, "openapi.json", modTime, bytes.NewReader(openAPIDoc))
	}))
}
