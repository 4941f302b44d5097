package sinks

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
)

// Audit logs (SPEC R-U1). An entry (schema.AuditRow) is made durable in the
// audit partition of its inquiry's day, AUDIT/tenant=<t>/date=<d>/, as one
// JSON line appended to a log (AppendAudit); compaction seals a partition's
// logs into one Parquet file of AuditRow (Lake.Compact). Whatever interleaves
// with whatever, every acknowledged entry stays readable exactly once:
//
//   - An appender holds the tenant's audit lock (AuditLock) while it opens
//     its live log by name, appends the line and fsyncs it. Live logs are
//     the .jsonl files not named "closed-...": one per host ("log-<host>").
//   - A log is closed when compaction renames it, under the same lock, to
//     "closed-<id>-<name>" and fsyncs the folder. Nothing opens a closed log
//     for writing, so its content is final from that rename on (the next
//     append creates a fresh live log). That rename is the only way a log
//     becomes closed; so every log may be closed at any time, whatever its
//     day: entries go to the inquiry's day, which may be any day kept.
//   - Closed logs, with the partition's earlier sealed files, are replaced
//     by one sealed Parquet file through the journaled Rewrite. The sealed
//     file's footer lists the names of the files it replaces
//     (MetaSealedFrom). A reader that sees both skips the replaced ones
//     (while the rewrite runs, or after a crash until recovery), and re-reads
//     a partition whose listing changed while it read (ReadAuditPartition).
//
// A crash leaves, after recovery, the logs or the sealed file, never both
// and never neither; before recovery readers see the same entries.

// AuditLogSuffix ends the names of audit logs (JSON lines).
const AuditLogSuffix = ".jsonl"

// MetaSealedFrom is the footer key of a sealed audit file: a JSON array of
// the names (in its partition) of the logs and sealed files it replaces.
const MetaSealedFrom = "arkiv.sealed_from"

// closedLogPrefix starts the name of a closed audit log.
const closedLogPrefix = "closed-"

// maxAuditLine bounds one line of an audit log; entries are far smaller.
const maxAuditLine = 1 << 20

// auditReadAttempts bounds how often a partition that changes while it is
// read is read again.
const auditReadAttempts = 20

// AuditLock is the lock file that audit appenders and the sealer of one
// tenant's audit logs serialise on.
func AuditLock(tenant string) string { return LockDir + "/audit-" + tenant + ".lock" }

// IsLiveAuditLog says whether a file name in an audit partition is a live
// log (appended to), as opposed to a closed one or a sealed Parquet file.
func IsLiveAuditLog(name string) bool {
	return strings.HasSuffix(name, AuditLogSuffix) && !strings.HasPrefix(name, closedLogPrefix)
}

// AppendAudit makes one audit entry durable: under the tenant's audit lock
// it appends the entry as one JSON line to the live log logName of the
// partition of day (creating the folders if needed) and fsyncs it (and the
// folders it changed). If the log does not end with a newline (a crash cut an append short)
// the entry starts on a line of its own, so it stays readable.
func AppendAudit(d DirFS, day, logName string, row schema.AuditRow) error {
	return AppendAuditBatch(d, logName, []AuditEntry{{Day: day, Row: row}})
}

// AuditEntry is one audit entry and the day of the partition it goes to.
type AuditEntry struct {
	Day string
	Row schema.AuditRow
}

