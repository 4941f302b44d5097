package sinks_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

func benchRows(n int) []schema.InquiryRow {
	rows := make([]schema.InquiryRow, n)
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for i := range rows {
		num := fmt.Sprintf("+4670%07d", i)
		wait := 12.5
		rows[i] = schema.InquiryRow{InquiryID: fmt.Sprintf("c-%06d", i), SessionID: "s", MediaType: "phone",
			StartedAt: start.Add(time.Duration(i) * time.Second), Queue: "support_se", AgentID: "a-1",
			AgentName: "Anna Berg", WaitSeconds: &wait, CallerNumber: &num}
	}
	return rows
}

// BenchmarkPublishParquet measures the per-file cost of a flush that fans
// out into many small tenant-day files (the backfill shape), synced per
// file (Publish) against unsynced with one SyncAll per batch.
func BenchmarkPublishParquet(b *testing.B) {
	for _, rowsPerFile := range []int{10, 100} {
		rows := benchRows(rowsPerFile)
		for _, mode := range []string{"fsync-each", "syncfs-batch"} {
			b.Run(fmt.Sprintf("rows=%d/%s", rowsPerFile, mode), func(b *testing.B) {
				lake, err := sinks.OpenDir(b.TempDir(), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer lake.Close()
				write := func(w io.Writer) error { return sinks.WriteParquet(w, schema.DatasetInquiries, "bench", rows) }
				b.ResetTimer()
				for i := range b.N {
					name := sinks.PartitionDir(schema.DatasetInquiries, fmt.Sprintf("t%03d", i%100), fmt.Sprintf("2026-01-%02d", 1+i/100%28)) + fmt.Sprintf("/f%d.parquet", i)
					if mode == "fsync-each" {
						err = lake.Publish(name, write)
					} else {
						err = lake.PublishUnsynced(name, write)
						if i%500 == 499 {
							err = lake.SyncAll()
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
			})
		}
	}
}
