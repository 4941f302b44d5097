package lakegen

import (
	"github.com/arkiv-project/arkiv/internal/synth"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// SummaryFile is where Generate leaves its Summary in the lake (JSON), for
// the benchmarks that look up the planted people. Nothing else reads it.
const SummaryFile = sinks.MetaDir + "/lakegen.json"

// Summary says what Generate made.
type Summary struct {
	Lake            string           `json:"lake"`
	Seed            uint64           `json:"seed"`
	Now             time.Time        `json:"now"`
	FirstDay        string           `json:"first_day"`
	LastDay         string           `json:"last_day"`
	Inquiries       int              `json:"inquiries"`
	Tenants         int              `json:"tenants"`
	Days            int              `json:"days"`
	Flushes         int              `json:"flushes"`
	Duplicates      float64          `json:"duplicates"`
	RecordingsFrom  string           `json:"recordings_from"` // first day with recordings (tenant t0001)
	ChatlogsFrom    string           `json:"chatlogs_from"`   // first day with chat logs (tenant t0001)
	TenantInquiries map[string]int   `json:"tenant_inquiries"`
	Files           map[string]int   `json:"files"`
	Rows            map[string]int   `json:"rows"`
	Bytes           map[string]int64 `json:"bytes"`
	Seconds         float64          `json:"seconds"`
	Planted         []Person         `json:"planted"`
}

// ErrNotEmpty is returned when the lake folder already holds data.
var ErrNotEmpty = errors.New("the lake folder already holds data: give an empty or new folder")

// Generate writes a lake into dir (which must not hold data yet) and
// returns what it wrote. Days are written by opts.Workers workers, each one
// tenant-day at a time, so memory stays bounded by the largest tenant-day.
// The files are durable (one filesystem sync) when it returns nil.
func Generate(ctx context.Context, dir string, opts Options) (*Summary, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := checkEmpty(dir); err != nil {
		return nil, err
	}
	started := time.Now()
	lake, err := sinks.OpenDir(dir, o.Log)
	if err != nil {
		return nil, err
	}
	defer lake.Close()
	p := newPlan(o)
	w := &writer{o: &o, p: p, lake: lake, stats: newStats()}
	if err := w.run(ctx); err != nil {
		return nil, err
	}
	if err := lake.SyncAll(); err != nil {
		return nil, err
	}
	s := w.summary(dir, time.Since(started))
	if err := lake.Publish(SummaryFile, func(out io.Writer) error {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadSummary reads the Summary Generate left in a lake.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(SummaryFile)))
	if err != nil {
		return nil, fmt.Errorf("read the generator's summary (was the lake made by lakegen?): %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w", SummaryFile, err)
	}
	return &s, nil
}

func checkEmpty(dir string) error {
	for _, ds := range []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings,
		schema.DatasetSurveys, schema.DatasetAudit, sinks.MediaDataset} {
		if _, err := os.Stat(filepath.Join(dir, ds)); err == nil {
			return fmt.Errorf("%s: %w", dir, ErrNotEmpty)
		} else if !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// stats counts what was written.
type stats struct {
	mu      sync.Mutex
	files   map[string]int
	rows    map[string]int
	bytes   map[string]int64
	planted map[string][]PlantedInquiry
}

func newStats() *stats {
	return &stats{files: map[string]int{}, rows: map[string]int{}, bytes: map[string]int64{},
		planted: map[string][]PlantedInquiry{}}
}

func (s *stats) add(dataset string, rows int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[dataset]++
	s.rows[dataset] += rows
	s.bytes[dataset] += bytes
}

func (s *stats) plant(tenant string, inq []PlantedInquiry) {
	if len(inq) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planted[tenant] = append(s.planted[tenant], inq...)
}

// writer writes the plan's days with a pool of workers.
type writer struct {
	o     *Options
	p     *lakePlan
	lake  *sinks.Lake
	stats *stats
	done  atomic.Int64
}

func (w *writer) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	days := make(chan int)
	var wg sync.WaitGroup
	for range w.o.Workers {
		wg.Go(func() {
			for d := range days {
				if ctx.Err() != nil {
					continue
				}
				if err := w.day(ctx, d); err != nil {
					cancel(err)
				}
			}
		})
	}
	for d := range w.p.days {
		days <- d
	}
	close(days)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("generate lake: %w", err)
	}
	return nil
}

