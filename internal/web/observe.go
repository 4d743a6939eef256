package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vigie_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
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
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// reqInfo is filled by inner layers for the outer observe layer: each
// middleware and the mux work on copies of the request, so what they learn
// (the matched pattern, the signed-in user) travels back through this.
type reqInfo struct {
	route  string
	userID int64
}

type reqInfoKey struct{}

func infoFrom(r *http.Request) *reqInfo {
	i, _ := r.Context().Value(reqInfoKey{}).(*reqInfo)
	return i
}

// noteRoute records the pattern the mux matched; every registered handler
// is wrapped with it.
func noteRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := infoFrom(r); i != nil {
			i.route = r.Pattern
		}
		h.ServeHTTP(w, r)
	})
}

// noteUser records the acting user once the authenticator has run.
func noteUser(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := infoFrom(r); i != nil {
			if u := vigie.UserFrom(r.Context()); u != nil {
				i.userID = u.ID
			}
		}
		h.ServeHTTP(w, r)
	})
}

// observe logs each request once and counts it. Routes are labelled by their
// pattern ("GET /admin/units/{id}"), never by raw path, to bound cardinality.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		info := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		d := time.Since(start)
		route := info.route
		if route == "" {
			route = "unmatched"
		}
		if s.metrics != nil {
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
		}
		level := slog.LevelInfo
		if sw.code >= 500 {
			level = slog.LevelError
		}
		c := vigie.ClientFrom(r.Context())
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.code),
			slog.Int("bytes", sw.bytes), slog.Duration("duration", d), slog.String("ip", c.IP),
			slog.String("request_id", c.RequestID),
		}
		if info.userID != 0 {
			attrs = append(attrs, slog.Int64("user_id", info.userID))
		}
		s.log.LogAttrs(r.Context(), level, "http", attrs...)
	})
}