// AppendAuditBatch makes several audit entries of one tenant durable
// together, as AppendAudit does one: each is appended to the live log
// logName of its day's partition, all under one hold of the tenant's audit
// lock, then the logs and the folders that changed are fsynced, several at
// once and each once, before it returns.
// On an error, entries may or may not have been written.
func AppendAuditBatch(d DirFS, logName string, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if !IsLiveAuditLog(logName) || strings.ContainsAny(logName, `/\`) || strings.HasPrefix(logName, ".") {
		return fmt.Errorf("audit log name %q: %w", logName, ErrBadPath)
	}
	tenant := entries[0].Row.Tenant
	lines := make([][]byte, len(entries))
	for i, e := range entries {
		line, err := auditLine(e, tenant)
		if err != nil {
			return err
		}
		lines[i] = line
	}
	release, err := d.Lock(AuditLock(tenant))
	if err != nil {
		return fmt.Errorf("lock the audit log: %w", err)
	}
	var toSync []string
	for i, e := range entries {
		dir := d.path(PartitionDir(schema.DatasetAudit, tenant, e.Day))
		var paths []string
		if paths, err = appendLine(dir, filepath.Join(dir, logName), lines[i]); err != nil {
			break
		}
		toSync = append(toSync, paths...)
	}
	if err == nil {
		err = syncPaths(toSync)
	}
	return errors.Join(err, release())
}

// auditLine validates an entry of tenant's batch and encodes it as one
// JSON line.
func auditLine(e AuditEntry, tenant string) ([]byte, error) {
	if !schema.ValidTenantID(e.Row.Tenant) || e.Row.Tenant != tenant {
		return nil, fmt.Errorf("audit entry: tenant %q: %w", e.Row.Tenant, ErrBadPath)
	}
	if _, err := time.Parse(time.DateOnly, e.Day); err != nil || len(e.Day) != len(time.DateOnly) {
		return nil, fmt.Errorf("audit entry: day %q: %w", e.Day, ErrBadPath)
	}
	line, err := json.Marshal(e.Row)
	if err != nil {
		return nil, fmt.Errorf("audit entry: %w", err)
	}
	return append(line, '\n'), nil
}

// appendLine appends line to the file name in dir (created, with its
// folders, if missing), without syncing; it returns what must be fsynced
// to make the line durable: the file, and the folders whose entries it
// changed.
func appendLine(dir, name string, line []byte) ([]string, error) {
	toSync, err := mkdirAllUnsynced(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() > 0 {
		line, err = afterNewline(f, fi.Size(), line)
	}
	if err == nil {
		_, err = f.Write(line)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		toSync = append(toSync, dir) // new (or empty) file: its name too
	}
	return append(toSync, name), nil
}

// syncers bounds the fsyncs of one batch run at once: concurrent fsyncs
// share the filesystem's journal commits.
const syncers = 8

// syncPaths fsyncs every path once, several at a time.
func syncPaths(paths []string) error {
	slices.Sort(paths)
	paths = slices.Compact(paths)
	return InParallel(len(paths), syncers, func(i int) error { return fsyncPath(paths[i]) })
}

// afterNewline prefixes line with a newline unless the file (of size
// bytes) already ends with one.
func afterNewline(f *os.File, size int64, line []byte) ([]byte, error) {
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return nil, err
	}
	if last[0] == '\n' {
		return line, nil
	}
	return append([]byte{'\n'}, line...), nil
}

// mkdirAllUnsynced makes a folder and its missing parents; it returns the
// parents whose entries changed, to fsync for the folder to survive a crash.
func mkdirAllUnsynced(dir string) ([]string, error) {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: not a directory", dir)
		}
		return nil, nil
	}
	var changed []string
	parent := filepath.Dir(dir)
	if parent != dir {
		var err error
		if changed, err = mkdirAllUnsynced(parent); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return append(changed, parent), nil
}

// fsyncPath fsyncs a file or folder.
func fsyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// ParseAuditLog reads the entries of one audit log. A line that does not
// parse (cut short by a crash while it was appended: it was never
// acknowledged) is skipped and counted.
func ParseAuditLog(r io.Reader) (rows []schema.AuditRow, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxAuditLine)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var row schema.AuditRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			skipped++
			continue
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, skipped, fmt.Errorf("read audit log: %w", err)
	}
	return rows, skipped, nil
}

// AuditPartition is what ReadAuditPartition read from one partition.
type AuditPartition struct {
	Rows []schema.AuditRow // in file order; Tenant set from the folder
	// Skipped counts log lines that did not parse.
	Skipped int
}

// ReadAuditPartition reads every entry of one audit partition (dir is
// "audit/tenant=<t>/date=<d>"): its sealed files and the logs no sealed
// file replaces. If the partition's listing changed while it was read
// (sealing or expiry ran), it is read again, so an entry is neither missed
// nor read twice. A missing partition has no entries.
func ReadAuditPartition(fsys FS, dir string) (AuditPartition, error) {
	tenant, err := auditTenant(dir)
	if err != nil {
		return AuditPartition{}, err
	}
	for range auditReadAttempts {
		before, err := auditFiles(fsys, dir)
		if err != nil {
			return AuditPartition{}, err
		}
		part, err := readAuditFiles(fsys, dir, before)
		if err != nil && !IsNotExist(err) {
			return AuditPartition{}, err
		}
		after, lerr := auditFiles(fsys, dir)
		if lerr != nil {
			return AuditPartition{}, lerr
		}
		if err == nil && slices.Equal(before, after) {
			for i := range part.Rows {
				part.Rows[i].Tenant = tenant
			}
			return part, nil
		}
	}
	return AuditPartition{}, fmt.Errorf("audit partition %s changed %d times while it was read; try again",
		dir, auditReadAttempts)
}

func auditTenant(dir string) (string, error) {
	parts := strings.Split(dir, "/")
	if len(parts) != 3 || parts[0] != schema.DatasetAudit || !strings.HasPrefix(parts[2], "date=") {
		return "", fmt.Errorf("audit partition %q: %w", dir, ErrBadPath)
	}
	tenant, ok := strings.CutPrefix(parts[1], "tenant=")
	if !ok || !schema.ValidTenantID(tenant) {
		return "", fmt.Errorf("audit partition %q: %w", dir, ErrBadPath)
	}
	return tenant, checkLakePath(dir)
}

// auditFiles lists the logs and sealed files of an audit partition, sorted.
func auditFiles(fsys FS, dir string) ([]string, error) {
	entries, err := fsys.ReadDir(dir)
	if IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && !strings.HasPrefix(n, ".") &&
			(strings.HasSuffix(n, AuditLogSuffix) || strings.HasSuffix(n, ParquetSuffix)) {
			out = append(out, n)
		}
	}
	return out, nil
}

// ReplacedAuditFiles returns the names of an audit partition's files that
// one of its sealed files replaces (they are about to be removed, or were
// left by a crash before recovery): a reader of the partition must skip
// them. Only the sealed files' footers are read.
func ReplacedAuditFiles(fsys FS, dir string) (map[string]bool, error) {
	names, err := auditFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	replaced := map[string]bool{}
	for _, n := range names {
		if !strings.HasSuffix(n, ParquetSuffix) {
			continue
		}
		from, err := sealedFrom(fsys, dir+"/"+n)
		if IsNotExist(err) {
			continue // removed while we listed
		}
		if err != nil {
			return nil, err
		}
		for _, r := range from {
			replaced[r] = true
		}
	}
	return replaced, nil
}

// sealedFrom reads the MetaSealedFrom footer of a sealed audit file.
func sealedFrom(fsys FS, name string) ([]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("read sealed audit file %s: %w", name, err)
	}
	var from []string
	if v, ok := pf.Lookup(MetaSealedFrom); ok {
		if err := json.Unmarshal([]byte(v), &from); err != nil {
			return nil, fmt.Errorf("sealed audit file %s: footer %s: %w", name, MetaSealedFrom, ErrCorrupt)
		}
	}
	return from, nil
}

// sealedAudit is one sealed file's rows and what it replaces.
type sealedAudit struct {
	rows     []schema.AuditRow
	replaces []string
}

// readAuditFiles reads the named files of a partition and keeps the rows
// of those that no sealed file among them replaces.
func readAuditFiles(fsys FS, dir string, names []string) (AuditPartition, error) {
	sealed := map[string]sealedAudit{}
	replaced := map[string]bool{}
	for _, n := range names {
		if strings.HasSuffix(n, ParquetSuffix) {
			s, err := readSealedAudit(fsys, dir+"/"+n)
			if err != nil {
				return AuditPartition{}, err
			}
			sealed[n] = s
			for _, r := range s.replaces {
				replaced[r] = true
			}
		}
	}
	var out AuditPartition
	for _, n := range names {
		switch {
		case replaced[n]:
		case strings.HasSuffix(n, ParquetSuffix):
			out.Rows = append(out.Rows, sealed[n].rows...)
		default:
			rows, skipped, err := readAuditLog(fsys, dir+"/"+n)
			if err != nil {
				return AuditPartition{}, err
			}
			out.Rows = append(out.Rows, rows...)
			out.Skipped += skipped
		}
	}
	return out, nil
}

func readAuditLog(fsys FS, name string) ([]schema.AuditRow, int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return ParseAuditLog(f)
}

// readSealedAudit reads a sealed audit file: its rows and its footer's
// list of the files it replaces.
func readSealedAudit(fsys FS, name string) (sealedAudit, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return sealedAudit{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return sealedAudit{}, err
	}
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		return sealedAudit{}, fmt.Errorf("read sealed audit file %s: %w", name, err)
	}
	var s sealedAudit
	if v, ok := pf.Lookup(MetaSealedFrom); ok {
		if err := json.Unmarshal([]byte(v), &s.replaces); err != nil {
			return sealedAudit{}, fmt.Errorf("sealed audit file %s: footer %s: %w", name, MetaSealedFrom, ErrCorrupt)
		}
	}
	s.rows, err = parquet.Read[schema.AuditRow](f, fi.Size())
	if err != nil {
		return sealedAudit{}, fmt.Errorf("read sealed audit file %s: %w", name, err)
	}
	return s, nil
}
