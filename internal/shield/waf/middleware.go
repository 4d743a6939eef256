package waf

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/corazawaf/coraza/v3/experimental"
	"github.com/corazawaf/coraza/v3/types"

	"vigie"
)

// Middleware returns next behind the firewall. Every request goes through
// CRS's request phases (headers, then the body, buffered once by Coraza
// and handed on to next); with InspectResponses, text responses are
// buffered and go through the response phases too.
func (f *Firewall) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.serve(w, r, next)
	})
}

func (f *Firewall) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	waf := f.current()
	client := vigie.ClientFrom(r.Context())
	var tx types.Transaction
	if wo, ok := waf.(experimental.WAFWithOptions); ok {
		tx = wo.NewTransactionWithOptions(experimental.Options{ID: client.RequestID, Context: r.Context()})
	} else {
		tx = waf.NewTransaction()
	}
	logged := false
	defer func() {
		if !logged {
			tx.ProcessLogging()
		}
		_ = tx.Close()
	}()
	if tx.IsRuleEngineOff() {
		next.ServeHTTP(w, r)
		return
	}

	status := 0
	if it := f.processRequest(tx, w, r, client); it != nil {
		status = f.block(w, r, tx, it)
	} else if tx.IsInterrupted() {
		status = f.block(w, r, tx, tx.Interruption())
	}
	if status != 0 {
		f.verdict(r, tx, client, status)
		return
	}
	if !f.cfg.InspectResponses {
		next.ServeHTTP(w, r)
		f.verdict(r, tx, client, 0)
		return
	}
	rec := &recorder{w: w, header: http.Header{}, limit: 512 << 10}
	next.ServeHTTP(rec, r)
	if rec.streaming {
		f.verdict(r, tx, client, 0)
		return
	}
	it := f.processResponse(tx, rec)
	// The logging phase runs before the response leaves, so that whoever
	// reads the log after the response sees the whole transaction.
	tx.ProcessLogging()
	logged = true
	if it != nil {
		status = f.block(w, r, tx, it)
	} else {
		rec.flush()
	}
	f.verdict(r, tx, client, status)
}

// processRequest runs the request phases. It returns an interruption (the
// firewall's, or a refusal of its own: body too large, unreadable).
func (f *Firewall) processRequest(tx types.Transaction, w http.ResponseWriter, r *http.Request, client vigie.Client) *types.Interruption {
	ip, port := client.IP, 0
	host, p, err := net.SplitHostPort(r.RemoteAddr)
	if err == nil {
		port, _ = strconv.Atoi(p)
		if ip == "" {
			ip = host
		}
	}
	tx.ProcessConnection(ip, port, "", 0)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	tx.ProcessURI(uri, r.Method, r.Proto)
	for k, vs := range r.Header {
		for _, v := range vs {
			tx.AddRequestHeader(k, v)
		}
	}
	if r.Host != "" {
		tx.AddRequestHeader("Host", r.Host)
		tx.SetServerName(r.Host)
	}
	// Go removes Transfer-Encoding from the headers; CRS looks for
	// smuggling attempts in it (920171).
	for _, te := range r.TransferEncoding {
		tx.AddRequestHeader("Transfer-Encoding", te)
	}
	addDecodedQuery(tx, r.URL)
	if it := tx.ProcessRequestHeaders(); it != nil {
		return it
	}
	if r.Body != nil && r.Body != http.NoBody && tx.IsRequestBodyAccessible() {
		limit := f.cfg.FormLimit
		if isMultipart(r.Header.Get("Content-Type")) {
			limit = f.cfg.BodyLimit
		}
		if r.ContentLength > limit {
			return refusal(http.StatusRequestEntityTooLarge)
		}
		body := http.MaxBytesReader(w, r.Body, limit)
		it, _, err := tx.ReadRequestBodyFrom(body)
		if err != nil {
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				return refusal(http.StatusRequestEntityTooLarge)
			case errors.Is(err, os.ErrDeadlineExceeded):
				return refusal(http.StatusRequestTimeout)
			default:
				return refusal(http.StatusBadRequest)
			}
		}
		if it != nil {
			return it
		}
		if n := r.ContentLength; n < 0 || n <= f.cfg.FormLimit {
			if br, err := tx.RequestBodyReader(); err == nil {
				if b, err := io.ReadAll(io.LimitReader(br, f.cfg.FormLimit+1)); err == nil && int64(len(b)) <= f.cfg.FormLimit {
					addDecodedBody(tx, r.Header.Get("Content-Type"), b)
				}
			}
		}
		rbr, err := tx.RequestBodyReader()
		if err != nil {
			return refusal(http.StatusBadRequest)
		}
		// The body was read whole (within the limit): next reads the
		// firewall's copy.
		r.Body = io.NopCloser(rbr)
	}
	it, err := tx.ProcessRequestBody()
	if err != nil {
		f.cfg.Log.Warn("waf: request body", "err", err)
		return refusal(http.StatusBadRequest)
	}
	return it
}

