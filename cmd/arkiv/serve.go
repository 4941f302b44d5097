package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/query/server"
	"github.com/arkiv-project/arkiv/sinks"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags("serve", e)
	lf := addLakeFlagsConfig(fs, "configuration file with the API tokens (required)")
	addr := fs.String("listen", "127.0.0.1:8080", "serve the API on this address")
	metricsAddr := fs.String("metrics", "", "serve /metrics, /healthz and /readyz on this address")
	expireAt := fs.String("expire-at", "", "run retention expiry every day at this UTC time, HH:MM")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file, until shutdown")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *lf.lake == "" || *lf.config == "" {
		return usageError("--lake and --config are required")
	}
	var at time.Duration
	if *expireAt != "" {
		t, err := time.Parse("15:04", *expireAt)
		if err != nil {
			return usageError("--expire-at %q: want a UTC time of day like 02:30", *expireAt)
		}
		at = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	lakeDir, cfg, err := lf.load()
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if len(cfg.Tokens) == 0 {
		e.log.Warn("the configuration has no tokens: every API request will be refused; make one with `arkiv token`")
	}
	eng, err := query.Open(lakeDir, cfg, e.log)
	if err != nil {
		return err
	}
	defer eng.Close()
	defer warmPruning(ctx, eng, e.log)()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	api, err := server.New(server.Options{Engine: eng, Config: cfg, Logger: e.log, Metrics: reg})
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	if *metricsAddr != "" {
		stop, err := serveOps(*metricsAddr, reg, ready, e)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := listen(*addr)
	if err != nil {
		return err
	}
	srv := server.NewHTTPServer(*addr, api, e.log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if *expireAt != "" {
		m := newExpiryMetrics(reg)
		go nightlyExpiry(ctx, eng.Dir(), cfg, at, e.log, m)
	}
	close(ready)
	e.log.Info("serving", "address", ln.Addr().String(), "lake", eng.Dir(), "tokens", len(cfg.Tokens),
		"expire_at", *expireAt)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let requests in flight (an
	// export, a delete) finish for up to 30 s.
	e.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	e.log.Info("stopped")
	return nil
}

// warmPruning fills the engine's pruning cache in the background, so that
// the first search of a tenant is as fast as later ones; the function it
// returns stops it and waits (before the engine closes).
func warmPruning(ctx context.Context, eng *query.Engine, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st, err := eng.WarmPruning(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			log.Warn("warming the search cache stopped; searches read file metadata as they need it",
				"error", err, "files", st.Files)
		default:
			log.Info("search cache warmed", "tenants", st.Tenants, "files", st.Files,
				"seconds", st.Took.Round(time.Millisecond).Seconds())
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// nightlyExpiry runs retention expiry every day at the UTC time of day at
// until ctx ends. A failed run is logged and retried the next night.
func nightlyExpiry(ctx context.Context, dir string, cfg *config.Config, at time.Duration, log *slog.Logger,
	m *expiryMetrics) {
	log = log.With("component", "expiry")
	for {
		next := nextRun(time.Now(), at)
		log.Info("next expiry", "at", next.Format(time.RFC3339))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		err := expireOnce(dir, cfg, time.Now(), log)
		m.observe(err, time.Now())
		if err != nil {
			log.Error("expiry failed; it runs again tomorrow, or run `arkiv expire`", "error", err)
		}
	}
}

// expiryMetrics are serve's nightly expiry runs, for the ArkivExpiryNotRun
// alert (deployments/prometheus/alerts.yml).
type expiryMetrics struct {
	runs        *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

func newExpiryMetrics(reg prometheus.Registerer) *expiryMetrics {
	m := &expiryMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arkiv_expire_runs_total",
			Help: "Nightly retention expiry runs of arkiv serve, by result (ok, failed)."}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "arkiv_expire_last_success_timestamp_seconds",
			Help: "When retention expiry last succeeded (unix time; 0 until it has)."}),
	}
	m.runs.WithLabelValues("ok")
	m.runs.WithLabelValues("failed")
	reg.MustRegister(m.runs, m.lastSuccess)
	return m
}

func (m *expiryMetrics) observe(err error, at time.Time) {
	if err != nil {
		m.runs.WithLabelValues("failed").Inc()
		return
	}
	m.runs.WithLabelValues("ok").Inc()
	m.lastSuccess.Set(float64(at.Unix()))
}

// nextRun is the first instant after now at the UTC time of day at.
func nextRun(now time.Time, at time.Duration) time.Time {
	day := now.UTC().Truncate(24 * time.Hour)
	next := day.Add(at)
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	return next
}

func expireOnce(dir string, cfg *config.Config, now time.Time, log *slog.Logger) error {
	if fi, err := os.Stat(filepath.Join(dir, sinks.MetaDir)); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a lake (no %s folder)", dir, sinks.MetaDir)
	}
	lake, err := sinks.OpenDir(dir, log)
	if err != nil {
		return err
	}
	plan, err := lake.Expire(now, cfg.Policy, false)
	err = errors.Join(err, lake.Close())
	if plan != nil {
		dropped := 0
		for _, te := range plan.Tenants {
			for _, ce := range te.Classes {
				for _, p := range ce.Partitions {
					if p.Dropped {
						dropped++
					}
				}
			}
		}
		log.Info("expiry done: partitions past their tenant's retention dropped", "partitions", dropped)
	}
	return err
}
