package query

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// auditLines is the tenant's audit log as sorted JSON lines.
func auditLines(t *testing.T, e *Engine, tenant string, f AuditFilter) []string {
	t.Helper()
	rows, err := e.Audit(context.Background(), tenant, f)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		b, _ := json.Marshal(r)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

func auditViewCount(t *testing.T, e *Engine, tenant string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := e.SQL(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM audit WHERE inquiry_day IS NOT NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuditReadsSealedLogs: once compaction sealed the logs, the audit log
// lists exactly the same entries (also through the SQL view and filters),
// and content access goes on being audited.
func TestAuditReadsSealedLogs(t *testing.T) {
	b, e := fixture(t)
	ctx := context.Background()
	access := func(support bool) {
		t.Helper()
		m, err := e.Recording(ctx, "t01", "q1", "", Access{Actor: "alice", Support: support})
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		if _, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "bob", Action: ActionDownloadChatlog}); err != nil {
			t.Fatal(err)
		}
	}
	access(false)
	access(true)
	e.host = "log-otherhost.jsonl" // a second host's log in the same partitions
	access(false)
	before := auditLines(t, e, "t01", AuditFilter{})
	byInquiry := auditLines(t, e, "t01", AuditFilter{InquiryID: "q2"})
	if len(before) != 6 || len(byInquiry) != 3 || auditViewCount(t, e, "t01") != 6 {
		t.Fatalf("fixture: %d entries, %d of q2", len(before), len(byInquiry))
	}

	rep, err := b.Lake.Compact(sinks.CompactOptions{AuditIdle: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AuditPartitions != 2 || rep.AuditFilesIn != 4 || rep.AuditFilesOut != 2 || rep.AuditRows != 6 {
		t.Errorf("report %+v", rep)
	}
	logs, _ := filepath.Glob(filepath.Join(e.Dir(), schema.DatasetAudit, "*", "*", "*"+AuditLogSuffix))
	sealed, _ := filepath.Glob(filepath.Join(e.Dir(), schema.DatasetAudit, "*", "*", "*"+sinks.ParquetSuffix))
	if len(logs) != 0 || len(sealed) != 2 {
		t.Fatalf("after sealing: logs %v, sealed %v", logs, sealed)
	}
	if after := auditLines(t, e, "t01", AuditFilter{}); !slices.Equal(after, before) {
		t.Errorf("entries after sealing:\n%v\nwant\n%v", after, before)
	}
	if after := auditLines(t, e, "t01", AuditFilter{InquiryID: "q2"}); !slices.Equal(after, byInquiry) {
		t.Errorf("q2's entries after sealing: %v", after)
	}
	if n := auditViewCount(t, e, "t01"); n != 6 {
		t.Errorf("the audit view counts %d entries after sealing", n)
	}

	// Access goes on being audited beside the sealed files.
	access(true)
	if n := len(auditLines(t, e, "t01", AuditFilter{})); n != 8 {
		t.Errorf("%d entries after sealing and two more accesses", n)
	}
	if n := auditViewCount(t, e, "t01"); n != 8 {
		t.Errorf("the audit view counts %d entries", n)
	}
}

// TestAuditViewSkipsReplacedLogs: in the window where a sealed file and
// the logs it replaces are both on disk (a sealing rewrite in flight, or a
// crash before recovery), the SQL view counts every entry once.
func TestAuditViewSkipsReplacedLogs(t *testing.T) {
	b, e := fixture(t)
	ctx := context.Background()
	m, err := e.Recording(ctx, "t01", "q1", "", Access{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	logs, _ := filepath.Glob(filepath.Join(e.Dir(), schema.DatasetAudit, "*", "*", "*"+AuditLogSuffix))
	if len(logs) != 1 {
		t.Fatalf("fixture: logs %v", logs)
	}
	content, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lake.Compact(sinks.CompactOptions{AuditIdle: -1}); err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Rel(e.Dir(), filepath.Dir(logs[0]))
	replaced, err := sinks.ReplacedAuditFiles(e.fs, filepath.ToSlash(dir))
	if err != nil || len(replaced) != 1 {
		t.Fatalf("replaced %v %v", replaced, err)
	}
	for name := range replaced { // put the replaced log back, as a crash would leave it
		if err := os.WriteFile(filepath.Join(filepath.Dir(logs[0]), name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := auditViewCount(t, e, "t01"); n != 1 {
		t.Errorf("the audit view counts %d entries, want 1", n)
	}
	if got := auditLines(t, e, "t01", AuditFilter{}); len(got) != 1 {
		t.Errorf("Audit lists %d entries, want 1", len(got))
	}
}
