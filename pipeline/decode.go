package pipeline

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// decoder turns records into items. It is safe for concurrent use: one
// decoder serves every partition worker.
type decoder struct {
	cfg     *config.Config
	metrics *Metrics
	kinds   map[string]string // topic -> dataset
	erasure *sinks.Ledger     // nil: no erasure ledger (late arrivals not anonymised)
}

func newDecoder(cfg *config.Config, m *Metrics, erasure *sinks.Ledger) *decoder {
	t := cfg.Topics
	return &decoder{cfg: cfg, metrics: m, erasure: erasure, kinds: map[string]string{
		t.Inquiries: schema.DatasetInquiries, t.Chatlogs: schema.DatasetChatlogs,
		t.Recordings: schema.DatasetRecordings, t.Surveys: schema.DatasetSurveys,
	}}
}

// decode makes an item of r. (Its caller counts r as consumed.)
func (d *decoder) decode(r Record) item {
	base := item{tp: r.TP, offset: r.Offset, size: len(r.Value) + len(r.Key),
		received: time.Now().UTC().Truncate(time.Microsecond), at: r.Time}
	switch kind := d.kinds[r.TP.Topic]; kind {
	case schema.DatasetInquiries:
		return d.inquiry(base, r)
	case schema.DatasetChatlogs:
		return d.chatlog(base, r)
	case schema.DatasetSurveys:
		return d.survey(base, r)
	case schema.DatasetRecordings:
		return d.chunk(base, r)
	default:
		return d.dead(base, r, kind, &schema.InvalidError{Reason: schema.ReasonInvalidValue, Detail: "record from a topic arkiv does not read"})
	}
}

func (d *decoder) inquiry(it item, r Record) item {
	in, err := schema.DecodeInquiry(r.Value)
	if err != nil {
		return d.dead(it, r, schema.DatasetInquiries, err)
	}
	body, attachments := in.DropNeverStored()
	if body {
		d.metrics.NeverStored.WithLabelValues("body").Inc()
	}
	if attachments {
		d.metrics.NeverStored.WithLabelValues("attachments").Inc()
	}
	it.kind, it.tenant, it.day = itemInquiry, in.TenantID, schema.Day(in.StartedAt)
	it.inquiry = inquiryRow(in, d.cfg.Policy(in.TenantID), d.metrics)
	it.inquiry.Meta = rowMeta(it, r)
	it.lateErased, it.err = d.eraseInquiry(&it.inquiry, in.TenantID)
	return it
}

func (d *decoder) chatlog(it item, r Record) item {
	c, err := schema.DecodeChatLog(r.Value)
	if (err == nil && !*c.ChatStoreConsent) || (err != nil && refusesChatStorage(r.Value)) {
		d.metrics.ConsentDropped.WithLabelValues("chatlog").Inc()
		return it // refused: dropped unseen, whatever else is wrong with it
	}
	if err != nil {
		return d.dead(it, r, schema.DatasetChatlogs, err)
	}
	if d.contentDeleted(c.TenantID, sinks.ErasureChatlog, c.InquiryID) {
		d.metrics.DeletedDropped.WithLabelValues("chatlog").Inc()
		return it // deleted from the archive before: not stored again
	}
	it.kind, it.tenant, it.day = itemChatlog, c.TenantID, schema.Day(c.InquiryStartedAt)
	it.chatlog = chatlogRow(c)
	it.chatlog.Meta = rowMeta(it, r)
	d.eraseChatlog(&it.chatlog, c.TenantID)
	return it
}

// refusesChatStorage reports whether a chat log value says plainly that the
// chatter refused storage (chat_store_consent: false).
func refusesChatStorage(value []byte) bool {
	var probe struct {
		Consent *bool `json:"chat_store_consent"`
	}
	if json.Unmarshal(value, &probe) != nil {
		return false
	}
	return probe.Consent != nil && !*probe.Consent
}

