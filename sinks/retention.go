package sinks

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
)

// Retention expiry (SPEC R-R1..R-R3) drops whole date= partitions: its cost
// grows with the number of partitions (and files in them), never with rows.
//
// A partition of day D of a class with retention N days is expired when
//
//	D < today - N days
//
// where today is the UTC day of now. So the oldest day kept is today - N and
// N+1 days are kept, today included: with general 180d on 2026-11-28 the
// oldest day kept is 2026-06-01 and 2026-05-31 is dropped. Recordings and
// chat logs never outlive general information: their retention is capped at
// the general one. Surveys and audit entries are general information
// (audit partitions are keyed by their inquiry's day, so they go with it).
//
// Removal is crash-safe without a journal. Each partition is renamed into
// _arkiv/trash under its tenant's lock (atomic; made durable by a syncfs
// before the lock is released): that rename is the commit point, and
// whatever is in the trash is gone logically, since nothing reads it. Then
// the trash entry is removed. A crash between the two leaves debris
// that SweepTrash removes on the next start. Nothing that may be needed
// again may ever be put into the trash.

// TrashDir holds partitions being removed: logically gone, swept at start.
const TrashDir = MetaDir + "/trash"

// Retention classes.
const (
	ClassGeneral    = "general"
	ClassRecordings = "recordings"
	ClassChatlogs   = "chatlogs"
)

// ErrBadRetention is returned when a policy has a retention below one day:
// expiry refuses to run rather than drop everything.
var ErrBadRetention = errors.New("retention must be at least 1 day")

// expiryDatasets lists every dataset with its class, in the order one day's
// partitions are dropped: content before general information (the most
// sensitive bytes go first), a recording's metadata before its bytes (no
// row points to missing media), audit entries last (they never disappear
// before their inquiry does).
var expiryDatasets = []struct{ dataset, class string }{
	{schema.DatasetRecordings, ClassRecordings},
	{MediaDataset, ClassRecordings},
	{schema.DatasetChatlogs, ClassChatlogs},
	{schema.DatasetSurveys, ClassGeneral},
	{schema.DatasetInquiries, ClassGeneral},
	{schema.DatasetAudit, ClassGeneral},
}

var classes = []string{ClassGeneral, ClassRecordings, ClassChatlogs}

// ExpiryPlan is what expiry drops at one instant: per tenant and class, the
// expired partitions. ApplyExpiry marks the ones it dropped.
type ExpiryPlan struct {
	Now     time.Time
	Today   string         // UTC day of Now, YYYY-MM-DD
	Tenants []TenantExpiry // sorted by tenant
	Skipped []SkippedEntry // entries expiry does not touch
	// Committed is when ApplyExpiry had made every drop durable (every
	// dropped partition unreachable); removing the bytes from the trash
	// follows.
	Committed time.Time
}

// TenantExpiry is one tenant's part of a plan.
type TenantExpiry struct {
	Tenant  string
	Classes []ClassExpiry // general, recordings, chatlogs
}

// ClassExpiry is one class of one tenant: its effective retention and the
// partitions older than it.
type ClassExpiry struct {
	Class      string
	Days       int    // effective retention (capped at general's)
	OldestKept string // today - Days: the oldest day kept
	Partitions []ExpiredPartition
}

// ExpiredPartition is one date= folder to drop.
type ExpiredPartition struct {
	Dataset string
	Day     string
	Dir     string // lake path: <dataset>/tenant=<t>/date=<day>
	Files   int
	Bytes   int64
	Dropped bool // set by ApplyExpiry once the partition is gone
}

// SkippedEntry is a name in a dataset folder that expiry leaves alone
// because it is not a tenant=<id>/date=YYYY-MM-DD folder.
type SkippedEntry struct {
	Path   string
	Reason string
}

// Reasons for skipping an entry.
const (
	SkipSymlink   = "symbolic link: not followed"
	SkipNotDir    = "not a directory"
	SkipBadTenant = "not tenant=<valid tenant id>"
	SkipBadDate   = "not date=YYYY-MM-DD"
)

// Cutoff returns the oldest day kept of a retention of days at now: the UTC
// day of now minus days. Every partition of an earlier day is expired, so
// days+1 days are kept, today's included. With 180 days at any instant of
// 2026-11-28 UTC the cutoff is 2026-06-01: 2026-06-01 is kept and
// 2026-05-31 is dropped.
func Cutoff(now time.Time, days int) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -days)
}

// PlanExpiry lists, without changing anything, every partition that is
// expired at now under the tenants' policies. Every tenant that has a
// folder in any dataset is planned; policyOf gives its policy (a tenant
// missing from the configuration gets the defaults: config.Config.Policy
// does that).
func (l *Lake) PlanExpiry(now time.Time, policyOf func(tenant string) config.Policy) (*ExpiryPlan, error) {
	return PlanExpiryFS(l.fs, now, policyOf)
}

