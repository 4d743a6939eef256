package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"vigie"
)

// status maps error kinds to HTTP status codes. It is the one place where
// this mapping lives.
func status(k vigie.Kind) int {
	switch k {
	case vigie.KindInvalid:
		return http.StatusBadRequest
	case vigie.KindNotFound:
		return http.StatusNotFound
	case vigie.KindUnauthenticated:
		return http.StatusUnauthorized
	case vigie.KindForbidden:
		return http.StatusForbidden
	case vigie.KindConflict:
		return http.StatusConflict
	case vigie.KindTooMany:
		return http.StatusTooManyRequests
	case vigie.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int { return status(vigie.KindOf(err)) }

// WantsJSON reports whether the request is an API call (path under /api/ or
// an Accept header that prefers JSON).
func WantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") ||
		strings.HasPrefix(r.Header.Get("Accept"), "application/json")
}

// APIError is the body of every JSON error response.
type APIError struct {
	Error   string `json:"error"`   // kind, machine-readable
	Message string `json:"message"` // for people, in the request's language
	Status  int    `json:"status"`
}

// userMessage returns what users may read about err: its message when it is
// classified, a generic sentence otherwise. Internal text never leaks.
func userMessage(err error, code int) string {
	if code >= 500 && vigie.KindOf(err) != vigie.KindUnavailable {
		return "Something went wrong on our side. The incident was recorded; please try again."
	}
	if m := vigie.MessageOf(err); m != "" {
		return m
	}
	return http.StatusText(code)
}

// Error writes err to the client as JSON or as an HTML page, and logs it once
// when it is a server error.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := StatusOf(err)
	if code >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"status", code, "err", err, "request_id", vigie.ClientFrom(r.Context()).RequestID)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "path", r.URL.Path, "status", code, "err", err)
	}
	if code == http.StatusUnauthorized && !WantsJSON(r) && r.Method == http.MethodGet {
		http.Redirect(w, r, "/login?next="+urlEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	lang := Lang(r)
	msg := T(lang, userMessage(err, code))
	if WantsJSON(r) {
		WriteJSON(w, code, APIError{Error: vigie.KindOf(err).String(), Message: msg, Status: code})
		return
	}
	if rerr := s.RenderStatus(w, r, code, "web/error.html", errorPage{Status: code, Title: errorTitle(code), Message: msg}); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		http.Error(w, msg, code)
	}
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// DecodeJSON reads a JSON request body into v (at most 1 MiB, no unknown
// fields) and returns a KindInvalid error that says what is wrong.
func DecodeJSON(r *http.Request, v any) error {
	const op = "web.DecodeJSON"
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return vigie.Invalidf(op, "The request body must be JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return vigie.E(vigie.KindInvalid, op, "The request body is not valid JSON: "+jsonProblem(err), err)
	}
	if dec.More() {
		return vigie.Invalidf(op, "The request body must hold a single JSON value.")
	}
	return nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case asErr(err, &se):
		return "syntax error at byte " + itoa(int(se.Offset)) + "."
	case asErr(err, &te):
		return "field \"" + te.Field + "\" must be " + te.Type.String() + "."
	case asErr(err, &mbe):
		return "it is larger than 1 MiB."
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "."
	case err.Error() == "EOF":
		return "it is empty."
	}
	return "it cannot be read."
}

type errorPage struct {
	Status  int
	Title   string
	Message string
}

func errorTitle(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad request"
	case http.StatusUnauthorized:
		return "Sign-in required"
	case http.StatusForbidden:
		return "Access denied"
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return "Too many requests"
	case http.StatusServiceUnavailable:
		return "Service unavailable"
	}
	if code >= 500 {
		return "Server error"
	}
	return "Error"
}