func refusal(status int) *types.Interruption {
	return &types.Interruption{Action: "deny", Status: status}
}

func isMultipart(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.HasPrefix(mt, "multipart/")
}

// processResponse runs the response phases on a buffered response.
func (f *Firewall) processResponse(tx types.Transaction, rec *recorder) *types.Interruption {
	for k, vs := range rec.header {
		for _, v := range vs {
			tx.AddResponseHeader(k, v)
		}
	}
	if it := tx.ProcessResponseHeaders(rec.code(), "HTTP/1.1"); it != nil {
		return it
	}
	if tx.IsResponseBodyAccessible() && tx.IsResponseBodyProcessable() && rec.body.Len() > 0 {
		if it, _, err := tx.WriteResponseBody(rec.body.Bytes()); err != nil || it != nil {
			return it
		}
	}
	it, _ := tx.ProcessResponseBody()
	return it
}

// recorder buffers a response until the firewall has seen it. A handler
// that flushes (a stream) is let through as it goes, uninspected, as is a
// body larger than limit.
type recorder struct {
	w         http.ResponseWriter
	header    http.Header
	status    int
	body      bytes.Buffer
	limit     int
	streaming bool
}

func (r *recorder) Header() http.Header {
	if r.streaming {
		return r.w.Header()
	}
	return r.header
}

func (r *recorder) WriteHeader(code int) {
	if r.streaming {
		r.w.WriteHeader(code)
		return
	}
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.streaming {
		return r.w.Write(b)
	}
	if r.body.Len()+len(b) > r.limit {
		r.stream()
		return r.w.Write(b)
	}
	return r.body.Write(b)
}

func (r *recorder) Flush() {
	r.stream()
	if fl, ok := r.w.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.w }

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) stream() {
	if r.streaming {
		return
	}
	r.flush()
	r.streaming = true
}

func (r *recorder) flush() {
	h := r.w.Header()
	for k, vs := range r.header {
		h[k] = vs
	}
	r.w.WriteHeader(r.code())
	if r.body.Len() > 0 {
		_, _ = r.w.Write(r.body.Bytes())
	}
	r.body.Reset()
}

// block writes the refusal and returns its status: a short French page
// with the request id, or JSON under /api/.
func (f *Firewall) block(w http.ResponseWriter, r *http.Request, tx types.Transaction, it *types.Interruption) int {
	status := it.Status
	if status == 0 || it.Action != "deny" && it.Action != "drop" {
		status = http.StatusForbidden
	}
	if status < 400 || status > 599 {
		status = http.StatusForbidden
	}
	id := vigie.ClientFrom(r.Context()).RequestID
	if id == "" {
		id = tx.ID()
	}
	msg := refusalText(status)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if status == http.StatusRequestEntityTooLarge || status == http.StatusBadRequest || status == http.StatusRequestTimeout {
		// The body may be partly unread: do not reuse the connection.
		h.Set("Connection", "close")
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":`+strconv.Quote(msg.en)+`,"message":`+strconv.Quote(msg.fr)+`,"request_id":`+strconv.Quote(id)+`}`+"\n")
		return status
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = blockPage.Execute(w, map[string]any{"Status": status, "Title": msg.title, "Text": msg.fr, "ID": id})
	return status
}

type refusalMsg struct{ title, fr, en string }

func refusalText(status int) refusalMsg {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return refusalMsg{"Envoi trop volumineux", "Votre envoi dépasse la taille acceptée. Réduisez la taille des pièces jointes ou envoyez-les en plusieurs fois.", "The request body is too large."}
	case http.StatusBadRequest:
		return refusalMsg{"Requête illisible", "Votre envoi n'a pas pu être lu (formulaire ou fichier mal formé). Réessayez depuis le formulaire.", "The request could not be read."}
	case http.StatusRequestTimeout:
		return refusalMsg{"Envoi trop lent", "Votre envoi est arrivé trop lentement. Vérifiez votre connexion et réessayez.", "The request body arrived too slowly."}
	}
	return refusalMsg{"Requête bloquée", "Cette requête a été bloquée par le pare-feu applicatif de Vigie, car elle ressemble à une attaque. Si vous pensez qu'il s'agit d'une erreur, contactez le support en donnant l'identifiant ci-dessous.", "This request was blocked by the web application firewall."}
}

var blockPage = template.Must(template.New("blocked").Parse(`<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – Vigie</title><link rel="stylesheet" href="/static/dsfr/dsfr.min.css"></head>
<body><main class="fr-container fr-my-6w" role="main">
<h1>{{.Title}}</h1>
<p class="fr-text--lead">{{.Text}}</p>
<p>Identifiant de la requête : <code>{{.ID}}</code> (erreur {{.Status}})</p>
<p><a class="fr-link" href="/">Retour à l'accueil</a></p>
</main></body></html>
`))

// now is the clock of verdicts (tests may replace it).
var now = time.Now
