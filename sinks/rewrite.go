package sinks

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

// Folders of the rewrite machinery under the lake's root.
const (
	RewriteDir = MetaDir + "/rewrites"
	LockDir    = MetaDir + "/locks"
)

// Rewrite journal states.
const (
	RewritePending   = "pending"
	RewriteCommitted = "committed"
)

// Errors of a rewrite that callers tell apart.
var (
	// ErrRewriteConflict: a file the plan removes is gone, or a file it adds
	// already exists, once the tenant's lock is held: another rewrite or an
	// expiry got there first. Re-read the lake and plan again.
	ErrRewriteConflict = errors.New("the files of a rewrite changed under it; plan it again")
	// ErrRewriteIncomplete: the rewrite is committed (the new files are the
	// lake's state) but some old files could not be deleted yet. Their bytes
	// are still on disk until RecoverRewrites (or the next rewrite of the
	// tenant) finishes the journal.
	ErrRewriteIncomplete = errors.New("rewrite committed but old files not yet deleted; run recovery")
	// ErrFlushInFlight: a file the plan removes belongs to a flush that is
	// not committed; ingest's recovery decides its fate first.
	ErrFlushInFlight = errors.New("a file to rewrite belongs to an uncommitted flush; retry after ingest recovers")
)

// NewFile is one file a rewrite adds: Write produces its whole content.
type NewFile struct {
	Name  string
	Write func(w io.Writer) error
}

// RewritePlan replaces files of one tenant: every file of Remove is deleted
// and every file of Add appears, as one atomic step. Add names must be new
// (not in the lake and not in Remove): make them with NewRewriteID. A plan
// may only add (Remove empty) or only remove (Add empty).
type RewritePlan struct {
	// Reason is logged and journaled: "content delete", "anonymise",
	// "compact". It must not hold personal data.
	Reason string
	Remove []string
	Add    []NewFile
}

// RewriteRecord is the journal of one rewrite, _arkiv/rewrites/<id>.json:
//
//  1. Begin: the record is written with State pending, listing both sides,
//     under the tenant's lock, before any new file exists.
//  2. The new files are published (each atomically) under their final
//     names, and made durable by one sync of the filesystem.
//  3. Commit: the record is rewritten with State committed. This rename is
//     the commit point: before it the old files are the lake's state, after
//     it the new ones.
//  4. The old files are deleted (and their folders fsynced), then the
//     record is removed.
//
// Recovery rolls a pending record back (its new files are deleted) and a
// committed one forward (its old files are deleted). Between steps 2 and 4
// readers may see both the old and the new files; the rows of a new file
// are a subset or a collapse of the old ones, and readers collapse
// duplicates, so answers do not change, except that the rewritten rows may
// be visible until step 4 ends.
type RewriteRecord struct {
	ID     string    `json:"id"`
	Tenant string    `json:"tenant"`
	Reason string    `json:"reason"`
	State  string    `json:"state"`
	Remove []string  `json:"remove"`
	Add    []string  `json:"add"`
	Begun  time.Time `json:"begun"`
}

// NewRewriteID returns a fresh, sortable rewrite id; use it in the names of
// a rewrite's new files ("rw-<id>.parquet") so they never collide with a
// flush's files or another rewrite's.
func NewRewriteID() string { return "rw-" + NewFlushID() }

// TenantLock is the lock file rewriters of one tenant serialise on.
func TenantLock(tenant string) string { return LockDir + "/tenant-" + tenant + ".lock" }

// Rewrite replaces files of one tenant's partitions crash-safely (see
// RewriteRecord). It takes the tenant's rewrite lock, waiting for other
// rewriters of the tenant (ingest never takes it); it first finishes any
// journal of the tenant that a dead rewriter left.
//
// If Rewrite returns nil, the new files are durable and the old files'
// bytes are deleted. If it returns an error, the lake is consistently in the
// old state (rolled back; the usual case) or the new one (the commit
// happened but could not be confirmed); with ErrRewriteIncomplete it is in
// the new state and some old files await deletion by recovery. A crash at
// any point leaves a journal that RecoverRewrites completes or rolls back.
func (l *Lake) Rewrite(tenant string, plan RewritePlan) error {
	rec, err := l.checkPlan(tenant, plan)
	if err != nil {
		return err
	}
	release, err := l.lockTenant(tenant)
	if err != nil {
		return err
	}
	defer release()
	if err := l.recoverTenant(tenant); err != nil {
		return err
	}
	if err := l.checkPlanUnderLock(&plan); err != nil {
		return err
	}
	return l.runRewrite(rec, plan)
}

