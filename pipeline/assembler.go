package pipeline

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// assembler puts recordings together from their chunks. Chunks are spooled
// to the lake as they arrive, so memory holds one chunk at a time however
// large the recording; the open streams are part of the recordings
// partition's checkpoint. Chunks may arrive out of order or twice; a stream
// that stops arriving is dead-lettered after the chunk timeout.
type assembler struct {
	lake     *sinks.Lake
	maxBytes int64
	open     map[sinks.TopicPartition]map[string]*sinks.SpoolStream
	// dirty are the open streams with chunks spooled since the last sync.
	dirty map[sinks.TopicPartition]map[string]bool
}

// finished is what happened to a stream that left the assembler.
type finished struct {
	tp     sinks.TopicPartition
	stream sinks.SpoolStream
	row    *schema.RecordingRow // nil unless complete and valid
	dead   *DeadLetter
	denied bool
}

func newAssembler(lake *sinks.Lake, maxBytes int64) *assembler {
	return &assembler{lake: lake, maxBytes: maxBytes, open: map[sinks.TopicPartition]map[string]*sinks.SpoolStream{},
		dirty: map[sinks.TopicPartition]map[string]bool{}}
}

// restore loads the open streams of a checkpoint.
func (a *assembler) restore(cp sinks.Checkpoint) {
	m := map[string]*sinks.SpoolStream{}
	for i := range cp.Open {
		s := cp.Open[i]
		m[streamKey(s.TenantID, s.InquiryID, s.RecordingID)] = &s
	}
	a.open[cp.TopicPartition] = m
}

// streamKey names a recording in the open map. Its spool folder (the
// stream's ID) is the key and the offset of its first chunk: a recording
// sent again after it completed (a producer retrying after a broker
// restart) spools into a folder of its own, which the flush that publishes
// the first copy does not remove under it.
func streamKey(tenant, inquiryID, recordingID string) string {
	return sinks.SpoolStreamID(tenant, inquiryID, recordingID)
}

// forget drops a partition that is no longer owned.
func (a *assembler) forget(tp sinks.TopicPartition) { delete(a.open, tp) }

