package sinks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"
)

// TopicPartition names one Kafka topic-partition without depending on a
// Kafka client.
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
}

func (tp TopicPartition) String() string { return tp.Topic + "/" + strconv.Itoa(tp.Partition) }

// topicPattern is what Kafka allows in a topic name; it keeps checkpoint
// paths inside the lake.
var topicPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func (tp TopicPartition) check() error {
	if !topicPattern.MatchString(tp.Topic) || tp.Topic == "." || tp.Topic == ".." || tp.Partition < 0 {
		return fmt.Errorf("topic-partition %q/%d: %w", tp.Topic, tp.Partition, ErrBadPath)
	}
	return nil
}

// Checkpoint is the commit point of one topic-partition: every record before
// Next is in the lake (or was deliberately not stored), nothing at or after
// Next is. Open lists the recordings whose chunks are spooled but not yet
// complete; their spool files are part of the checkpointed state.
type Checkpoint struct {
	TopicPartition
	Next  int64         `json:"next_offset"`
	Owner string        `json:"owner,omitempty"`
	Open  []SpoolStream `json:"open_recordings,omitempty"`
	Time  time.Time     `json:"written_at"`
}

// SpoolStream is a recording being assembled from chunks.
type SpoolStream struct {
	ID               string    `json:"id"` // spool folder name, no personal data
	TenantID         string    `json:"tenant_id"`
	InquiryID        string    `json:"inquiry_id"`
	RecordingID      string    `json:"recording_id"`
	InquiryStartedAt time.Time `json:"inquiry_started_at"`
	Chunks           []int     `json:"chunks"`     // chunk numbers received, ascending
	LastChunk        int       `json:"last_chunk"` // -1 until the last chunk has arrived
	SHA256           string    `json:"sha256,omitempty"`
	Bytes            int64     `json:"bytes"`
	FirstOffset      int64     `json:"first_offset"`
	LastOffset       int64     `json:"last_offset"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// CheckpointPath is where a topic-partition's checkpoint lives.
func CheckpointPath(tp TopicPartition) string {
	return CheckpointDir + "/" + tp.Topic + "/" + strconv.Itoa(tp.Partition) + ".json"
}

// ReadCheckpoint returns a topic-partition's checkpoint. A topic-partition
// never checkpointed starts at offset 0.
func (l *Lake) ReadCheckpoint(tp TopicPartition) (Checkpoint, error) {
	if err := tp.check(); err != nil {
		return Checkpoint{}, err
	}
	data, err := l.ReadAll(CheckpointPath(tp))
	if IsNotExist(err) {
		return Checkpoint{TopicPartition: tp}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("read checkpoint %s: %w", tp, err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint %s is corrupt (%v): restore it from backup or remove it to re-ingest the partition from Kafka", tp, err)
	}
	if cp.TopicPartition != tp {
		return Checkpoint{}, fmt.Errorf("checkpoint %s names %s: %w", tp, cp.TopicPartition, ErrCorrupt)
	}
	return cp, nil
}

// WriteCheckpoint durably replaces a topic-partition's checkpoint. When it
// returns nil the new checkpoint survives a crash.
func (l *Lake) WriteCheckpoint(cp Checkpoint) error {
	if err := cp.check(); err != nil {
		return err
	}
	if cp.Time.IsZero() {
		cp.Time = time.Now().UTC()
	}
	return l.Publish(CheckpointPath(cp.TopicPartition), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(cp)
	})
}

// ErrCorrupt is returned for journal or checkpoint files that do not parse.
var ErrCorrupt = errors.New("corrupt arkiv metadata file")
