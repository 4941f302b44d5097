package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/sinks"
)

func runIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlags("ingest", e)
	brokers := fs.String("brokers", "", "Kafka brokers, host:port[,...] (required)")
	lakeDir := fs.String("lake", "", "lake folder (required)")
	cfgPath := fs.String("config", "", "configuration file (YAML; default: built-in defaults)")
	group := fs.String("group", "arkiv", "Kafka consumer group")
	metricsAddr := fs.String("metrics", "", "serve /metrics, /healthz and /readyz on this address")
	drain := fs.Bool("drain", false, "stop once every partition is archived up to its current end")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file")
	session := fs.Duration("session-timeout", 10*time.Second, "consumer group session timeout: how long a dead replica keeps its partitions")
	compactEvery := fs.Duration("compact-every", 0, "run compaction (merge small files, seal audit logs) on the lake every `period`, e.g. 1h; 0 = off, the default (then schedule arkiv compact)")
	compactMinFiles := fs.Int("compact-min-files", 4, "with --compact-every: compact a partition once it has at least this many files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *brokers == "" || *lakeDir == "" {
		return usageError("--brokers and --lake are required")
	}
	if *compactEvery < 0 || (*compactEvery > 0 && *compactEvery < time.Second) {
		return usageError("--compact-every must be 0 (off) or at least 1s")
	}
	if *compactMinFiles < 2 {
		return usageError("--compact-min-files must be at least 2")
	}
	cfg, err := config.Load(*cfgPath)
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
	lake, err := sinks.OpenDir(*lakeDir, e.log)
	if err != nil {
		return err
	}
	defer lake.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ing, err := pipeline.NewIngester(pipeline.Options{Brokers: splitList(*brokers), Group: *group, Lake: lake,
		Config: cfg, Metrics: pipeline.NewMetrics(reg), Logger: e.log, Drain: *drain, SessionTimeout: *session,
		CompactEvery: *compactEvery, Compact: sinks.CompactOptions{MinFiles: *compactMinFiles},
		CompactMetrics: pipeline.NewCompactMetrics(reg)})
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		stop, err := serveOps(*metricsAddr, reg, ing.Ready(), e)
		if err != nil {
			return err
		}
		defer stop()
	}
	e.log.Info("ingest starting", "brokers", *brokers, "lake", *lakeDir, "group", *group, "drain", *drain,
		"compact_every", compactEvery.String())
	if err := ing.Run(ctx); err != nil {
		return err
	}
	e.log.Info("ingest stopped")
	return nil
}

// serveOps serves the operational endpoints of a long-running command.
func serveOps(addr string, reg *prometheus.Registry, ready <-chan struct{}, e *env) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-ready:
			_, _ = w.Write([]byte("ready\n"))
		default:
			http.Error(w, "not ready: joining the consumer group", http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := listen(addr)
	if err != nil {
		return nil, err
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("metrics server", "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
