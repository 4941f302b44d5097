// Package query is the read side of the archive: search, general
// information, recordings, chat logs and the audit log, over the Parquet
// lake with an embedded DuckDB.
//
// Every query is scoped to one tenant. Go lists the files the query needs
// (the tenant's date= folders of the time range, never a glob over the
// lake) and hands the list to read_parquet as a bound parameter; every
// filter value is bound as a parameter too. No user text ever becomes part
// of a path or of SQL text.
package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Errors callers tell apart (with errors.Is).
var (
	// ErrUnknownTenant: the tenant is neither configured nor has any data.
	ErrUnknownTenant = errors.New("unknown tenant")
	// ErrInvalidTenant: the tenant id is not a valid tenant id.
	ErrInvalidTenant = errors.New("invalid tenant id")
	// ErrNotFound: no such inquiry, or it has no such content.
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: a filter, cursor or argument that cannot be used.
	ErrBadRequest = errors.New("bad request")
	// ErrAuditUnavailable: the audit entry could not be made durable, so the
	// content is refused (audit fails closed).
	ErrAuditUnavailable = errors.New("audit log unavailable: content access refused")
)

// datasets read through Parquet, in a fixed order.
var parquetDatasets = []string{schema.DatasetInquiries, schema.DatasetChatlogs,
	schema.DatasetRecordings, schema.DatasetSurveys, schema.DatasetAudit}

// hiveOptions are the read_parquet options of every lake read: the
// partition folders become columns with fixed types (a tenant id like "001"
// must stay text).
const hiveOptions = `hive_partitioning = true, hive_types = {'tenant': VARCHAR, 'date': DATE}`

// fileName is what a data file of the lake may be called. Anything else in
// a partition folder is ignored: file names go into read_parquet's list,
// whose entries are glob patterns to DuckDB.
var fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Engine answers queries over one lake. It is safe for concurrent use.
type Engine struct {
	dir   string // absolute lake folder
	fs    sinks.DirFS
	cfg   *config.Config
	log   *slog.Logger
	db    *sql.DB
	empty string // folder with an empty Parquet file per dataset
	host  string // this host's audit log name
	now   func() time.Time
	facts *factCache // Parquet metadata for pruning (prune.go)
	// chunkBytes bounds the inquiry files one query of an export reads
	// (chunks.go).
	chunkBytes int64
}

// Open opens an engine over the lake in lakeDir. cfg may be nil (defaults).
// It does not write into the lake; Close releases DuckDB.
func Open(lakeDir string, cfg *config.Config, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg == nil {
		cfg = config.Default()
	}
	dir, err := filepath.Abs(lakeDir)
	if err != nil {
		return nil, fmt.Errorf("lake folder: %w", err)
	}
	// The lake folder is the prefix of every path handed to DuckDB, which
	// reads list entries as glob patterns.
	if strings.ContainsAny(dir, "*?[]{}'\"\\\n\r") {
		return nil, fmt.Errorf("lake folder %q: must not contain glob or quote characters", dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("lake folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("lake folder %s: not a directory", dir)
	}
	conn, err := duckdb.NewConnector("?autoinstall_known_extensions=false", nil)
	if err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	e := &Engine{dir: dir, fs: sinks.DirFS{Root: dir}, cfg: cfg, log: log.With("component", "query"),
		db: sql.OpenDB(conn), host: auditLogName(), now: time.Now, facts: newFactCache(),
		chunkBytes: defaultChunkBytes}
	if e.empty, err = writeEmptyFiles(); err != nil {
		e.db.Close()
		return nil, err
	}
	return e, nil
}

// Close releases the engine.
func (e *Engine) Close() error {
	err := e.db.Close()
	return errors.Join(err, os.RemoveAll(e.empty))
}

// Dir is the absolute lake folder.
func (e *Engine) Dir() string { return e.dir }

// writeEmptyFiles writes one zero-row Parquet file per dataset, with the
// dataset's exact schema, under a hive-style path. A query over a dataset
// with no files in range reads it instead: read_parquet of an empty list is
// an error, and an empty file keeps every column and type.
func writeEmptyFiles() (string, error) {
	dir, err := os.MkdirTemp("", "arkiv-query-")
	if err != nil {
		return "", fmt.Errorf("query scratch folder: %w", err)
	}
	write := func(dataset string, fn func(w io.Writer) error) error {
		p := filepath.Join(dir, dataset, "tenant=_", "date=1970-01-01")
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(p, "empty.parquet"))
		if err != nil {
			return err
		}
		return errors.Join(fn(f), f.Close())
	}
	err = errors.Join(
		write(schema.DatasetInquiries, func(w io.Writer) error {
			return sinks.WriteParquet[schema.InquiryRow](w, schema.DatasetInquiries, "empty", nil)
		}),
		write(schema.DatasetChatlogs, func(w io.Writer) error {
			return sinks.WriteParquet[schema.ChatlogRow](w, schema.DatasetChatlogs, "empty", nil)
		}),
		write(schema.DatasetRecordings, func(w io.Writer) error {
			return sinks.WriteParquet[schema.RecordingRow](w, schema.DatasetRecordings, "empty", nil)
		}),
		write(schema.DatasetSurveys, func(w io.Writer) error {
			return sinks.WriteParquet[schema.SurveyRow](w, schema.DatasetSurveys, "empty", nil)
		}),
		write(schema.DatasetAudit, func(w io.Writer) error {
			return sinks.WriteParquet[schema.AuditRow](w, schema.DatasetAudit, "empty", nil)
		}),
	)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("query scratch files: %w", err)
	}
	return dir, nil
}

func (e *Engine) emptyFile(dataset string) string {
	return filepath.Join(e.empty, dataset, "tenant=_", "date=1970-01-01", "empty.parquet")
}