// day writes every tenant's files of one day.
func (w *writer) day(ctx context.Context, d int) error {
	ids := flushIDs(w.o, w.p.days[d], d)
	for i := range w.p.tenants {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := &w.p.tenants[i]
		rows := newDayGen(w.o, w.p, t, d, ids).generate()
		if err := w.tenantDay(t.id, schema.Day(w.p.days[d]), ids, rows); err != nil {
			return err
		}
		w.stats.plant(t.id, rows.planted)
	}
	if n := w.done.Add(1); n%max(int64(len(w.p.days))/10, 1) == 0 {
		w.o.Log.Info("lake generation progress", "days_done", n, "days", len(w.p.days))
	}
	return nil
}

// flushIDs names the day's flushes as ingest names them (sortable time,
// then a random-looking suffix), from the end of each flush's time window.
func flushIDs(o *Options, day time.Time, d int) []string {
	out := make([]string, o.Flushes)
	for f := range out {
		at := day.Add(time.Duration(f+1) * 24 * time.Hour / time.Duration(o.Flushes)).Add(90 * time.Second)
		out[f] = at.Format("20060102T150405.000000000") + "-" + fmt.Sprintf("%08x", uint32(synth.Mix(o.Seed^uint64(d)<<8^uint64(f))))
	}
	return out
}

func (w *writer) tenantDay(tenant, day string, ids []string, rows *dayRows) error {
	for f, fr := range rows.flushes {
		name := func(ds string) string {
			return sinks.PartitionDir(ds, tenant, day) + "/" + ids[f] + sinks.ParquetSuffix
		}
		sinks.SortInquiries(fr.inquiries)
		sinks.SortByInquiryID(fr.chatlogs, func(r *schema.ChatlogRow) string { return r.InquiryID })
		sinks.SortByInquiryID(fr.recordings, func(r *schema.RecordingRow) string { return r.InquiryID })
		sinks.SortByInquiryID(fr.surveys, func(r *schema.SurveyRow) string { return r.InquiryID })
		err := errors.Join(
			writeRows(w, schema.DatasetInquiries, name(schema.DatasetInquiries), ids[f], fr.inquiries),
			writeRows(w, schema.DatasetChatlogs, name(schema.DatasetChatlogs), ids[f], fr.chatlogs),
			writeRows(w, schema.DatasetRecordings, name(schema.DatasetRecordings), ids[f], fr.recordings),
			writeRows(w, schema.DatasetSurveys, name(schema.DatasetSurveys), ids[f], fr.surveys))
		if err != nil {
			return err
		}
	}
	if w.o.NoMedia {
		return nil
	}
	for _, m := range rows.media {
		var n int64
		if err := w.lake.PublishUnsynced(m.name, func(out io.Writer) error {
			var err error
			n, err = m.writeTo(out)
			return err
		}); err != nil {
			return err
		}
		w.stats.add(sinks.MediaDataset, 1, n)
	}
	return nil
}

// writeRows publishes one Parquet file of rows (none when there are none).
func writeRows[T any](w *writer, dataset, name, flushID string, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	var n int64
	err := w.lake.PublishUnsynced(name, func(out io.Writer) error {
		cw := &countingWriter{w: out}
		err := sinks.WriteParquet(cw, dataset, flushID, rows)
		n = cw.n
		return err
	})
	if err != nil {
		return err
	}
	w.stats.add(dataset, len(rows), n)
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (w *writer) summary(dir string, took time.Duration) *Summary {
	o, p := w.o, w.p
	s := &Summary{Lake: dir, Seed: o.Seed, Now: o.Now, FirstDay: schema.Day(p.days[0]),
		LastDay: schema.Day(p.days[len(p.days)-1]), Inquiries: o.Inquiries, Tenants: o.Tenants, Days: o.Days,
		Flushes: o.Flushes, Duplicates: o.Duplicates, TenantInquiries: map[string]int{},
		Files: maps.Clone(w.stats.files), Rows: maps.Clone(w.stats.rows), Bytes: maps.Clone(w.stats.bytes),
		Seconds: took.Seconds(), Planted: people(p, w.stats.planted)}
	for _, t := range p.tenants {
		s.TenantInquiries[t.id] = t.total
	}
	t := p.tenants[0]
	if t.recFrom < len(p.days) {
		s.RecordingsFrom = schema.Day(p.days[t.recFrom])
	}
	if t.chatFrom < len(p.days) {
		s.ChatlogsFrom = schema.Day(p.days[t.chatFrom])
	}
	return s
}
