package sinks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
)

// CompactOptions say what Compact merges.
type CompactOptions struct {
	// Tenant limits compaction to one tenant ("" = every tenant).
	Tenant string
	// MinFiles is the number of files a partition needs to be compacted
	// (default 4).
	MinFiles int
	// MaxRows bounds the rows of one output file (default 1,000,000).
	MaxRows int
	// Ledger, when set, anonymises rows of erased persons on the way
	// (records that arrived late, after an anonymisation had planned).
	Ledger *Ledger
	// AuditIdle is how long a live audit log must have had no append
	// before it is closed and sealed (0: DefaultAuditIdle; negative: every
	// live log now). It only spares busy partitions a rewrite per run:
	// sealing is safe at any time. Closed logs are always sealed.
	AuditIdle time.Duration
}

// DefaultAuditIdle is CompactOptions.AuditIdle's default.
const DefaultAuditIdle = time.Minute

// CompactReport says what Compact did. The first fields count the Parquet
// datasets; the Audit ones the sealing of audit logs.
type CompactReport struct {
	Partitions int `json:"partitions_compacted"`
	// Skipped counts partitions (of any dataset) that changed under
	// compaction and are left for the next run.
	Skipped    int `json:"partitions_skipped"`
	FilesIn    int `json:"files_in"`
	FilesOut   int `json:"files_out"`
	RowsIn     int `json:"rows_in"`
	RowsOut    int `json:"rows_out"`
	Anonymised int `json:"rows_anonymised"`
	// AuditPartitions were sealed: AuditFilesIn logs and earlier sealed
	// files became AuditFilesOut sealed files holding AuditRows entries.
	AuditPartitions int           `json:"audit_partitions_sealed"`
	AuditFilesIn    int           `json:"audit_files_in"`
	AuditFilesOut   int           `json:"audit_files_out"`
	AuditRows       int           `json:"audit_rows_sealed"`
	Duration        time.Duration `json:"duration_ns"`
}

// compactDatasets are the Parquet datasets compaction merges (the audit
// logs are sealed instead: seal.go).
var compactDatasets = []string{schema.DatasetInquiries, schema.DatasetChatlogs,
	schema.DatasetRecordings, schema.DatasetSurveys}

// Compact merges the small files of each partition (dataset, tenant, day)
// that has at least MinFiles of them into files of up to MaxRows rows,
// collapsing duplicates (latest _ingested_at wins, then the latest Kafka
// offset), through one journaled Rewrite per partition. Files named by a
// flush journal that is not committed are left alone. A partition that
// changed under it (a rewrite or expiry got there first) is skipped.
//
// Then it seals the audit logs: every audit partition with a closed log or
// a live one idle for AuditIdle becomes one sealed Parquet file (seal_log.go
// has the rule that keeps appends running meanwhile and every entry
// exactly once).
func (l *Lake) Compact(opts CompactOptions) (*CompactReport, error) {
	return l.CompactContext(context.Background(), opts)
}

// CompactContext is Compact that stops between partitions once ctx is
// done, returning what it did so far and ctx's error. Each partition is
// rewritten whole or not at all.
func (l *Lake) CompactContext(ctx context.Context, opts CompactOptions) (*CompactReport, error) {
	started := time.Now()
	if opts.MinFiles <= 0 {
		opts.MinFiles = 4
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = 1_000_000
	}
	if opts.AuditIdle == 0 {
		opts.AuditIdle = DefaultAuditIdle
	}
	rep := &CompactReport{}
	defer func() { rep.Duration = time.Since(started) }()
	for _, ds := range compactDatasets {
		err := l.forEachPartition(ctx, ds, opts.Tenant, func(tenant, dir string) error {
			return l.compactPartition(ds, tenant, dir, opts, rep)
		})
		if err != nil {
			return rep, err
		}
	}
	err := l.forEachPartition(ctx, schema.DatasetAudit, opts.Tenant, func(tenant, dir string) error {
		return l.sealPartition(tenant, dir, opts.AuditIdle, rep)
	})
	return rep, err
}

