package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// expireLake writes days days (from 2026-11-01) of inquiries, chat logs,
// recordings with their media and audit logs for each tenant.
func expireLake(t *testing.T, tenants ...string) string {
	t.Helper()
	dir := t.TempDir()
	l, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tenant := range tenants {
		for d := range 10 {
			at := time.Date(2026, 11, 1+d, 10, 0, 0, 0, time.UTC)
			day, id := schema.Day(at), fmt.Sprintf("i%d", d)
			files := map[string]func(io.Writer) error{
				sinks.PartitionDir(schema.DatasetInquiries, tenant, day) + "/f.parquet": func(w io.Writer) error {
					return sinks.WriteParquet(w, schema.DatasetInquiries, "f", []schema.InquiryRow{{InquiryID: id, StartedAt: at, MediaType: "call"}})
				},
				sinks.PartitionDir(schema.DatasetChatlogs, tenant, day) + "/f.parquet": func(w io.Writer) error {
					return sinks.WriteParquet(w, schema.DatasetChatlogs, "f", []schema.ChatlogRow{{InquiryID: id, InquiryStartedAt: at}})
				},
				sinks.PartitionDir(schema.DatasetRecordings, tenant, day) + "/f.parquet": func(w io.Writer) error {
					return sinks.WriteParquet(w, schema.DatasetRecordings, "f", []schema.RecordingRow{{InquiryID: id, RecordingID: "r", InquiryStartedAt: at}})
				},
				sinks.MediaObject(tenant, day, id, "r"): func(w io.Writer) error {
					_, err := io.WriteString(w, "ID3 mp3")
					return err
				},
				sinks.PartitionDir(schema.DatasetAudit, tenant, day) + "/log-h.jsonl": func(w io.Writer) error {
					return json.NewEncoder(w).Encode(schema.AuditRow{Time: at, Tenant: tenant, Actor: "a", InquiryID: id})
				},
			}
			for name, write := range files {
				if err := l.Publish(name, write); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return dir
}

func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runArkiv(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func expireJSON(t *testing.T, args ...string) expiryReport {
	t.Helper()
	code, out, errs := runArkiv(t, append([]string{"expire", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep expiryReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return rep
}

func classOf(t *testing.T, rep expiryReport, tenant, class string) expiryClassReport {
	t.Helper()
	for _, tr := range rep.Tenants {
		for _, cr := range tr.Classes {
			if tr.Tenant == tenant && cr.Class == class {
				return cr
			}
		}
	}
	t.Fatalf("no %s/%s in %+v", tenant, class, rep)
	return expiryClassReport{}
}

func TestExpireCommand(t *testing.T) {
	dir := expireLake(t, "acme", "other")
	cfgFile := filepath.Join(t.TempDir(), "arkiv.yaml")
	cfg := "tenants:\n  acme:\n    retention: {general: 5d, recordings: 2d, chatlogs: 3d}\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--lake", dir, "--config", cfgFile, "--now", "2026-11-10T02:00:00+01:00"}

	// --dry-run: says what would go and changes nothing at all.
	before := listTree(t, dir)
	dry := expireJSON(t, append(args, "--dry-run")...)
	if !maps.Equal(before, listTree(t, dir)) {
		t.Fatal("--dry-run changed the lake")
	}
	if !dry.DryRun || dry.Today != "2026-11-10" {
		t.Fatalf("report %+v", dry)
	}

	rep := expireJSON(t, args...)
	want := map[string][]string{ // oldest kept: today - retention
		"general":    days("2026-11-01", "2026-11-04"),
		"recordings": days("2026-11-01", "2026-11-07"),
		"chatlogs":   days("2026-11-01", "2026-11-06"),
	}
	for class, wantDays := range want {
		got := classOf(t, rep, "acme", class)
		if !slices.Equal(got.Days, wantDays) {
			t.Errorf("acme %s dropped %v, want %v", class, got.Days, wantDays)
		}
		if d := classOf(t, dry, "acme", class); !slices.Equal(d.Days, got.Days) || d.Bytes != got.Bytes || got.Bytes == 0 {
			t.Errorf("acme %s: dry run said %v (%d bytes), the run dropped %v (%d bytes)", class, d.Days, d.Bytes, got.Days, got.Bytes)
		}
		// "other" is not in the file: the defaults (180d, 14d, 30d) keep all.
		if o := classOf(t, rep, "other", class); len(o.Days) != 0 {
			t.Errorf("other %s dropped %v", class, o.Days)
		}
	}
	if rep.Total.Partitions != 4*2+7*2+6 {
		t.Errorf("dropped %d partitions, want %d", rep.Total.Partitions, 4*2+7*2+6)
	}
	for _, ds := range []string{"inquiries", "audit"} {
		for _, d := range []string{"2026-11-04", "2026-11-05"} {
			_, err := os.Stat(filepath.Join(dir, sinks.PartitionDir(ds, "acme", d)))
			if gone := os.IsNotExist(err); gone != (d == "2026-11-04") {
				t.Errorf("%s of acme on %s: gone=%v", ds, d, gone)
			}
		}
	}

	// A second run is a no-op; the table names every tenant and class.
	before = listTree(t, dir)
	code, out, errs := runArkiv(t, append([]string{"expire"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "dropped 0 partitions") || !strings.Contains(out, "TENANT") {
		t.Fatalf("table:\n%s", out)
	}
	for _, line := range []string{"acme    general     5d         2026-11-05", "other   recordings  14d        2026-10-27"} {
		if !strings.Contains(out, line) {
			t.Errorf("table lacks %q:\n%s", line, out)
		}
	}
	after := listTree(t, dir)
	for p, v := range before {
		if !strings.Contains(p, sinks.MetaDir) && after[p] != v {
			t.Errorf("second run changed %s", p)
		}
	}
}

func days(first, last string) []string {
	var out []string
	d, _ := time.Parse(time.DateOnly, first)
	for ; d.Format(time.DateOnly) <= last; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

func TestExpireCommandErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"expire"}, 2, "--lake is required"},
		{[]string{"expire", "--lake", empty, "--now", "yesterday"}, 2, "--now"},
		{[]string{"expire", "--lake", empty, "--format", "xml"}, 2, "--format"},
		{[]string{"expire", "--lake", empty}, 1, "not a lake"},
	} {
		code, _, errs := runArkiv(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Error("a failed expire created files")
	}
}
