package sinks

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

var benchDay = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func benchRow(i int) schema.AuditRow {
	return schema.AuditRow{Time: benchDay.Add(time.Duration(i) * time.Millisecond), Tenant: "t1",
		Actor: "admin@example.org", ActorKind: schema.ActorAdmin, Action: "recording.play",
		InquiryID: fmt.Sprintf("c-20260302-%06d", i%5000), RequestID: fmt.Sprintf("req-%09d", i)}
}

// BenchmarkAppendAudit is one audit entry made durable, with the audit lock
// (AppendAudit) and, as the baseline, the same append without it.
func BenchmarkAppendAudit(b *testing.B) {
	for _, locked := range []bool{true, false} {
		b.Run(fmt.Sprintf("locked=%v", locked), func(b *testing.B) {
			d := DirFS{Root: b.TempDir()}
			day := schema.Day(benchDay)
			dir := d.path(PartitionDir(schema.DatasetAudit, "t1", day))
			i := 0
			for b.Loop() {
				var err error
				if locked {
					err = AppendAudit(d, day, "log-bench.jsonl", benchRow(i))
				} else {
					line, _ := json.Marshal(benchRow(i))
					var paths []string
					if paths, err = appendLine(dir, filepath.Join(dir, "log-bench.jsonl"), append(line, '\n')); err == nil {
						err = syncPaths(paths)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// auditBenchLake is a lake with one audit partition of n entries in two
// logs; sealed, they are sealed into one Parquet file.
func auditBenchLake(b *testing.B, n int, sealed bool) (*Lake, string) {
	b.Helper()
	root := b.TempDir()
	l, err := OpenDir(root, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	dir := PartitionDir(schema.DatasetAudit, "t1", schema.Day(benchDay))
	for h := range 2 {
		err := l.Publish(fmt.Sprintf("%s/log-h%d.jsonl", dir, h), func(w io.Writer) error {
			enc := json.NewEncoder(w)
			for i := h; i < n; i += 2 {
				if err := enc.Encode(benchRow(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if sealed {
		if _, err := l.Compact(CompactOptions{AuditIdle: -1}); err != nil {
			b.Fatal(err)
		}
	}
	return l, dir
}

// BenchmarkSealAudit seals a partition of 100,000 entries (rows/s).
func BenchmarkSealAudit(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		b.StopTimer()
		l, _ := auditBenchLake(b, n, false)
		b.StartTimer()
		rep, err := l.Compact(CompactOptions{AuditIdle: -1})
		if err != nil || rep.AuditRows != n {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadAuditPartition reads 100,000 entries from the logs (the
// baseline) and from the sealed file.
func BenchmarkReadAuditPartition(b *testing.B) {
	const n = 100_000
	for _, sealed := range []bool{false, true} {
		b.Run(fmt.Sprintf("sealed=%v", sealed), func(b *testing.B) {
			l, dir := auditBenchLake(b, n, sealed)
			for b.Loop() {
				part, err := ReadAuditPartition(l.fs, dir)
				if err != nil || len(part.Rows) != n {
					b.Fatalf("%d rows, %v", len(part.Rows), err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkCompactInquiries merges 20 files of 5,000 inquiries (a tenth
// of them upstream duplicates) into one (rows/s read).
func BenchmarkCompactInquiries(b *testing.B) {
	const files, per = 20, 5000
	for b.Loop() {
		b.StopTimer()
		l := inquiryBenchLake(b, files, per)
		b.StartTimer()
		rep, err := l.Compact(CompactOptions{AuditIdle: -1})
		if err != nil || rep.RowsIn != files*per || rep.FilesOut != 1 {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(files*per*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func inquiryBenchLake(b *testing.B, files, per int) *Lake {
	b.Helper()
	l, err := OpenDir(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	part := PartitionDir(schema.DatasetInquiries, "t1", schema.Day(benchDay))
	for f := range files {
		rows := make([]schema.InquiryRow, per)
		for i := range rows {
			id := f*per + i
			if i%10 == 0 && f > 0 {
				id = (f-1)*per + i // a later copy of an earlier file's row
			}
			num := fmt.Sprintf("+4670%07d", id)
			rows[i] = schema.InquiryRow{InquiryID: fmt.Sprintf("c-%07d", id), SessionID: "s", MediaType: schema.MediaPhone,
				StartedAt: benchDay.Add(time.Duration(id) * time.Second), Queue: "support", AgentID: "a1",
				CallerNumber: &num, Meta: schema.Meta{IngestedAt: benchDay.Add(time.Duration(f) * time.Minute)}}
		}
		SortInquiries(rows)
		name := fmt.Sprintf("%s/f%03d%s", part, f, ParquetSuffix)
		if err := l.Publish(name, func(w io.Writer) error {
			return WriteParquet(w, schema.DatasetInquiries, "bench", rows)
		}); err != nil {
			b.Fatal(err)
		}
	}
	return l
}