func (l *Lake) runRewrite(rec *RewriteRecord, plan RewritePlan) error {
	rec.State, rec.Begun = RewritePending, time.Now().UTC()
	if err := l.writeRewriteRecord(rec); err != nil {
		return fmt.Errorf("begin rewrite %s: %w", rec.ID, err)
	}
	if err := l.publishAll(plan.Add); err != nil {
		return errors.Join(fmt.Errorf("rewrite %s: %w", rec.ID, err), l.rollbackRewrite(rec))
	}
	rec.State = RewriteCommitted
	if err := l.writeRewriteRecord(rec); err != nil {
		// The record may or may not have become committed: only a
		// re-read tells, and recovery does exactly that.
		return errors.Join(fmt.Errorf("commit rewrite %s: %w", rec.ID, err), l.recoverTenant(rec.Tenant))
	}
	if err := l.finishRewrite(rec); err != nil {
		return fmt.Errorf("%w: %w", ErrRewriteIncomplete, err)
	}
	l.log.Info("rewrote files", "rewrite", rec.ID, "tenant", rec.Tenant, "reason", rec.Reason,
		"removed", len(rec.Remove), "added", len(rec.Add))
	return nil
}

// publishAll puts the new files of a rewrite in place and makes them
// durable with one sync of the filesystem, as a flush does, instead of a
// file and a folder fsync each: until the journal commits, only the
// journal names them.
func (l *Lake) publishAll(files []NewFile) error {
	for _, f := range files {
		if err := l.PublishUnsynced(f.Name, f.Write); err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return nil
	}
	if err := l.fs.SyncAll(); err != nil {
		return fmt.Errorf("sync the new files: %w", err)
	}
	return nil
}

// checkPlan validates a plan's paths: every file lies in a partition folder
// of the tenant, and the names of both sides are distinct.
func (l *Lake) checkPlan(tenant string, plan RewritePlan) (*RewriteRecord, error) {
	if !schema.ValidTenantID(tenant) {
		return nil, fmt.Errorf("rewrite: tenant %q: %w", tenant, ErrBadPath)
	}
	if len(plan.Remove) == 0 && len(plan.Add) == 0 {
		return nil, errors.New("rewrite: the plan is empty")
	}
	rec := &RewriteRecord{ID: NewRewriteID(), Tenant: tenant, Reason: plan.Reason,
		Remove: slices.Clone(plan.Remove), Add: []string{}}
	for _, f := range plan.Add {
		if f.Write == nil {
			return nil, fmt.Errorf("rewrite: %s has no writer", f.Name)
		}
		rec.Add = append(rec.Add, f.Name)
	}
	seen := map[string]bool{}
	for _, name := range append(slices.Clone(rec.Remove), rec.Add...) {
		if err := checkTenantFile(tenant, name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("rewrite: %s is named twice in the plan: %w", name, ErrBadPath)
		}
		seen[name] = true
	}
	return rec, nil
}

// checkTenantFile accepts "<dataset>/tenant=<t>/date=<d>/<file>" of the
// tenant, and nothing under _arkiv.
func checkTenantFile(tenant, name string) error {
	if err := checkLakePath(name); err != nil {
		return err
	}
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] == MetaDir || parts[1] != "tenant="+tenant ||
		!strings.HasPrefix(parts[2], "date=") {
		return fmt.Errorf("rewrite: %s is not a file of tenant %s: %w", name, tenant, ErrBadPath)
	}
	return nil
}

