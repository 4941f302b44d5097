package main

import (
	"context"
	"fmt"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/broker"
)

func runBroker(ctx context.Context, e *env, args []string) error {
	fs := newFlags("broker", e)
	listen := fs.String("listen", "127.0.0.1:9092", "address to listen on")
	partitions := fs.Int("partitions", 6, "partitions of each arkiv topic")
	data := fs.String("data", "", "persist the broker's log in this folder (default: memory only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := broker.Start(broker.Options{Listen: *listen, Partitions: *partitions,
		Topics: config.Default().Topics.All(), DataDir: *data})
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(e.stdout, "arkiv broker listening on %s (embedded, for development only; topics: %v)\n",
		b.Addr(), config.Default().Topics.All())
	<-ctx.Done()
	return nil
}
