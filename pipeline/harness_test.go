package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/broker"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// harness is a real Kafka wire protocol (the embedded broker, or a real
// Kafka when ARKIV_KAFKA_BROKERS is set), a lake in a temporary folder and a
// producer.
type harness struct {
	t       *testing.T
	brokers []string
	lake    string
	cfg     *config.Config
	prod    *produce.Producer
	logs    *lockedBuffer
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

func newHarness(t *testing.T, cfgYAML string) *harness {
	t.Helper()
	cfg, err := config.Decode(strings.NewReader(cfgYAML))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	h := &harness{t: t, lake: t.TempDir(), logs: &lockedBuffer{}}
	h.brokers, h.cfg = startKafka(t, cfg)
	h.prod, err = produce.New(produce.Options{Brokers: h.brokers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.prod.Close() })
	return h
}

// startKafka starts the embedded broker, or uses ARKIV_KAFKA_BROKERS with
// topics of a unique prefix so tests do not see each other's records.
func startKafka(t *testing.T, cfg *config.Config) ([]string, *config.Config) {
	if real := os.Getenv("ARKIV_KAFKA_BROKERS"); real != "" {
		prefix := "t" + strconv.FormatInt(time.Now().UnixNano(), 36) + "."
		tp := &cfg.Topics
		for _, p := range []*string{&tp.Inquiries, &tp.Chatlogs, &tp.Recordings, &tp.Surveys, &tp.Deadletter} {
			*p = prefix + *p
		}
		brokers := strings.Split(real, ",")
		createTopics(t, brokers, cfg.Topics.All(), 3)
		return brokers, cfg
	}
	b, err := broker.Start(broker.Options{Partitions: 3, Topics: cfg.Topics.All()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return []string{b.Addr()}, cfg
}

func createTopics(t *testing.T, brokers []string, topics []string, partitions int) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, name := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: name, NumPartitions: partitions, ReplicationFactor: 1})
	}
	resp, err := client.CreateTopics(context.Background(), req)
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	for name, err := range resp.Errors {
		if err != nil {
			t.Fatalf("create topic %s: %v", name, err)
		}
	}
}

func (h *harness) send(msgs ...produce.Message) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.prod.Send(ctx, msgs...); err != nil {
		h.t.Fatalf("produce: %v", err)
	}
}

// drain runs one in-process ingest with --drain semantics.
func (h *harness) drain(group string, metrics *pipeline.Metrics) {
	h.t.Helper()
	lake, err := sinks.OpenDir(h.lake, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer lake.Close()
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ing, err := pipeline.NewIngester(pipeline.Options{Brokers: h.brokers, Group: group, Lake: lake,
		Config: h.cfg, Logger: log, Drain: true, Metrics: metrics})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := ing.Run(ctx); err != nil {
		h.t.Fatalf("ingest: %v", err)
	}
	if ctx.Err() != nil {
		h.t.Fatal("ingest did not finish draining in time")
	}
}

// deadLetters reads the whole dead-letter topic.
func (h *harness) deadLetters() []kafka.Message {
	h.t.Helper()
	return readTopic(h.t, h.brokers, h.cfg.Topics.Deadletter)
}

func readTopic(t *testing.T, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafka.Message
	for p, end := range partitionEnds(t, brokers, topic) {
		out = append(out, readPartition(ctx, t, brokers, topic, p, end)...)
	}
	return out
}

func readPartition(ctx context.Context, t *testing.T, brokers []string, topic string, partition int, end int64) []kafka.Message {
	if end == 0 {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: partition, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var out []kafka.Message
	for int64(len(out)) < end {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s/%d: %v", topic, partition, err)
		}
		out = append(out, m)
		if m.Offset+1 >= end {
			break
		}
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// assertNoSecrets scans every file under the lake and the logs.
func (h *harness) assertNoSecrets(secrets []string) {
	h.t.Helper()
	found, err := laketest.ScanForSecrets(h.lake, secrets)
	if err != nil {
		h.t.Fatal(err)
	}
	found = append(found, laketest.ScanBytes("ingest log", h.logs.Bytes(), secrets)...)
	for _, f := range found {
		h.t.Errorf("privacy: %s", f)
	}
}

func (h *harness) assertNoDebris() {
	h.t.Helper()
	debris, err := laketest.Debris(h.lake)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(debris) > 0 {
		h.t.Errorf("debris left in the lake: %v", debris)
	}
}

func jsonMsg(topic string, v map[string]any) produce.Message {
	b, _ := json.Marshal(v)
	return produce.Message{Topic: topic, Key: []byte(v["tenant_id"].(string) + "/" + v["inquiry_id"].(string)), Value: b}
}

// recordingChunks splits audio into chunk messages as the contract says.
func recordingChunks(topic, tenant, inquiry, recording, started string, audio []byte, chunkSize int, deny bool, withSum bool) []produce.Message {
	sum := sha256.Sum256(audio)
	var out []produce.Message
	n := (len(audio) + chunkSize - 1) / chunkSize
	for i := range n {
		part := audio[i*chunkSize : min(len(audio), (i+1)*chunkSize)]
		hs := []schema.Header{
			{Key: "schema-version", Value: []byte("1")}, {Key: "tenant-id", Value: []byte(tenant)},
			{Key: "inquiry-id", Value: []byte(inquiry)}, {Key: "recording-id", Value: []byte(recording)},
			{Key: "inquiry-started-at", Value: []byte(started)}, {Key: "deny-recording", Value: []byte(strconv.FormatBool(deny))},
			{Key: "content-type", Value: []byte("audio/mpeg")}, {Key: "chunk", Value: []byte(strconv.Itoa(i))},
			{Key: "last-chunk", Value: []byte(strconv.FormatBool(i == n-1))},
		}
		if i == n-1 && withSum {
			hs = append(hs, schema.Header{Key: "sha256", Value: []byte(hex.EncodeToString(sum[:]))})
		}
		out = append(out, produce.Message{Topic: topic, Key: []byte(tenant + "/" + inquiry), Value: part, Headers: hs})
	}
	return out
}

// partitionEnds returns the end offset of every partition of a topic.
func partitionEnds(t *testing.T, brokers []string, topic string) map[int]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range parts {
		leader, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		end, err := leader.ReadLastOffset()
		leader.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[p.ID] = end
	}
	return out
}
