package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/produce"
)

func runProduce(ctx context.Context, e *env, args []string) error {
	fs := newFlags("produce", e)
	brokers := fs.String("brokers", "", "Kafka brokers, host:port[,...] (required)")
	topic := fs.String("topic", "", "topic to publish to (required)")
	compression := fs.String("compression", "", "gzip, snappy, lz4 or zstd (default none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *brokers == "" || *topic == "" {
		return usageError("--brokers and --topic are required")
	}
	if *topic == config.Default().Topics.Recordings {
		return usageError("recordings are binary with metadata in headers; produce them with a Kafka client (see README, 'The contract')")
	}
	p, err := produce.New(produce.Options{Brokers: splitList(*brokers), Compression: *compression})
	if err != nil {
		return usageError("%v", err)
	}
	defer p.Close()
	n, err := produceLines(ctx, p, *topic, e)
	fmt.Fprintf(e.stderr, "produced %d records to %s\n", n, *topic)
	return err
}

// produceLines publishes each line of stdin, keyed <tenant_id>/<inquiry_id>.
// A line that is not a JSON object with both ids stops the run: what came
// before it is published, nothing after.
func produceLines(ctx context.Context, p *produce.Producer, topic string, e *env) (int, error) {
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var batch []produce.Message
	sent, line := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.Send(ctx, batch...); err != nil {
			return err
		}
		sent += len(batch)
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if len(text) == 0 {
			continue
		}
		key, err := contractKey(text)
		if err != nil {
			return sent, fmt.Errorf("line %d: %v; nothing from this line on was produced", line, err)
		}
		batch = append(batch, produce.Message{Topic: topic, Key: key, Value: append([]byte(nil), text...)})
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return sent, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return sent, fmt.Errorf("read stdin: %w", err)
	}
	if err := flush(); err != nil {
		return sent, err
	}
	return sent, nil
}

func contractKey(value []byte) ([]byte, error) {
	var ids struct {
		Tenant  string `json:"tenant_id"`
		Inquiry string `json:"inquiry_id"`
	}
	if err := json.Unmarshal(value, &ids); err != nil {
		return nil, fmt.Errorf("not a JSON object with string tenant_id and inquiry_id")
	}
	if ids.Tenant == "" || ids.Inquiry == "" {
		return nil, fmt.Errorf("tenant_id and inquiry_id are required to build the key")
	}
	return []byte(ids.Tenant + "/" + ids.Inquiry), nil
}
