package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arkiv-project/arkiv/schema"
)

// Metrics are the ingest pipeline's Prometheus metrics. Labels never carry
// personal data: topics, datasets, reasons and partitions only.
type Metrics struct {
	Consumed        *prometheus.CounterVec // by topic
	Archived        *prometheus.CounterVec // rows, by dataset
	DeadLettered    *prometheus.CounterVec // by reason
	ConsentDropped  *prometheus.CounterVec // by what: recording, recording_chunk, chatlog
	DeletedDropped  *prometheus.CounterVec // by what: recording_chunk, chatlog (content deleted before, sent again)
	MaskedInputs    *prometheus.CounterVec // by guard: flag, tenant_list
	NeverStored     *prometheus.CounterVec // by field: body, attachments
	FlushDuration   prometheus.Histogram
	FlushFailures   prometheus.Counter
	BytesWritten    *prometheus.CounterVec // by dataset (media for recordings)
	FilesWritten    *prometheus.CounterVec // by dataset
	Lag             *prometheus.GaugeVec   // by topic, partition
	CheckpointAt    *prometheus.GaugeVec   // by topic, partition
	OpenRecordings  prometheus.Gauge
	RecordingsSaved prometheus.Counter
	// CheckpointPastEnd counts partitions taken over whose checkpoint lies
	// past the partition's end (a different cluster, or a recreated topic),
	// by topic.
	CheckpointPastEnd *prometheus.CounterVec
}

// NewMetrics makes the metrics and registers them with reg (nil: not
// registered). Every label value that is known up front is created at zero.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed:       counterVec("arkiv_ingest_records_consumed_total", "Kafka records read, by topic.", "topic"),
		Archived:       counterVec("arkiv_ingest_rows_archived_total", "Rows committed to the lake, by dataset.", "dataset"),
		DeadLettered:   counterVec("arkiv_ingest_deadlettered_total", "Records sent to the dead-letter topic, by reason.", "reason"),
		ConsentDropped: counterVec("arkiv_ingest_consent_dropped_total", "Content not stored because consent was refused.", "what"),
		DeletedDropped: counterVec("arkiv_ingest_deleted_content_dropped_total",
			"Content not stored because it had been deleted from the archive and was sent again.", "what"),
		MaskedInputs: counterVec("arkiv_ingest_masked_inputs_total", "IVR inputs whose digits were masked, by guard.", "guard"),
		NeverStored:  counterVec("arkiv_ingest_never_stored_total", "Fields received and discarded because they are never stored.", "field"),
		FlushDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "arkiv_ingest_flush_duration_seconds", Help: "Time to flush one batch into the lake.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		FlushFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arkiv_ingest_flush_failures_total", Help: "Flushes that failed and were rolled back."}),
		BytesWritten: counterVec("arkiv_lake_bytes_written_total", "Bytes of files published into the lake by ingest.", "dataset"),
		FilesWritten: counterVec("arkiv_lake_files_written_total", "Files published into the lake by ingest.", "dataset"),
		Lag:          gaugeVec("arkiv_ingest_consumer_lag", "Records between the checkpoint and the partition's end.", "topic", "partition"),
		CheckpointAt: gaugeVec("arkiv_ingest_checkpoint_offset", "Next offset after the last committed flush.", "topic", "partition"),
		OpenRecordings: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "arkiv_ingest_open_recordings", Help: "Recordings whose chunks are spooled but not complete."}),
		RecordingsSaved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "arkiv_ingest_recordings_saved_total", Help: "Recordings assembled and published as media objects."}),
		CheckpointPastEnd: counterVec("arkiv_ingest_checkpoint_past_end_total",
			"Partitions taken over whose lake checkpoint lies past the partition's end: records below it are skipped.", "topic"),
	}
	m.precreate()
	if reg != nil {
		reg.MustRegister(m.collectors()...)
	}
	return m
}

func (m *Metrics) precreate() {
	for _, r := range schema.Reasons() {
		m.DeadLettered.WithLabelValues(string(r))
	}
	for _, d := range []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings, schema.DatasetSurveys} {
		m.Archived.WithLabelValues(d)
		m.FilesWritten.WithLabelValues(d)
		m.BytesWritten.WithLabelValues(d)
	}
	m.BytesWritten.WithLabelValues("media")
	m.FilesWritten.WithLabelValues("media")
	for _, w := range []string{"recording", "recording_chunk", "chatlog"} {
		m.ConsentDropped.WithLabelValues(w)
	}
	m.DeletedDropped.WithLabelValues("recording_chunk")
	m.DeletedDropped.WithLabelValues("chatlog")
	m.MaskedInputs.WithLabelValues("flag")
	m.MaskedInputs.WithLabelValues("tenant_list")
	m.NeverStored.WithLabelValues("body")
	m.NeverStored.WithLabelValues("attachments")
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Consumed, m.Archived, m.DeadLettered, m.ConsentDropped, m.DeletedDropped, m.MaskedInputs,
		m.NeverStored, m.FlushDuration, m.FlushFailures, m.BytesWritten, m.FilesWritten, m.Lag,
		m.CheckpointAt, m.OpenRecordings, m.RecordingsSaved, m.CheckpointPastEnd}
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}
