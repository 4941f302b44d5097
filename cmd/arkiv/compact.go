package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// runCompact merges the small files of each partition, collapsing
// duplicates and applying the erasure ledger, seals the audit logs into
// Parquet, and prints a report (JSON). Interrupted, it stops between two
// partitions (each is rewritten whole or not at all).
func runCompact(ctx context.Context, e *env, args []string) error {
	fs := newFlags("compact", e)
	lakeDir := fs.String("lake", "", "lake folder (required)")
	tenant := fs.String("tenant", "", "compact only this tenant (default: all)")
	minFiles := fs.Int("min-files", 4, "compact a partition once it has at least this many files")
	maxRows := fs.Int("max-rows", 1_000_000, "rows per output file at most")
	auditIdle := fs.Duration("audit-idle", sinks.DefaultAuditIdle, "seal a live audit log once it has had no append for this long (0: every log now)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *lakeDir == "" {
		return usageError("--lake is required")
	}
	if *tenant != "" && !schema.ValidTenantID(*tenant) {
		return usageError("--tenant %q is not a valid tenant id", *tenant)
	}
	if *minFiles < 2 {
		return usageError("--min-files must be at least 2")
	}
	if *auditIdle < 0 {
		return usageError("--audit-idle must not be negative")
	}
	if *auditIdle == 0 {
		*auditIdle = -1 // CompactOptions: negative seals every log now
	}
	lake, err := sinks.OpenDir(*lakeDir, e.log)
	if err != nil {
		return err
	}
	defer lake.Close()
	if err := lake.RecoverRewrites(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	rep, err := lake.CompactContext(ctx, sinks.CompactOptions{Tenant: *tenant, MinFiles: *minFiles,
		MaxRows: *maxRows, AuditIdle: *auditIdle, Ledger: sinks.NewLedger(lake)})
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return errors.New("interrupted between two partitions; run it again to finish")
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
