package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Route labels of requests that match no route.
const (
	routeUnmatched = "unmatched" // no route: 404 or 405
	routeRejected  = "rejected"  // refused before routing (a malformed path)
)

// contentKinds names the content each content route serves, for the bytes
// and refusals counted by kind.
var contentKinds = map[string]string{ // read-only
	"GET /api/v1/inquiries/{id}/recording": "recording",
	"GET /api/v1/inquiries/{id}/chatlog":   "chatlog",
	"POST /api/v1/exports/xlsx":            "xlsx",
	"POST /api/v1/exports/recordings":      "zip",
}

// metrics are the server's Prometheus metrics. Labels hold route patterns
// (as registered: "GET /api/v1/inquiries/{id}"), status classes, content
// kinds and results: never a path, an id, a query or anything a client
// typed.
type metrics struct {
	requests      *prometheus.CounterVec   // by route, class
	duration      *prometheus.HistogramVec // by route
	contentBytes  *prometheus.CounterVec   // by kind
	auditFailures prometheus.Counter
	refused       *prometheus.CounterVec // by kind
	signIns       *prometheus.CounterVec // by result
	sessions      prometheus.GaugeFunc
}

func newMetrics(sessions *sessionStore) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arkiv_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status class (2xx, 3xx, 4xx, 5xx)."},
			[]string{"route", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "arkiv_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its response (streams included), by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .2, .3, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"route"}),
		contentBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arkiv_http_content_bytes_total",
			Help: "Bytes of content served in successful responses, by kind (recording, chatlog, xlsx, zip)."},
			[]string{"kind"}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "arkiv_http_audit_write_failures_total",
			Help: "Requests stopped because their audit entry could not be written (content, delete, anonymise)."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arkiv_http_content_refused_total",
			Help: "Content requests refused or cut short because the audit log could not be written, by kind."},
			[]string{"kind"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arkiv_http_sign_ins_total",
			Help: "Sign-ins to the web page, by result (ok, refused)."}, []string{"result"}),
		sessions: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "arkiv_http_sessions_signed_in",
			Help: "Web page sessions signed in and not yet expired."}, func() float64 { return float64(sessions.live()) }),
	}
	for _, kind := range contentKinds {
		m.contentBytes.WithLabelValues(kind)
		m.refused.WithLabelValues(kind)
	}
	m.signIns.WithLabelValues("ok")
	m.signIns.WithLabelValues("refused")
	return m
}

// register adds the metrics to reg (nil: kept unregistered).
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.contentBytes, m.auditFailures, m.refused,
		m.signIns, m.sessions} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// observe counts a finished request.
func (m *metrics) observe(r *http.Request, rec *recorder, info *requestInfo, elapsed time.Duration) {
	route := r.Pattern
	switch route {
	case "":
		route = routeRejected
	case "/":
		route = routeUnmatched
	}
	m.requests.WithLabelValues(route, strconv.Itoa(rec.status/100)+"xx").Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
	kind := contentKinds[route]
	if kind != "" && rec.status < 300 {
		m.contentBytes.WithLabelValues(kind).Add(float64(rec.bytes))
	}
	if info.code == CodeAuditUnavailable {
		m.auditFailures.Inc()
		if kind != "" {
			m.refused.WithLabelValues(kind).Inc()
		}
	}
	if route == patternSignIn {
		result := "refused"
		if rec.status == http.StatusOK {
			result = "ok"
		}
		m.signIns.WithLabelValues(result).Inc()
	}
}
