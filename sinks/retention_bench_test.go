package sinks_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/sinks"
)

// BenchmarkExpiry drops one day of every dataset of 100 tenants, with 1k
// and with 10k rows per Parquet file: the time must not grow with rows,
// since expiry renames and removes folders and never opens a file.
//
//	go test -bench Expiry -run '^$' ./sinks/
func BenchmarkExpiry(b *testing.B) {
	const tenants = 100
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	names := make([]string, tenants)
	for i := range names {
		names[i] = fmt.Sprintf("t%03d", i)
	}
	cfg := mustConfig(b, `tenants: {defaults: {retention: {general: 1d, recordings: 1d, chatlogs: 1d}}}`)
	for _, rows := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			template := b.TempDir()
			genLake(b, template, names, first, 2, rows) // day 0 expires, day 1 stays
			now := first.AddDate(0, 0, 2)
			var partitions, bytes int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dir := b.TempDir()
				if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
					b.Fatal(err)
				}
				// Write the copy back first: the directory fsyncs of expiry
				// would otherwise pay for the copy's dirty pages (ext4
				// data=ordered commits them with the journal).
				syscall.Sync()
				l, err := sinks.OpenDir(dir, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				plan, err := l.Expire(now, cfg.Policy, false)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				partitions, bytes = 0, 0
				for _, te := range plan.Tenants {
					for _, ce := range te.Classes {
						for _, p := range ce.Partitions {
							partitions++
							bytes += p.Bytes
						}
					}
				}
				if partitions != tenants*6 {
					b.Fatalf("dropped %d partitions, want %d", partitions, tenants*6)
				}
				_ = l.Close()
				_ = os.RemoveAll(dir)
			}
			b.ReportMetric(float64(partitions), "partitions/op")
			b.ReportMetric(float64(bytes), "bytes-dropped/op")
			b.ReportMetric(float64(tenants*rows), "rows-per-dataset/op")
		})
	}
}
