// Package broker runs an embedded Kafka-compatible broker (franz-go's kfake)
// for development, demos and tests. It is not for production: it keeps
// everything in one process, with at most a local data folder.
package broker

import (
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Options configure Start.
type Options struct {
	Listen     string   // host:port; port 0 picks a free one
	Partitions int      // partitions of each seeded topic
	Topics     []string // topics to create
	DataDir    string   // optional: persist the log here
}

// Start starts a broker listening on o.Listen with o.Topics created.
func Start(o Options) (*Broker, error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Partitions < 1 {
		return nil, fmt.Errorf("broker: --partitions must be at least 1")
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("broker: listen on %s: %w (is another broker running there?)", o.Listen, err)
	}
	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.SeedTopics(int32(o.Partitions), o.Topics...),
		kfake.DefaultNumPartitions(o.Partitions),
		// Short session timeouts let tests and demos rebalance quickly.
		kfake.GroupMinSessionTimeout(500 * time.Millisecond),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			if used {
				return net.Listen(network, "127.0.0.1:0")
			}
			used = true
			return ln, nil
		}),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	return &Broker{cluster: c, addr: ln.Addr().String()}, nil
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker.
func (b *Broker) Close() { b.cluster.Close() }
