package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

func TestCompactCommand(t *testing.T) {
	dir := cmdLake(t)
	code, out, errOut := runCmd(t, "", "compact", "--lake", dir, "--min-files", "2")
	if code != 0 {
		t.Fatalf("compact: %d %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep["partitions_compacted"] != float64(0) {
		t.Errorf("report %q: %v", out, err)
	}
	// An audit log is sealed into Parquet (at once with --audit-idle 0).
	day := schema.Day(time.Now())
	if err := sinks.AppendAudit(sinks.DirFS{Root: dir}, day, "log-h.jsonl", schema.AuditRow{Time: time.Now().UTC(),
		Tenant: "t01", Actor: "a", ActorKind: schema.ActorAdmin, Action: "chatlog.view", InquiryID: "q", RequestID: "r"}); err != nil {
		t.Fatal(err)
	}
	for _, idle := range []string{"1m", "0"} {
		code, out, errOut = runCmd(t, "", "compact", "--lake", dir, "--audit-idle", idle)
		if code != 0 {
			t.Fatalf("compact --audit-idle %s: %d %s", idle, code, errOut)
		}
		want := map[string]float64{"1m": 0, "0": 1}[idle]
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep["audit_partitions_sealed"] != want {
			t.Errorf("--audit-idle %s: report %q: %v", idle, out, err)
		}
	}
	sealed, _ := filepath.Glob(filepath.Join(dir, sinks.PartitionDir(schema.DatasetAudit, "t01", day), "*"))
	if len(sealed) != 1 || filepath.Ext(sealed[0]) != sinks.ParquetSuffix {
		t.Errorf("audit partition after sealing: %v", sealed)
	}
	for _, args := range [][]string{{"compact"}, {"compact", "--lake", dir, "--min-files", "1"},
		{"compact", "--lake", dir, "--tenant", "../x"}, {"compact", "--lake", dir, "--audit-idle", "-1s"}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}