// ReanonymisePartitions compacts the given partitions (folders such as
// "chatlogs/tenant=t/date=d") whatever their number of files, anonymising
// on the way the rows the ledger now matches: ingest calls it when it
// learnt, from a late inquiry, that an earlier flushed chat log or survey
// belongs to an erased person. Only chat log and survey partitions are
// taken; a partition that changed under it is skipped (and counted).
func (l *Lake) ReanonymisePartitions(ledger *Ledger, dirs []string) (*CompactReport, error) {
	opts := CompactOptions{MinFiles: 1, MaxRows: 1_000_000, Ledger: ledger}
	rep := &CompactReport{}
	for _, dir := range dirs {
		parts := strings.Split(dir, "/")
		tenant, ok := "", len(parts) == 3 && strings.HasPrefix(parts[2], "date=")
		if ok {
			tenant, ok = strings.CutPrefix(parts[1], "tenant=")
		}
		if !ok || (parts[0] != schema.DatasetChatlogs && parts[0] != schema.DatasetSurveys) ||
			!schema.ValidTenantID(tenant) || checkLakePath(dir) != nil {
			return rep, fmt.Errorf("reanonymise %q: %w", dir, ErrBadPath)
		}
		if err := l.compactPartition(parts[0], tenant, dir, opts, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// forEachPartition calls fn for each date= folder of the dataset, of every
// tenant or only one, until fn fails or ctx is done.
func (l *Lake) forEachPartition(ctx context.Context, ds, only string, fn func(tenant, dir string) error) error {
	tenants, err := l.listTenants(ds, only)
	if err != nil {
		return err
	}
	for _, tenant := range tenants {
		days, err := l.fs.ReadDir(ds + "/tenant=" + tenant)
		if err != nil && !IsNotExist(err) {
			return err
		}
		for _, d := range days {
			if !d.IsDir() || !strings.HasPrefix(d.Name(), "date=") {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(tenant, ds+"/tenant="+tenant+"/"+d.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *Lake) listTenants(dataset, only string) ([]string, error) {
	entries, err := l.fs.ReadDir(dataset)
	if IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		t, ok := strings.CutPrefix(e.Name(), "tenant=")
		if ok && e.IsDir() && schema.ValidTenantID(t) && (only == "" || t == only) {
			out = append(out, t)
		}
	}
	return out, nil
}

// pendingFlushFiles lists the files of flushes not yet committed.
func (l *Lake) pendingFlushFiles() (map[string]bool, error) {
	flushes, err := l.ListFlushes()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, fl := range flushes {
		if fl.State != FlushCommitted {
			for _, f := range fl.Files {
				out[f] = true
			}
		}
	}
	return out, nil
}

func (l *Lake) compactPartition(ds, tenant, dir string, opts CompactOptions, rep *CompactReport) error {
	entries, err := l.fs.ReadDir(dir)
	if IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	pending, err := l.pendingFlushFiles()
	if err != nil {
		return err
	}
	var files []string
	for _, e := range entries {
		name := dir + "/" + e.Name()
		if !e.IsDir() && strings.HasSuffix(e.Name(), ParquetSuffix) && !pending[name] {
			files = append(files, name)
		}
	}
	if len(files) < opts.MinFiles {
		return nil
	}
	if opts.Ledger != nil {
		// An unreadable ledger stops compaction rather than anonymising
		// every row (Matches errs on the side of anonymising).
		if err := opts.Ledger.Check(tenant); err != nil {
			return fmt.Errorf("compact %s: erasure ledger: %w", dir, err)
		}
	}
	var plan RewritePlan
	var in, out, anon int
	switch ds {
	case schema.DatasetInquiries:
		plan, in, out, anon, err = compactPlan(l, ds, files, opts.MaxRows,
			func(r *schema.InquiryRow) string { return r.InquiryID },
			func(r *schema.InquiryRow) schema.Meta { return r.Meta },
			SortInquiries, func(r *schema.InquiryRow) bool {
				return opts.Ledger != nil && !r.Anonymised && (opts.Ledger.MatchesInquiry(tenant, r.InquiryID) ||
					anyMatch(opts.Ledger, tenant, r.CallerNumber, r.ChatterNumber, r.ChatterEmail, r.FromAddress))
			})
	case schema.DatasetChatlogs:
		plan, in, out, anon, err = compactPlan(l, ds, files, opts.MaxRows,
			func(r *schema.ChatlogRow) string { return r.InquiryID },
			func(r *schema.ChatlogRow) schema.Meta { return r.Meta },
			byInquiry(func(r *schema.ChatlogRow) string { return r.InquiryID }), func(r *schema.ChatlogRow) bool {
				return opts.Ledger != nil && !r.Anonymised && opts.Ledger.MatchesInquiry(tenant, r.InquiryID)
			})
	case schema.DatasetRecordings:
		plan, in, out, anon, err = compactPlan(l, ds, files, opts.MaxRows,
			func(r *schema.RecordingRow) string { return r.InquiryID + "\x00" + r.RecordingID },
			func(r *schema.RecordingRow) schema.Meta { return r.Meta },
			byInquiry(func(r *schema.RecordingRow) string { return r.InquiryID }), nil)
	case schema.DatasetSurveys:
		plan, in, out, anon, err = compactPlan(l, ds, files, opts.MaxRows,
			func(r *schema.SurveyRow) string { return r.SurveyID },
			func(r *schema.SurveyRow) schema.Meta { return r.Meta },
			byInquiry(func(r *schema.SurveyRow) string { return r.InquiryID }), func(r *schema.SurveyRow) bool {
				return opts.Ledger != nil && !r.Anonymised && (opts.Ledger.MatchesInquiry(tenant, r.InquiryID) ||
					anyMatch(opts.Ledger, tenant, r.RespondentNumber, r.RespondentEmail))
			})
	}
	if IsNotExist(err) {
		// A file vanished before it could be read: an expiry or another
		// rewrite got there first.
		l.log.Info("partition changed during compaction; skipped", "partition", dir, "error", err)
		rep.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	err = l.Rewrite(tenant, plan)
	if errors.Is(err, ErrRewriteConflict) || errors.Is(err, ErrFlushInFlight) {
		l.log.Info("partition changed during compaction; skipped", "partition", dir, "error", err)
		rep.Skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("compact %s: %w", dir, err)
	}
	rep.Partitions++
	rep.FilesIn += len(plan.Remove)
	rep.FilesOut += len(plan.Add)
	rep.RowsIn += in
	rep.RowsOut += out
	rep.Anonymised += anon
	return nil
}

func byInquiry[T any](id func(*T) string) func([]T) {
	return func(rows []T) { SortByInquiryID(rows, id) }
}

func anyMatch(g *Ledger, tenant string, vals ...*string) bool {
	for _, v := range vals {
		if v != nil && g.Matches(tenant, *v) {
			return true
		}
	}
	return false
}

// compactPlan reads the files, keeps the latest version of each key and
// plans their replacement by files of at most maxRows rows.
func compactPlan[T any](l *Lake, ds string, files []string, maxRows int, key func(*T) string,
	meta func(*T) schema.Meta, sortRows func([]T), erased func(*T) bool) (RewritePlan, int, int, int, error) {
	plan := RewritePlan{Reason: "compact", Remove: files}
	latest := map[string]int{}
	var rows []T
	in := 0
	for _, name := range files {
		part, err := l.readParquet(name, func(r io.ReaderAt, size int64) (any, error) { return parquet.Read[T](r, size) })
		if err != nil {
			return plan, 0, 0, 0, fmt.Errorf("compact: read %s: %w", name, err)
		}
		for _, r := range part.([]T) {
			in++
			k := key(&r)
			if i, ok := latest[k]; ok {
				if newer(meta(&r), meta(&rows[i])) {
					rows[i] = r
				}
				continue
			}
			latest[k] = len(rows)
			rows = append(rows, r)
		}
	}
	anon := 0
	if erased != nil {
		for i := range rows {
			if erased(&rows[i]) {
				AnonymiseRow(&rows[i], false)
				anon++
			}
		}
	}
	sortRows(rows)
	id := NewRewriteID()
	dir := files[0][:strings.LastIndex(files[0], "/")]
	for i, start := 0, 0; start < len(rows); i, start = i+1, start+maxRows {
		chunk := rows[start:min(start+maxRows, len(rows))]
		plan.Add = append(plan.Add, NewFile{Name: fmt.Sprintf("%s/%s-%d%s", dir, id, i, ParquetSuffix),
			Write: func(w io.Writer) error { return WriteParquet(w, ds, id, chunk) }})
	}
	return plan, in, len(rows), anon, nil
}

// newer: latest _ingested_at wins; on a tie the later Kafka offset.
func newer(a, b schema.Meta) bool {
	if c := a.IngestedAt.Compare(b.IngestedAt); c != 0 {
		return c > 0
	}
	if a.KafkaPartition == b.KafkaPartition {
		return a.KafkaOffset > b.KafkaOffset
	}
	return false
}

func (l *Lake) readParquet(name string, read func(r io.ReaderAt, size int64) (any, error)) (any, error) {
	f, err := l.fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return read(f, fi.Size())
}
