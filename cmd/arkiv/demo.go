package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/broker"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/sinks"
)

// demoConfig masks the card-number module in every tenant, as the
// synthetic traffic expects.
const demoConfig = `
tenants:
  defaults:
    retention: {general: 180d, recordings: 14d, chatlogs: 30d}
    masked_ivr_modules: [enter_card]
    phone_region: SE
ingest:
  flush_interval: 2s
`

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags("demo", e)
	lakeDir := fs.String("lake", "arkiv-demo-lake", "lake folder")
	count := fs.Int("count", 5000, "inquiries of history to generate before live traffic")
	tenants := fs.Int("tenants", 3, "number of tenants")
	live := fs.String("rate", "20/s", "live traffic after the history, messages per second (0 for none)")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	listenAddr := fs.String("listen", "127.0.0.1:8080", "serve the web page and API here (a free port if taken)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	perSecond, err := parseRate(*live)
	if err != nil {
		return usageError("--rate: %v", err)
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	cfg, err := config.Decode(stringsReader(demoConfig))
	if err != nil {
		return err
	}
	b, err := broker.Start(broker.Options{Listen: "127.0.0.1:0", Partitions: 6, Topics: cfg.Topics.All()})
	if err != nil {
		return err
	}
	defer b.Close()
	lake, err := sinks.OpenDir(*lakeDir, e.log)
	if err != nil {
		return err
	}
	defer lake.Close()
	ing, err := pipeline.NewIngester(pipeline.Options{Brokers: []string{b.Addr()}, Group: "arkiv-demo", Lake: lake,
		Config: cfg, Logger: e.log, Metrics: pipeline.NewMetrics(prometheus.NewRegistry())})
	if err != nil {
		return err
	}
	ingestDone := make(chan error, 1)
	go func() { ingestDone <- ing.Run(ctx) }()
	printDemoIntro(e, b.Addr(), *lakeDir)
	stopServe, err := startDemoServe(e, *lakeDir, *listenAddr)
	if err != nil {
		return err
	}
	defer stopServe()
	if err := demoTraffic(ctx, e, b.Addr(), *tenants, *count, perSecond); err != nil && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	<-ctx.Done()
	return <-ingestDone
}

// demoTraffic sends the history (the last 30 days) at full speed, then live
// traffic at perSecond until ctx ends.
func demoTraffic(ctx context.Context, e *env, addr string, tenants, count int, perSecond float64) error {
	p, err := produce.New(produce.Options{Brokers: []string{addr}})
	if err != nil {
		return err
	}
	defer p.Close()
	n, err := sendLoad(ctx, p, newDemoGenerator(tenants, count, 1, 30), 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sent %d messages of history (%d inquiries over 30 days); ingest flushes every 2s\n", n, count)
	if perSecond <= 0 {
		return nil
	}
	fmt.Fprintf(e.stdout, "live traffic: %.0f messages/s until Ctrl-C\n", perSecond)
	for seed := int64(2); ctx.Err() == nil; seed++ {
		if _, err := sendLoad(ctx, p, newDemoGenerator(tenants, 1000, seed, 0), perSecond); err != nil {
			return err
		}
	}
	return nil
}

func printDemoIntro(e *env, addr, lakeDir string) {
	abs, _ := filepath.Abs(lakeDir)
	fmt.Fprintf(e.stdout, `arkiv demo
  embedded broker: %s (not for production)
  lake:            %s
Query it with DuckDB while it runs (or after), for example:
  duckdb -c "SELECT tenant, date, media_type, count(*) FROM read_parquet('%s/inquiries/*/*/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL"
  python3 -c "import duckdb; print(duckdb.sql(\"SELECT count(*) FROM read_parquet('%s/inquiries/*/*/*.parquet', hive_partitioning=true)\"))"
Press Ctrl-C to stop (ingest flushes and commits before it exits).
`, addr, abs, abs, abs)
}
