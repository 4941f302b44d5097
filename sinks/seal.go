package sinks

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
)

// Sealing of audit logs (seal_log.go has the protocol): each audit
// partition that has a closed log, a live log idle for
// CompactOptions.AuditIdle, or more than one sealed file, becomes one
// sealed Parquet file. Idle live logs are closed first, under the tenant's
// audit lock; then the closed logs and the sealed files are replaced
// through one journaled Rewrite per partition.

// auditNames sorts the file names of an audit partition by kind.
type auditNames struct{ live, closed, sealed []string }

func classifyAudit(names []string) auditNames {
	var a auditNames
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, ParquetSuffix):
			a.sealed = append(a.sealed, n)
		case IsLiveAuditLog(n):
			a.live = append(a.live, n)
		default:
			a.closed = append(a.closed, n)
		}
	}
	return a
}

// sealPartition closes the partition's live logs that have been idle for
// idle, then seals its closed logs and sealed files into one.
func (l *Lake) sealPartition(tenant, dir string, idle time.Duration, rep *CompactReport) error {
	a, err := l.auditNamesOf(dir)
	if err != nil {
		return err
	}
	idleLogs, err := l.idleLogs(dir, a.live, idle)
	if err != nil {
		return err
	}
	if len(idleLogs) > 0 {
		if err := l.closeAuditLogs(tenant, dir, idleLogs); err != nil {
			return fmt.Errorf("seal %s: %w", dir, err)
		}
		if a, err = l.auditNamesOf(dir); err != nil {
			return err
		}
	}
	if len(a.closed) == 0 && len(a.sealed) < 2 {
		return nil // nothing to seal, or sealed by another process meanwhile
	}
	return l.sealRewrite(tenant, dir, a, rep)
}

func (l *Lake) auditNamesOf(dir string) (auditNames, error) {
	names, err := auditFiles(l.fs, dir)
	return classifyAudit(names), err
}

// idleLogs returns the live logs not appended to for idle (every one when
// idle is negative).
func (l *Lake) idleLogs(dir string, live []string, idle time.Duration) ([]string, error) {
	if idle < 0 {
		return live, nil
	}
	var out []string
	for _, n := range live {
		fi, err := l.fs.Stat(dir + "/" + n)
		if IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if time.Since(fi.ModTime()) >= idle {
			out = append(out, n)
		}
	}
	return out, nil
}

// sealRewrite replaces the closed logs and sealed files by one sealed file.
func (l *Lake) sealRewrite(tenant, dir string, a auditNames, rep *CompactReport) error {
	plan, rows, err := l.sealPlan(dir, a)
	if IsNotExist(err) {
		rep.Skipped++ // a file went while it was read: sealed elsewhere
		return nil
	}
	if err != nil {
		return fmt.Errorf("seal %s: %w", dir, err)
	}
	err = l.Rewrite(tenant, plan)
	if errors.Is(err, ErrRewriteConflict) {
		l.log.Info("audit partition changed during sealing; skipped", "partition", dir, "error", err)
		rep.Skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("seal %s: %w", dir, err)
	}
	rep.AuditPartitions++
	rep.AuditFilesIn += len(plan.Remove)
	rep.AuditFilesOut += len(plan.Add)
	rep.AuditRows += rows
	return nil
}

// closeAuditLogs renames live logs to closed names under the tenant's audit
// lock (so no append is in progress or can follow) and makes the renames
// durable before the lock is released.
func (l *Lake) closeAuditLogs(tenant, dir string, live []string) (err error) {
	release, err := l.fs.Lock(AuditLock(tenant))
	if err != nil {
		return fmt.Errorf("lock the audit log: %w", err)
	}
	defer func() { err = errors.Join(err, release()) }()
	id := NewFlushID()
	renamed := 0
	for _, n := range live {
		err := l.fs.Rename(dir+"/"+n, dir+"/"+closedLogPrefix+id+"-"+n)
		if IsNotExist(err) {
			continue // closed by another process, or the partition expired
		}
		if err != nil {
			return fmt.Errorf("close audit log %s: %w", n, err)
		}
		renamed++
	}
	if renamed == 0 {
		return nil
	}
	if err := l.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("close audit logs: sync %s: %w", dir, err)
	}
	return nil
}

// sealPlan reads the closed logs and sealed files of a partition and plans
// their replacement by one sealed file whose footer names them all. It
// returns the plan and the number of entries sealed.
func (l *Lake) sealPlan(dir string, a auditNames) (RewritePlan, int, error) {
	from := append(slices.Clone(a.closed), a.sealed...)
	slices.Sort(from)
	part, err := readAuditFiles(l.fs, dir, from)
	if err != nil {
		return RewritePlan{}, 0, err
	}
	if part.Skipped > 0 {
		l.log.Warn("audit lines that do not parse are left out of the sealed file", "partition", dir,
			"lines", part.Skipped)
	}
	plan := RewritePlan{Reason: "seal audit"}
	for _, n := range from {
		plan.Remove = append(plan.Remove, dir+"/"+n)
	}
	rows := part.Rows
	if len(rows) == 0 {
		return plan, 0, nil // nothing readable: the files only go
	}
	slices.SortStableFunc(rows, func(x, y schema.AuditRow) int {
		return cmp.Or(strings.Compare(x.InquiryID, y.InquiryID), x.Time.Compare(y.Time))
	})
	sealedFrom, err := json.Marshal(from)
	if err != nil {
		return RewritePlan{}, 0, err
	}
	id := NewRewriteID()
	plan.Add = []NewFile{{Name: dir + "/" + id + ParquetSuffix, Write: func(w io.Writer) error {
		return WriteParquet(w, schema.DatasetAudit, id, rows, parquet.KeyValueMetadata(MetaSealedFrom, string(sealedFrom)))
	}}}
	return plan, len(rows), nil
}
