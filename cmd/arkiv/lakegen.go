package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/arkiv-project/arkiv/internal/lakegen"
)

// runLakegen generates a synthetic lake straight into sinks/ (development
// and benchmarks; see internal/lakegen) and prints its summary as JSON.
func runLakegen(ctx context.Context, e *env, args []string) error {
	fs := newFlags("lakegen", e)
	lf := addLakeFlagsConfig(fs, "configuration file whose retention the lake honours (default: built-in defaults)")
	inquiries := fs.Int("inquiries", lakegen.DefaultInquiries, "inquiries in total")
	tenants := fs.Int("tenants", lakegen.DefaultTenants, "tenants (t0001 ...)")
	days := fs.Int("days", lakegen.DefaultDays, "days, ending with --now's UTC day")
	seed := fs.Uint64("seed", lakegen.DefaultSeed, "seed of every random choice")
	nowFlag := fs.String("now", "", "the lake is as of this instant (RFC 3339; default: the current time)")
	mediaBytes := fs.Int("media-bytes", lakegen.DefaultMediaBytes, "mean size of a media object")
	noMedia := fs.Bool("no-media", false, "write no media objects (recording rows only)")
	allContent := fs.Bool("all-content", false, "keep recordings and chat logs of every day, ignoring their retention")
	flushes := fs.Int("flushes", 1, "files per partition, split by time of day (as ingest leaves them before compaction)")
	dups := fs.Float64("duplicates", 0, "share of inquiries upstream sent twice")
	workers := fs.Int("workers", lakegen.DefaultWorkers, "days written in parallel")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, *nowFlag)
		if err != nil {
			return usageError("--now %q: want a time like 2026-11-28T12:00:00Z", *nowFlag)
		}
		now = t
	}
	dir, cfg, err := lf.load()
	if err != nil {
		return err
	}
	s, err := lakegen.Generate(ctx, dir, lakegen.Options{Inquiries: *inquiries, Tenants: *tenants, Days: *days,
		Seed: *seed, Now: now, Config: cfg, AllContent: *allContent, MediaBytes: *mediaBytes, NoMedia: *noMedia,
		Flushes: *flushes, Duplicates: *dups, Workers: *workers, Log: e.log})
	if errors.Is(err, lakegen.ErrOptions) {
		return usageError("%v", err)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}