func (d *decoder) survey(it item, r Record) item {
	s, err := schema.DecodeSurvey(r.Value)
	if err != nil {
		return d.dead(it, r, schema.DatasetSurveys, err)
	}
	it.kind, it.tenant, it.day = itemSurvey, s.TenantID, schema.Day(s.InquiryStartedAt)
	it.survey = surveyRow(s)
	it.survey.Meta = rowMeta(it, r)
	d.eraseSurvey(&it.survey, s.TenantID)
	return it
}

func (d *decoder) chunk(it item, r Record) item {
	c, err := schema.DecodeRecordingChunk(r.Headers, r.Value)
	if err != nil {
		return d.deadChunk(it, r, err)
	}
	it.kind, it.tenant, it.chunk = itemChunk, c.TenantID, c
	if !c.DenyRecording && d.contentDeleted(c.TenantID, sinks.ErasureRecording, c.InquiryID) {
		// Deleted from the archive before: discarded like a refused
		// recording (the stream's spooled chunks go too).
		c.DenyRecording, it.deleted = true, true
	}
	if !c.DenyRecording {
		it.day = schema.Day(c.InquiryStartedAt)
	}
	return it
}

// dead makes a dead letter of a JSON record, redacted as privacy.go says.
func (d *decoder) dead(it item, r Record, dataset string, err error) item {
	reason, detail := describe(err)
	value, withheld := redactJSON(dataset, r.Value, d.cfg.Policy)
	it.kind = itemDead
	it.dead = &DeadLetter{Key: r.Key, Value: value, Reason: reason, Detail: detail,
		Source: r.TP, Offset: r.Offset, Withheld: withheld}
	return it
}

// deadChunk makes a dead letter of a recording chunk: a reference, never the
// audio bytes.
func (d *decoder) deadChunk(it item, r Record, err error) item {
	reason, detail := describe(err)
	ref, _ := json.Marshal(chunkReference{Topic: r.TP.Topic, Partition: r.TP.Partition,
		Offset: r.Offset, Bytes: len(r.Value)})
	it.kind = itemDead
	it.dead = &DeadLetter{Key: r.Key, Value: ref, Reason: reason, Detail: detail, Source: r.TP, Offset: r.Offset}
	return it
}

// chunkReference stands in for recording bytes on the dead-letter topic.
type chunkReference struct {
	Topic       string `json:"topic"`
	Partition   int    `json:"partition"`
	Offset      int64  `json:"offset,omitempty"`
	Bytes       int    `json:"bytes"`
	TenantID    string `json:"tenant_id,omitempty"`
	InquiryID   string `json:"inquiry_id,omitempty"`
	RecordingID string `json:"recording_id,omitempty"`
	Chunks      []int  `json:"chunks_received,omitempty"`
	FirstOffset int64  `json:"first_offset,omitempty"`
	LastOffset  int64  `json:"last_offset,omitempty"`
}

func describe(err error) (schema.Reason, string) {
	var inv *schema.InvalidError
	if errors.As(err, &inv) {
		if inv.Field != "" {
			return inv.Reason, inv.Field + ": " + inv.Detail
		}
		return inv.Reason, inv.Detail
	}
	return schema.ReasonMalformed, "record could not be decoded"
}

func streamReference(tp sinks.TopicPartition, s *sinks.SpoolStream) []byte {
	ref, _ := json.Marshal(chunkReference{Topic: tp.Topic, Partition: tp.Partition, Bytes: int(s.Bytes),
		TenantID: s.TenantID, InquiryID: s.InquiryID, RecordingID: s.RecordingID, Chunks: s.Chunks,
		FirstOffset: s.FirstOffset, LastOffset: s.LastOffset})
	return ref
}

func rowMeta(it item, r Record) schema.Meta {
	return schema.Meta{IngestedAt: it.received, KafkaPartition: int32(r.TP.Partition), KafkaOffset: r.Offset}
}

func partitionLabel(p int) string { return strconv.Itoa(p) }