// PlanExpiryFS is PlanExpiry on a filesystem without opening a lake on it,
// so that a dry run writes nothing at all (not even a tmp folder).
func PlanExpiryFS(fsys FS, now time.Time, policyOf func(tenant string) config.Policy) (*ExpiryPlan, error) {
	plan := &ExpiryPlan{Now: now, Today: Cutoff(now, 0).Format(time.DateOnly)}
	found, err := scanPartitions(fsys, plan)
	if err != nil {
		return nil, err
	}
	tenants := make([]string, 0, len(found))
	for t := range found {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		te, err := planTenant(fsys, t, found[t], now, policyOf(t))
		if err != nil {
			return nil, err
		}
		plan.Tenants = append(plan.Tenants, te)
	}
	return plan, nil
}

// partitionRef is one valid date= folder found by the scan.
type partitionRef struct {
	dataset, class string
	day            time.Time
}

// scanPartitions lists the date= folders of every tenant of every dataset,
// reporting (and leaving alone) every other name.
func scanPartitions(fsys FS, plan *ExpiryPlan) (map[string][]partitionRef, error) {
	found := map[string][]partitionRef{}
	root, err := fsys.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("list lake: %w", err)
	}
	for _, ds := range expiryDatasets {
		i := slices.IndexFunc(root, func(e fs.DirEntry) bool { return e.Name() == ds.dataset })
		if i < 0 || !plainDir(plan, ds.dataset, root[i]) {
			continue
		}
		if err := scanDataset(fsys, plan, ds.dataset, ds.class, found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

func scanDataset(fsys FS, plan *ExpiryPlan, dataset, class string, found map[string][]partitionRef) error {
	tenants, err := readDirIfExists(fsys, dataset)
	if err != nil {
		return err
	}
	for _, te := range tenants {
		dir := dataset + "/" + te.Name()
		if !plainDir(plan, dir, te) {
			continue
		}
		tenant, ok := strings.CutPrefix(te.Name(), "tenant=")
		if !ok || !schema.ValidTenantID(tenant) {
			plan.Skipped = append(plan.Skipped, SkippedEntry{dir, SkipBadTenant})
			continue
		}
		days, err := readDirIfExists(fsys, dir)
		if err != nil {
			return err
		}
		if _, seen := found[tenant]; !seen {
			found[tenant] = nil // a tenant with no partitions is still planned
		}
		for _, de := range days {
			if !plainDir(plan, dir+"/"+de.Name(), de) {
				continue
			}
			day, ok := parseDateDir(de.Name())
			if !ok {
				plan.Skipped = append(plan.Skipped, SkippedEntry{dir + "/" + de.Name(), SkipBadDate})
				continue
			}
			found[tenant] = append(found[tenant], partitionRef{dataset, class, day})
		}
	}
	return nil
}

// plainDir reports whether e is a directory that is not a symbolic link,
// recording it as skipped otherwise.
func plainDir(plan *ExpiryPlan, name string, e fs.DirEntry) bool {
	switch {
	case e.Type()&fs.ModeSymlink != 0:
		plan.Skipped = append(plan.Skipped, SkippedEntry{name, SkipSymlink})
	case !e.IsDir():
		plan.Skipped = append(plan.Skipped, SkippedEntry{name, SkipNotDir})
	default:
		return true
	}
	return false
}

func readDirIfExists(fsys FS, dir string) ([]fs.DirEntry, error) {
	entries, err := fsys.ReadDir(dir)
	if IsNotExist(err) {
		return nil, nil // removed meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return entries, nil
}

// parseDateDir accepts exactly date=YYYY-MM-DD of a real calendar day.
func parseDateDir(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "date=")
	if !ok {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		return time.Time{}, false
	}
	return d, true
}

// retentionDays returns the effective retention of each class: recordings
// and chat logs capped at general information's.
func retentionDays(p config.Policy) (map[string]int, error) {
	days := map[string]int{ClassGeneral: int(p.General),
		ClassRecordings: min(int(p.Recordings), int(p.General)),
		ClassChatlogs:   min(int(p.Chatlogs), int(p.General))}
	for _, c := range classes {
		if days[c] < 1 {
			return nil, fmt.Errorf("tenant %s: %s retention %dd: %w (check the configuration)", p.Tenant, c, days[c], ErrBadRetention)
		}
	}
	return days, nil
}

func planTenant(fsys FS, tenant string, refs []partitionRef, now time.Time, p config.Policy) (TenantExpiry, error) {
	p.Tenant = tenant
	days, err := retentionDays(p)
	if err != nil {
		return TenantExpiry{}, err
	}
	te := TenantExpiry{Tenant: tenant}
	for _, c := range classes {
		cutoff := Cutoff(now, days[c])
		ce := ClassExpiry{Class: c, Days: days[c], OldestKept: cutoff.Format(time.DateOnly)}
		for _, r := range refs {
			if r.class != c || !r.day.Before(cutoff) {
				continue
			}
			day := r.day.Format(time.DateOnly)
			part := ExpiredPartition{Dataset: r.dataset, Day: day, Dir: PartitionDir(r.dataset, tenant, day)}
			if part.Files, part.Bytes, err = treeSize(fsys, part.Dir); err != nil {
				return TenantExpiry{}, err
			}
			ce.Partitions = append(ce.Partitions, part)
		}
		slices.SortFunc(ce.Partitions, comparePartitions)
		te.Classes = append(te.Classes, ce)
	}
	return te, nil
}

// comparePartitions orders by day, then by the dataset drop order.
func comparePartitions(a, b ExpiredPartition) int {
	if c := strings.Compare(a.Day, b.Day); c != 0 {
		return c
	}
	return datasetRank(a.Dataset) - datasetRank(b.Dataset)
}

func datasetRank(dataset string) int {
	return slices.IndexFunc(expiryDatasets, func(d struct{ dataset, class string }) bool { return d.dataset == dataset })
}

// treeSize counts the regular files below dir and their bytes, without
// following symbolic links. Only the listing is read, never the files.
func treeSize(fsys FS, dir string) (files int, bytes int64, err error) {
	entries, err := readDirIfExists(fsys, dir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		switch {
		case e.Type()&fs.ModeSymlink != 0:
		case e.IsDir():
			f, b, err := treeSize(fsys, dir+"/"+e.Name())
			if err != nil {
				return 0, 0, err
			}
			files, bytes = files+f, bytes+b
		case e.Type().IsRegular():
			info, err := e.Info()
			if IsNotExist(err) {
				continue
			}
			if err != nil {
				return 0, 0, fmt.Errorf("size of %s: %w", dir, err)
			}
			files, bytes = files+1, bytes+info.Size()
		}
	}
	return files, bytes, nil
}

// ApplyExpiry drops the plan's partitions and marks each one dropped once
// its rename into the trash has succeeded. A partition already gone
// (dropped by another process) is not marked. On an error the partitions
// marked are gone (their trash entries may remain until SweepTrash); the
// others are untouched.
//
// A tenant's partitions are renamed while its lock is held, and the lock is
// released only once the renames are durable, so a rewriter that takes the
// lock next never sees a partition that a crash could bring back. To pay
// for one sync of the filesystem rather than one per tenant, the locks
// of consecutive tenants are held together (taken in tenant order, so two
// expiries cannot deadlock) until a lock is busy or the plan ends; expiry
// never holds locks while it waits for one.
func (l *Lake) ApplyExpiry(plan *ExpiryPlan) (err error) {
	if !plan.hasPartitions() {
		return nil
	}
	if err := l.makeTrash(); err != nil {
		return err
	}
	b := &expiryBatch{l: l, runID: NewFlushID(), parents: map[string]bool{}}
	defer func() { err = errors.Join(err, b.releaseAll()) }()
	for i := range plan.Tenants {
		if err := b.add(&plan.Tenants[i]); err != nil {
			return err
		}
	}
	if err := b.commit(); err != nil {
		return err
	}
	plan.Committed = time.Now()
	return l.emptyTrash(b.trashed)
}

// expiryBatch is the tenants whose partitions are in the trash but whose
// locks are still held until the renames are made durable.
type expiryBatch struct {
	l        *Lake
	runID    string
	releases []func() error
	parents  map[string]bool // folders renamed out of (a sync is due when any)
	trashed  []string        // trash entries to remove once committed
}

func (b *expiryBatch) add(te *TenantExpiry) error {
	parts := te.partitions()
	if len(parts) == 0 {
		return nil
	}
	lock := TenantLock(te.Tenant) // the lock rewrites take
	release, err := b.l.fs.TryLock(lock)
	if errors.Is(err, ErrLocked) {
		if err := b.commit(); err != nil {
			return err
		}
		release, err = b.l.fs.Lock(lock)
	}
	if err != nil {
		return fmt.Errorf("lock tenant %s: %w", te.Tenant, err)
	}
	b.releases = append(b.releases, release)
	for _, p := range parts {
		if err := b.trash(te.Tenant, p); err != nil {
			return err
		}
	}
	return nil
}

// trash moves one partition into the trash: the commit point of its drop.
func (b *expiryBatch) trash(tenant string, p classPartition) error {
	name := TrashDir + "/" + b.runID + "-" + p.part.Dataset + "." + tenant + "." + p.part.Day
	b.l.log.Info("dropping expired partition", "tenant", tenant, "class", p.class.Class,
		"dataset", p.part.Dataset, "day", p.part.Day, "retention_days", p.class.Days,
		"oldest_kept", p.class.OldestKept, "files", p.part.Files, "bytes", p.part.Bytes)
	err := b.l.fs.Rename(p.part.Dir, name)
	if IsNotExist(err) {
		return nil // dropped by another process meanwhile
	}
	if err != nil {
		return fmt.Errorf("move expired partition %s to trash: %w", p.part.Dir, err)
	}
	p.part.Dropped = true
	b.trashed = append(b.trashed, name)
	b.parents[parentDir(p.part.Dir)] = true
	return nil
}

// commit makes the batch's renames durable, then releases its locks.
func (b *expiryBatch) commit() error {
	if len(b.parents) > 0 {
		if err := b.l.syncDirs(b.parents); err != nil {
			return err
		}
		clear(b.parents)
	}
	return b.releaseAll()
}

func (b *expiryBatch) releaseAll() error {
	var errs []error
	for _, release := range b.releases {
		errs = append(errs, release())
	}
	b.releases = nil
	return errors.Join(errs...)
}

func (p *ExpiryPlan) hasPartitions() bool {
	for _, te := range p.Tenants {
		for _, ce := range te.Classes {
			if len(ce.Partitions) > 0 {
				return true
			}
		}
	}
	return false
}

// makeTrash creates the trash folder durably before anything is moved in.
func (l *Lake) makeTrash() error {
	if _, err := l.fs.Stat(TrashDir); err == nil {
		return nil
	}
	if err := l.fs.MkdirAll(TrashDir); err != nil {
		return fmt.Errorf("create trash: %w", err)
	}
	if err := l.fs.SyncDir(MetaDir); err != nil {
		return fmt.Errorf("create trash: sync %s: %w", MetaDir, err)
	}
	return nil
}

type classPartition struct {
	class *ClassExpiry
	part  *ExpiredPartition
}

// partitions returns the tenant's partitions in drop order: oldest day
// first, each day in the dataset drop order.
func (te *TenantExpiry) partitions() []classPartition {
	var out []classPartition
	for i := range te.Classes {
		ce := &te.Classes[i]
		for j := range ce.Partitions {
			out = append(out, classPartition{ce, &ce.Partitions[j]})
		}
	}
	slices.SortStableFunc(out, func(a, b classPartition) int { return comparePartitions(*a.part, *b.part) })
	return out
}

// syncDirs makes the renames durable: the folders they left and the trash.
// One syncfs(2) of the lake's filesystem commits them all in one journal
// commit; a directory fsync each costs a disk cache flush per folder (500
// folders for one day of 100 tenants).
func (l *Lake) syncDirs(parents map[string]bool) error {
	if err := l.fs.SyncAll(); err != nil {
		return fmt.Errorf("sync the lake after moving %d partitions to trash: %w", len(parents), err)
	}
	return nil
}

// trashRemovers is how many trash entries are removed at once: unlinking
// waits on the filesystem more than on the CPU, and entries are separate
// folders.
const trashRemovers = 8

func (l *Lake) emptyTrash(names []string) error {
	if len(names) == 0 {
		return nil
	}
	err := InParallel(len(names), trashRemovers, func(i int) error {
		if err := l.fs.RemoveAll(names[i]); err != nil {
			return fmt.Errorf("remove trash entry %s: %w", names[i], err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := l.fs.SyncDir(TrashDir); err != nil {
		return fmt.Errorf("sync trash: %w", err)
	}
	return nil
}

func parentDir(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}

// SweepTrash removes whatever is left in the trash: partitions whose drop
// was interrupted after its commit point. Every process that opens the lake
// for writing should call it at start (Open does not yet). It is safe to run
// while another process drops partitions: trash entries are never read.
func (l *Lake) SweepTrash() error {
	entries, err := l.fs.ReadDir(TrashDir)
	if IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list trash: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, TrashDir+"/"+e.Name())
	}
	if len(names) > 0 {
		l.log.Info("removing partitions left in the trash by an interrupted expiry", "entries", len(names))
	}
	return l.emptyTrash(names)
}

// Expire is one expiry run, as `arkiv expire` and a nightly job do it: the
// trash of interrupted runs is swept, the plan is made from the policies
// as they are now (so a shortened retention applies to old data too) and
// applied. With dryRun nothing is changed and the plan says what would be
// dropped.
func (l *Lake) Expire(now time.Time, policyOf func(tenant string) config.Policy, dryRun bool) (*ExpiryPlan, error) {
	if !dryRun {
		if err := l.SweepTrash(); err != nil {
			return nil, err
		}
	}
	plan, err := l.PlanExpiry(now, policyOf)
	if err != nil || dryRun {
		return plan, err
	}
	for _, s := range plan.Skipped {
		l.log.Warn("expiry leaves an unexpected entry alone", "path", s.Path, "reason", s.Reason)
	}
	return plan, l.ApplyExpiry(plan)
}
