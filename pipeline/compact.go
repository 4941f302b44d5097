package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arkiv-project/arkiv/sinks"
)

// CompactMetrics are the metrics of the compaction that ingest runs
// periodically (Options.CompactEvery).
type CompactMetrics struct {
	Runs     prometheus.Counter
	Failures prometheus.Counter
	// FilesIn and FilesOut count files replaced and written, by kind:
	// "data" (Parquet datasets) or "audit" (logs sealed into Parquet).
	FilesIn     *prometheus.CounterVec
	FilesOut    *prometheus.CounterVec
	Skipped     prometheus.Counter // partitions that changed under compaction
	Duration    prometheus.Histogram
	LastSuccess prometheus.Gauge // unix time of the last run that succeeded
}

// NewCompactMetrics makes the compaction metrics and registers them with
// reg (nil: not registered).
func NewCompactMetrics(reg prometheus.Registerer) *CompactMetrics {
	m := &CompactMetrics{
		Runs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arkiv_compaction_runs_total", Help: "Periodic compaction runs finished (failed ones included)."}),
		Failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arkiv_compaction_failures_total", Help: "Periodic compaction runs that failed."}),
		FilesIn:  counterVec("arkiv_compaction_files_in_total", "Files replaced by compaction, by kind (data, audit).", "kind"),
		FilesOut: counterVec("arkiv_compaction_files_out_total", "Files written by compaction, by kind (data, audit).", "kind"),
		Skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arkiv_compaction_partitions_skipped_total", Help: "Partitions that changed under compaction, left for the next run."}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "arkiv_compaction_duration_seconds", Help: "Time of one periodic compaction run.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arkiv_compaction_last_success_timestamp_seconds", Help: "When the last compaction run succeeded (unix time)."}),
	}
	for _, kind := range []string{"data", "audit"} {
		m.FilesIn.WithLabelValues(kind)
		m.FilesOut.WithLabelValues(kind)
	}
	if reg != nil {
		reg.MustRegister(m.Runs, m.Failures, m.FilesIn, m.FilesOut, m.Skipped, m.Duration, m.LastSuccess)
	}
	return m
}

// compactor runs Lake.Compact every period in the background of ingest.
// Compaction and flushes do not wait for each other: compaction leaves the
// files of uncommitted flushes alone and serialises with other rewriters on
// the tenant locks, which ingest never takes.
type compactor struct {
	lake    *sinks.Lake
	every   time.Duration
	opts    sinks.CompactOptions
	metrics *CompactMetrics
	log     *slog.Logger
}

// compactorStopWait bounds how long stopping ingest waits for a compaction
// run to reach the end of its partition: a rewrite may be waiting for a
// tenant lock that a long anonymisation holds. Leaving it then is a crash
// of that rewrite, which the next compaction recovers.
const compactorStopWait = 30 * time.Second

// startCompactor runs a compactor until ctx is done; stop cancels it and
// waits (at most compactorStopWait) for the run in progress to end between
// two partitions.
func startCompactor(ctx context.Context, c *compactor) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(ctx)
	}()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(compactorStopWait):
			c.log.Warn("compaction did not stop in time (waiting for a tenant lock?); its rewrite is left to recovery",
				"waited", compactorStopWait.String())
		}
	}
}

// run finishes the rewrites a dead process left, then compacts every
// period until ctx is done.
func (c *compactor) run(ctx context.Context) {
	if err := c.lake.RecoverRewrites(); err != nil {
		c.log.Error("compaction: recovering unfinished rewrites failed", "error", err)
	}
	c.log.Info("periodic compaction on", "every", c.every.String())
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.once(ctx)
		}
	}
}

// once runs one compaction and reports it in one log line and the metrics.
func (c *compactor) once(ctx context.Context) {
	started := time.Now()
	rep, err := c.lake.CompactContext(ctx, c.opts)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		c.log.Info("compaction interrupted by shutdown", "partitions", rep.Partitions+rep.AuditPartitions)
		return
	}
	c.metrics.Runs.Inc()
	c.metrics.Duration.Observe(time.Since(started).Seconds())
	c.metrics.FilesIn.WithLabelValues("data").Add(float64(rep.FilesIn))
	c.metrics.FilesOut.WithLabelValues("data").Add(float64(rep.FilesOut))
	c.metrics.FilesIn.WithLabelValues("audit").Add(float64(rep.AuditFilesIn))
	c.metrics.FilesOut.WithLabelValues("audit").Add(float64(rep.AuditFilesOut))
	c.metrics.Skipped.Add(float64(rep.Skipped))
	attrs := []any{"partitions", rep.Partitions, "files_in", rep.FilesIn, "files_out", rep.FilesOut,
		"rows_in", rep.RowsIn, "rows_out", rep.RowsOut, "rows_anonymised", rep.Anonymised,
		"audit_partitions", rep.AuditPartitions, "audit_files_in", rep.AuditFilesIn,
		"audit_files_out", rep.AuditFilesOut, "skipped", rep.Skipped,
		"duration_ms", time.Since(started).Milliseconds()}
	if err != nil {
		c.metrics.Failures.Inc()
		c.log.Error("compaction failed", append(attrs, "error", err)...)
		return
	}
	c.metrics.LastSuccess.SetToCurrentTime()
	c.log.Info("compaction done", attrs...)
}