// snapshot returns the open streams of a partition for its checkpoint.
func (a *assembler) snapshot(tp sinks.TopicPartition) []sinks.SpoolStream {
	m := a.open[tp]
	out := make([]sinks.SpoolStream, 0, len(m))
	for _, s := range m {
		c := *s
		c.Chunks = slices.Clone(s.Chunks)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (a *assembler) openCount() int {
	n := 0
	for _, m := range a.open {
		n += len(m)
	}
	return n
}

// add takes one chunk. It returns a finished stream when this chunk
// completed, refused or broke one.
func (a *assembler) add(tp sinks.TopicPartition, offset int64, c *schema.RecordingChunk, now time.Time) (*finished, error) {
	m := a.open[tp]
	if m == nil {
		m = map[string]*sinks.SpoolStream{}
		a.open[tp] = m
	}
	id := streamKey(c.TenantID, c.InquiryID, c.RecordingID)
	s, ok := m[id]
	if c.DenyRecording {
		if ok {
			delete(m, id)
		}
		return &finished{tp: tp, stream: streamOr(s, id), denied: true}, nil
	}
	if !ok {
		s = &sinks.SpoolStream{ID: id + "-" + strconv.FormatInt(offset, 10), TenantID: c.TenantID,
			InquiryID: c.InquiryID, RecordingID: c.RecordingID,
			InquiryStartedAt: c.InquiryStartedAt, LastChunk: -1, FirstOffset: offset}
		m[id] = s
	}
	if slices.Contains(s.Chunks, c.Chunk) {
		return nil, nil // a duplicate chunk: the first copy stands
	}
	if f := a.reject(tp, s, c); f != nil {
		delete(m, id)
		return f, nil
	}
	if err := a.lake.SpoolChunk(tp, s.ID, c.Chunk, c.Data); err != nil {
		return nil, fmt.Errorf("spool recording chunk: %w", err)
	}
	a.markDirty(tp, id)
	s.Chunks = insertSorted(s.Chunks, c.Chunk)
	s.Bytes += int64(len(c.Data))
	s.LastOffset, s.UpdatedAt = offset, now
	if c.LastChunk {
		s.LastChunk, s.SHA256 = c.Chunk, c.SHA256
	}
	if s.LastChunk < 0 || len(s.Chunks) != s.LastChunk+1 {
		return nil, nil
	}
	delete(m, id)
	return a.complete(tp, s)
}

func streamOr(s *sinks.SpoolStream, id string) sinks.SpoolStream {
	if s == nil {
		return sinks.SpoolStream{ID: id}
	}
	return *s
}

// reject checks a new chunk against its stream.
func (a *assembler) reject(tp sinks.TopicPartition, s *sinks.SpoolStream, c *schema.RecordingChunk) *finished {
	switch {
	case s.Bytes+int64(len(c.Data)) > a.maxBytes:
		return deadStream(tp, s, schema.ReasonTooLarge, "recording is larger than ingest.max_recording_bytes")
	case s.LastChunk >= 0 && c.Chunk > s.LastChunk, c.LastChunk && len(s.Chunks) > 0 && s.Chunks[len(s.Chunks)-1] > c.Chunk:
		return deadStream(tp, s, schema.ReasonInvalidValue, "chunk numbers run past the last chunk")
	case !s.InquiryStartedAt.Equal(c.InquiryStartedAt):
		return deadStream(tp, s, schema.ReasonInvalidValue, "chunks disagree on inquiry-started-at")
	}
	return nil
}

// complete checks the assembled bytes against the sha256 header and makes
// the metadata row; the media object is published by the flush.
func (a *assembler) complete(tp sinks.TopicPartition, s *sinks.SpoolStream) (*finished, error) {
	sum, size, err := a.lake.CopySpooled(io.Discard, tp, *s)
	if err != nil {
		return nil, fmt.Errorf("read spooled recording: %w", err)
	}
	if s.SHA256 != "" && s.SHA256 != sum {
		return deadStream(tp, s, schema.ReasonChecksumMismatch, "assembled recording does not match its sha256 header"), nil
	}
	day := schema.Day(s.InquiryStartedAt)
	row := &schema.RecordingRow{
		InquiryID: s.InquiryID, RecordingID: s.RecordingID, InquiryStartedAt: s.InquiryStartedAt,
		ContentType: schema.ContentTypeMP3, SizeBytes: size, SHA256: sum, Chunks: int32(len(s.Chunks)),
		Object: sinks.MediaObject(s.TenantID, day, s.InquiryID, s.RecordingID),
	}
	row.Meta = schema.Meta{IngestedAt: time.Now().UTC().Truncate(time.Microsecond),
		KafkaPartition: int32(tp.Partition), KafkaOffset: s.LastOffset}
	return &finished{tp: tp, stream: *s, row: row}, nil
}

func deadStream(tp sinks.TopicPartition, s *sinks.SpoolStream, reason schema.Reason, detail string) *finished {
	return &finished{tp: tp, stream: *s, dead: &DeadLetter{
		Key: []byte(s.TenantID + "/" + s.InquiryID), Value: streamReference(tp, s),
		Reason: reason, Detail: detail, Source: tp, Offset: s.LastOffset,
	}}
}

// expire dead-letters the streams of the given partitions whose last chunk
// is older than timeout at now. Stream times are Kafka message times, so a
// replay or a backfill ages streams by the data, not by the wall clock.
func (a *assembler) expire(tps []sinks.TopicPartition, now time.Time, timeout time.Duration) []*finished {
	var out []*finished
	for _, tp := range tps {
		m := a.open[tp]
		for id, s := range m {
			if now.Sub(s.UpdatedAt) < timeout {
				continue
			}
			delete(m, id)
			out = append(out, deadStream(tp, s, schema.ReasonIncomplete, "recording chunks stopped arriving before the last chunk"))
		}
	}
	return out
}

func insertSorted(xs []int, v int) []int {
	i, _ := slices.BinarySearch(xs, v)
	return slices.Insert(xs, i, v)
}

func (a *assembler) markDirty(tp sinks.TopicPartition, id string) {
	if a.dirty[tp] == nil {
		a.dirty[tp] = map[string]bool{}
	}
	a.dirty[tp][id] = true
}

// syncOpen makes the spooled chunks of every stream that stays open durable,
// before a checkpoint lists them. Finished streams need no sync: their bytes
// become a media object that is synced itself.
func (a *assembler) syncOpen() error {
	for tp, ids := range a.dirty {
		for id := range ids {
			if s, ok := a.open[tp][id]; ok {
				if err := a.lake.SyncSpoolStream(tp, *s); err != nil {
					return err
				}
			}
		}
	}
	clear(a.dirty)
	return nil
}