// checkPlanUnderLock: the old files still exist, the new ones do not yet,
// and no old file is named by an uncommitted flush. Files of the lake are
// immutable, so a plan made from files that still exist is still right.
func (l *Lake) checkPlanUnderLock(plan *RewritePlan) error {
	for _, name := range plan.Remove {
		if _, err := l.fs.Stat(name); err != nil {
			if IsNotExist(err) {
				return fmt.Errorf("rewrite: %s is gone: %w", name, ErrRewriteConflict)
			}
			return fmt.Errorf("rewrite: %w", err)
		}
	}
	for _, f := range plan.Add {
		if _, err := l.fs.Stat(f.Name); err == nil {
			return fmt.Errorf("rewrite: %s exists already: %w", f.Name, ErrRewriteConflict)
		} else if !IsNotExist(err) {
			return fmt.Errorf("rewrite: %w", err)
		}
	}
	flushes, err := l.ListFlushes()
	if err != nil {
		return err
	}
	for _, fl := range flushes {
		if fl.State == FlushCommitted {
			continue
		}
		for _, name := range plan.Remove {
			if slices.Contains(fl.Files, name) {
				return fmt.Errorf("rewrite: %s (flush %s): %w", name, fl.ID, ErrFlushInFlight)
			}
		}
	}
	return nil
}

func (l *Lake) lockTenant(tenant string) (func() error, error) {
	release, err := l.fs.Lock(TenantLock(tenant))
	if err != nil {
		return nil, fmt.Errorf("lock tenant %s for a rewrite: %w", tenant, err)
	}
	return release, nil
}

func (l *Lake) writeRewriteRecord(rec *RewriteRecord) error {
	return rewriteJournal.write(l, rec.ID, rec)
}

// rollbackRewrite deletes a pending rewrite's new files, then its record.
func (l *Lake) rollbackRewrite(rec *RewriteRecord) error {
	if err := rewriteJournal.remove(l, "roll back", rec.ID, rec.Add); err != nil {
		return err
	}
	l.log.Info("rolled back an uncommitted rewrite", "rewrite", rec.ID, "tenant", rec.Tenant,
		"reason", rec.Reason, "files", len(rec.Add))
	return nil
}

// finishRewrite deletes a committed rewrite's old files, then its record.
func (l *Lake) finishRewrite(rec *RewriteRecord) error {
	return rewriteJournal.remove(l, "finish", rec.ID, rec.Remove)
}

// RecoverRewrites finishes every journaled rewrite: committed ones are
// rolled forward (their old files deleted), pending ones rolled back (their
// new files deleted). It takes each tenant's lock, so a rewrite running in
// another process is waited for, never undone. Call it at start of every
// process that rewrites, and of `arkiv` maintenance commands.
func (l *Lake) RecoverRewrites() error {
	recs, err := l.ListRewrites()
	if err != nil {
		return err
	}
	var tenants []string
	for _, rec := range recs {
		if !slices.Contains(tenants, rec.Tenant) {
			tenants = append(tenants, rec.Tenant)
		}
	}
	for _, t := range tenants {
		release, err := l.lockTenant(t)
		if err != nil {
			return err
		}
		err = l.recoverTenant(t)
		if rerr := release(); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// recoverTenant finishes the journals of one tenant; the caller holds the
// tenant's lock. Journals are re-read here, under the lock.
func (l *Lake) recoverTenant(tenant string) error {
	recs, err := l.ListRewrites()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Tenant != tenant {
			continue
		}
		if rec.State == RewriteCommitted {
			err = l.finishRewrite(rec)
			if err == nil {
				l.log.Info("finished a committed rewrite", "rewrite", rec.ID, "tenant", tenant, "reason", rec.Reason)
			}
		} else {
			err = l.rollbackRewrite(rec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ListRewrites returns the journaled rewrites, oldest first. A journal that
// does not parse is an error (ErrCorrupt), never skipped: it may name bytes
// that must be deleted.
func (l *Lake) ListRewrites() ([]*RewriteRecord, error) {
	return readJournal(l, rewriteJournal, func(file string, rec *RewriteRecord) error {
		if rewriteJournal.path(rec.ID) != RewriteDir+"/"+file {
			return fmt.Errorf("rewrite journal %s: %w", file, ErrCorrupt)
		}
		if err := checkRecord(rec); err != nil {
			return fmt.Errorf("rewrite journal %s: %w: %w", file, ErrCorrupt, err)
		}
		return nil
	})
}

// checkRecord refuses a journal whose paths are not the tenant's files:
// recovery deletes what a journal names.
func checkRecord(rec *RewriteRecord) error {
	if !schema.ValidTenantID(rec.Tenant) {
		return ErrBadPath
	}
	for _, name := range append(slices.Clone(rec.Remove), rec.Add...) {
		if err := checkTenantFile(rec.Tenant, name); err != nil {
			return err
		}
	}
	return nil
}