// checkTenant validates a tenant id and makes sure the tenant exists: it is
// configured, or the lake holds data of it.
func (e *Engine) checkTenant(tenant string) error {
	if !schema.ValidTenantID(tenant) {
		return fmt.Errorf("tenant %q: %w", tenant, ErrInvalidTenant)
	}
	if e.cfg.Known(tenant) {
		return nil
	}
	for _, ds := range append(slices.Clone(parquetDatasets), sinks.MediaDataset) {
		if _, err := e.fs.Stat(ds + "/tenant=" + tenant); err == nil {
			return nil
		}
	}
	return fmt.Errorf("tenant %q: %w (not in the configuration and no data in the lake)", tenant, ErrUnknownTenant)
}

// Tenants lists the tenants with data in the lake and those configured.
func (e *Engine) Tenants() ([]string, error) {
	seen := map[string]bool{}
	for name := range e.cfg.Tenants {
		if name != config.DefaultsKey {
			seen[name] = true
		}
	}
	for _, ds := range parquetDatasets {
		entries, err := e.fs.ReadDir(ds)
		if sinks.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, ent := range entries {
			if t, ok := strings.CutPrefix(ent.Name(), "tenant="); ok && ent.IsDir() && schema.ValidTenantID(t) {
				seen[t] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}

// dayRange is an inclusive range of partition days ("" = open).
type dayRange struct{ from, to string }

func daysOf(from, to time.Time) dayRange {
	r := dayRange{}
	if !from.IsZero() {
		r.from = schema.Day(from)
	}
	if !to.IsZero() {
		r.to = schema.Day(to)
	}
	return r
}

func (r dayRange) contains(day string) bool {
	return (r.from == "" || day >= r.from) && (r.to == "" || day <= r.to)
}

// partitions lists the date= folders of one dataset and tenant within the
// range, as lake-relative paths, oldest first.
func (e *Engine) partitions(dataset, tenant string, days dayRange) ([]string, error) {
	base := dataset + "/tenant=" + tenant
	entries, err := e.fs.ReadDir(base)
	if sinks.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", base, err)
	}
	var out []string
	for _, ent := range entries {
		day, ok := strings.CutPrefix(ent.Name(), "date=")
		if !ok || !ent.IsDir() || !validDay(day) || !days.contains(day) {
			continue
		}
		out = append(out, base+"/"+ent.Name())
	}
	return out, nil
}

func validDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil && len(s) == 10
}

// files lists the data files (by suffix) of one dataset and tenant within
// the range, as absolute paths.
func (e *Engine) files(dataset, tenant string, days dayRange, suffix string) ([]string, error) {
	parts, err := e.partitions(dataset, tenant, days)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range parts {
		entries, err := e.fs.ReadDir(p)
		if sinks.IsNotExist(err) {
			continue // dropped while we listed
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", p, err)
		}
		for _, ent := range entries {
			n := ent.Name()
			if ent.IsDir() || !strings.HasSuffix(n, suffix) {
				continue
			}
			if !fileName.MatchString(n) {
				e.log.Warn("ignoring a file with an unexpected name", "folder", p)
				continue
			}
			out = append(out, filepath.Join(e.dir, filepath.FromSlash(p), n))
		}
	}
	return out, nil
}

// sources is the file list of each dataset one query reads.
type sources map[string][]string

// list returns the Parquet files of each dataset for the tenant and range;
// a dataset without files gets the empty placeholder file.
func (e *Engine) list(tenant string, days dayRange, datasets ...string) (sources, error) {
	s := sources{}
	for _, ds := range datasets {
		files, err := e.files(ds, tenant, days, sinks.ParquetSuffix)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			files = []string{e.emptyFile(ds)}
		}
		s[ds] = files
	}
	return s, nil
}

func (s sources) equal(o sources) bool {
	if len(s) != len(o) {
		return false
	}
	for k, v := range s {
		if !slices.Equal(v, o[k]) {
			return false
		}
	}
	return true
}

// maxSourceAttempts bounds the runs of a query whose files keep changing
// under it (ingest, compaction and expiry all at work on the tenant);
// between runs it waits sourceBackoff, doubled each time up to a second, so
// that a compaction pass rewriting partition after partition can end.
const (
	maxSourceAttempts = 10
	sourceBackoff     = 25 * time.Millisecond
)

// withSources runs fn over fresh file lists. If fn fails and the lists have
// changed meanwhile (a rewrite or expiry removed a file under the query),
// it runs again on the new lists, up to maxSourceAttempts times in all:
// deleting data is never postponed for a reader's sake, the reader retries
// instead.
func (e *Engine) withSources(ctx context.Context, tenant string, days dayRange, datasets []string,
	fn func(s sources) error) error {
	s, err := e.list(tenant, days, datasets...)
	if err != nil {
		return err
	}
	wait := sourceBackoff
	for attempt := 1; ; attempt++ {
		err = fn(s)
		if err == nil || ctx.Err() != nil || attempt == maxSourceAttempts {
			return err
		}
		fresh, lerr := e.list(tenant, days, datasets...)
		if lerr != nil || fresh.equal(s) {
			return err
		}
		e.log.Debug("files changed under a query; retrying on a fresh list", "error", err, "attempt", attempt)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
		if s, err = e.list(tenant, days, datasets...); err != nil {
			return err
		}
	}
}

// retentionFrom is the start of the tenant's general retention window.
func (e *Engine) retentionFrom(tenant string) time.Time {
	return e.now().Add(-e.cfg.Policy(tenant).General.Duration())
}

// nullString turns a nullable column into a *string.
func nullString(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	s := n.String
	return &s
}

func nullFloat(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	f := n.Float64
	return &f
}

func nullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}
