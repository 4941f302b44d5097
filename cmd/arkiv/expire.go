package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/sinks"
)

func runExpire(_ context.Context, e *env, args []string) error {
	fs := newFlags("expire", e)
	lf := addLakeFlags(fs)
	nowFlag := fs.String("now", "", "expire as of this instant (RFC 3339; default: the current time)")
	dryRun := fs.Bool("dry-run", false, "print what would be dropped and change nothing")
	format := fs.String("format", "table", "output: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := lf.dir(); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageError("--format %q: want table or json", *format)
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, *nowFlag)
		if err != nil {
			return usageError("--now %q: want a time like 2026-11-28T02:00:00Z", *nowFlag)
		}
		now = t
	}
	lakeDir, cfg, err := lf.load()
	if err != nil {
		return err
	}
	plan, err := withProgress(e, "expiring", func() (*sinks.ExpiryPlan, error) {
		return Expire(lakeDir, cfg, now, *dryRun, e.log)
	})
	if plan != nil {
		rep := newExpiryReport(plan, *dryRun)
		var werr error
		if *format == "json" {
			werr = writeExpiryJSON(e.stdout, rep)
		} else {
			werr = writeExpiryTable(e.stdout, rep)
		}
		if err == nil {
			err = werr
		}
	}
	return err
}

// Expire runs retention expiry on the lake in dir with the retention of cfg
// as it is now: the trash of an interrupted run is swept, then every
// partition older than its tenant's retention is dropped (dryRun: nothing
// changes, not even a tmp folder). `arkiv serve` calls it nightly. The plan
// is returned even with an error, marking what was dropped.
func Expire(dir string, cfg *config.Config, now time.Time, dryRun bool, log *slog.Logger) (*sinks.ExpiryPlan, error) {
	if fi, err := os.Stat(filepath.Join(dir, sinks.MetaDir)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a lake (no %s folder): check --lake", dir, sinks.MetaDir)
	}
	if dryRun {
		return sinks.PlanExpiryFS(sinks.DirFS{Root: dir}, now, cfg.Policy)
	}
	lake, err := sinks.OpenDir(dir, log)
	if err != nil {
		return nil, err
	}
	plan, err := lake.Expire(now, cfg.Policy, false)
	if cerr := lake.Close(); err == nil {
		err = cerr
	}
	return plan, err
}

// expiryReport is what `arkiv expire` prints: per tenant and class, the
// days and bytes dropped (or, in a dry run, that would be).
type expiryReport struct {
	Now     time.Time            `json:"now"`
	Today   string               `json:"today"`
	DryRun  bool                 `json:"dry_run"`
	Tenants []expiryTenantReport `json:"tenants"`
	Skipped []expirySkipped      `json:"skipped"`
	Total   expiryTotal          `json:"total"`
}

type expiryTenantReport struct {
	Tenant  string              `json:"tenant"`
	Classes []expiryClassReport `json:"classes"`
}

type expiryClassReport struct {
	Class         string   `json:"class"`
	RetentionDays int      `json:"retention_days"`
	OldestKept    string   `json:"oldest_kept"`
	Days          []string `json:"days"`
	Partitions    int      `json:"partitions"`
	Files         int      `json:"files"`
	Bytes         int64    `json:"bytes"`
}

type expirySkipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

type expiryTotal struct {
	Partitions int   `json:"partitions"`
	Files      int   `json:"files"`
	Bytes      int64 `json:"bytes"`
}

func newExpiryReport(plan *sinks.ExpiryPlan, dryRun bool) expiryReport {
	rep := expiryReport{Now: plan.Now.UTC(), Today: plan.Today, DryRun: dryRun,
		Tenants: []expiryTenantReport{}, Skipped: []expirySkipped{}}
	for _, te := range plan.Tenants {
		tr := expiryTenantReport{Tenant: te.Tenant}
		for _, ce := range te.Classes {
			cr := expiryClassReport{Class: ce.Class, RetentionDays: ce.Days, OldestKept: ce.OldestKept, Days: []string{}}
			for _, p := range ce.Partitions {
				if !dryRun && !p.Dropped {
					continue
				}
				if n := len(cr.Days); n == 0 || cr.Days[n-1] != p.Day {
					cr.Days = append(cr.Days, p.Day) // partitions are sorted by day
				}
				cr.Partitions++
				cr.Files += p.Files
				cr.Bytes += p.Bytes
			}
			rep.Total.Partitions += cr.Partitions
			rep.Total.Files += cr.Files
			rep.Total.Bytes += cr.Bytes
			tr.Classes = append(tr.Classes, cr)
		}
		rep.Tenants = append(rep.Tenants, tr)
	}
	for _, s := range plan.Skipped {
		rep.Skipped = append(rep.Skipped, expirySkipped(s))
	}
	return rep
}

func writeExpiryJSON(w io.Writer, rep expiryReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeExpiryTable(w io.Writer, rep expiryReport) error {
	verb := "dropped"
	if rep.DryRun {
		verb = "would drop (dry run: nothing changed)"
	}
	fmt.Fprintf(w, "expiry at %s (UTC day %s): %s %d partitions, %d files, %d bytes\n\n",
		rep.Now.Format(time.RFC3339), rep.Today, verb, rep.Total.Partitions, rep.Total.Files, rep.Total.Bytes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tCLASS\tRETENTION\tOLDEST KEPT\tDAYS\tFIRST\tLAST\tFILES\tBYTES")
	for _, tr := range rep.Tenants {
		for _, cr := range tr.Classes {
			first, last := "-", "-"
			if n := len(cr.Days); n > 0 {
				first, last = cr.Days[0], cr.Days[n-1]
			}
			fmt.Fprintf(tw, "%s\t%s\t%dd\t%s\t%d\t%s\t%s\t%d\t%d\n", tr.Tenant, cr.Class, cr.RetentionDays,
				cr.OldestKept, len(cr.Days), first, last, cr.Files, cr.Bytes)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintln(w, "\nleft alone (not tenant=<id>/date=YYYY-MM-DD folders):")
		for _, s := range rep.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", s.Path, s.Reason)
		}
	}
	return nil
}
