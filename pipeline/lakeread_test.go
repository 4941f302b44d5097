package pipeline_test

import (
	"database/sql"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/arkiv-project/arkiv/internal/loadgen"
)

// TestLakeReadByOtherEngines reads an ingested lake as an analyst would:
// plain DuckDB over read_parquet with hive partitioning, and pyarrow, an
// independent Parquet implementation.
func TestLakeReadByOtherEngines(t *testing.T) {
	h := newHarness(t, testConfig)
	load := loadgen.Options{Tenants: 3, Count: 600, Seed: 3, Recordings: true, RecordingBytes: 16 << 10, ChunkBytes: 8 << 10}
	g := h.produceLoadTruth(load)
	h.drain("lakeread", nil)
	truth := g.Truth()

	db, err := sql.Open("duckdb", "")
	must(t, err)
	defer db.Close()
	glob := func(ds string) string { return filepath.Join(h.lake, ds, "*", "*", "*.parquet") }

	t.Run("duckdb types", func(t *testing.T) {
		want := map[string]map[string]string{
			"inquiries": {"tenant": "VARCHAR", "date": "DATE", "started_at": "TIMESTAMP WITH TIME ZONE",
				"ended_at": "TIMESTAMP WITH TIME ZONE", "wait_seconds": "DOUBLE", "talk_seconds": "DOUBLE",
				"caller_number": "VARCHAR", "ivr_inputs": "STRUCT(module VARCHAR, digits VARCHAR, masked BOOLEAN)[]",
				"_ingested_at": "TIMESTAMP WITH TIME ZONE", "_kafka_offset": "BIGINT", "deny_recording": "BOOLEAN"},
			"chatlogs": {"messages": `STRUCT("at" TIMESTAMP WITH TIME ZONE, "from" VARCHAR, "name" VARCHAR, "text" VARCHAR)[]`,
				"inquiry_started_at": "TIMESTAMP WITH TIME ZONE"},
			"recordings": {"size_bytes": "BIGINT", "chunks": "INTEGER", "object": "VARCHAR"},
			"surveys":    {"score": "INTEGER", "answered_at": "TIMESTAMP WITH TIME ZONE"},
		}
		for ds, cols := range want {
			got := describe(t, db, glob(ds))
			for c, typ := range cols {
				if got[c] != typ {
					t.Errorf("%s.%s is %q, want %q", ds, c, got[c], typ)
				}
			}
		}
	})
	t.Run("duckdb counts match what was sent", func(t *testing.T) {
		var n int
		must(t, db.QueryRow(`SELECT count(DISTINCT (tenant, inquiry_id)) FROM read_parquet(?, hive_partitioning=true)`, glob("inquiries")).Scan(&n))
		if n != truth.InquiryCount() {
			t.Errorf("%d inquiries in the lake, %d sent", n, truth.InquiryCount())
		}
		var joined, recordings int
		must(t, db.QueryRow(`SELECT count(*) FROM read_parquet(?, hive_partitioning=true) r
			JOIN read_parquet(?, hive_partitioning=true) i USING (tenant, inquiry_id)`, glob("recordings"), glob("inquiries")).Scan(&joined))
		must(t, db.QueryRow(`SELECT count(*) FROM read_parquet(?, hive_partitioning=true)`, glob("recordings")).Scan(&recordings))
		stored := 0
		for _, tt := range truth.Tenants {
			stored += len(tt.RecordingsStored)
		}
		if recordings != stored || joined != stored || stored == 0 {
			t.Errorf("recordings %d, joined to inquiries %d, sent %d", recordings, joined, stored)
		}
	})
	t.Run("pyarrow reads every dataset", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 missing: run scripts/test-deps")
		}
		script := `
import json, sys
import pyarrow.dataset as ds
out = {}
for name in ["inquiries", "chatlogs", "recordings", "surveys"]:
    d = ds.dataset(sys.argv[1] + "/" + name, format="parquet", partitioning="hive")
    t = d.to_table()
    out[name] = {"rows": t.num_rows, "types": {f.name: str(f.type) for f in t.schema}}
print(json.dumps(out))
`
		cmd := exec.Command("python3", "-c", script, h.lake)
		raw, err := cmd.Output()
		if err != nil {
			if strings.Contains(string(errText(err)), "No module named") {
				t.Fatalf("pyarrow is not installed: run scripts/test-deps (%s)", errText(err))
			}
			t.Fatalf("pyarrow failed: %v %s", err, errText(err))
		}
		var got map[string]struct {
			Rows  int               `json:"rows"`
			Types map[string]string `json:"types"`
		}
		must(t, json.Unmarshal(raw, &got))
		checks := map[string]map[string]string{
			"inquiries": {"started_at": "timestamp[us, tz=UTC]", "wait_seconds": "double", "_kafka_partition": "int32",
				"ivr_inputs": "list<element: struct<module: string not null, digits: string, masked: bool not null> not null>"},
			"surveys": {"score": "int32"},
		}
		for ds, cols := range checks {
			for c, typ := range cols {
				if got[ds].Types[c] != typ {
					t.Errorf("pyarrow %s.%s is %q, want %q", ds, c, got[ds].Types[c], typ)
				}
			}
		}
		if got["inquiries"].Rows != truth.InquiryCount() {
			t.Errorf("pyarrow read %d inquiries, want %d", got["inquiries"].Rows, truth.InquiryCount())
		}
	})
}

func describe(t *testing.T, db *sql.DB, glob string) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning=true))`, glob)
	must(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		must(t, rows.Scan(&name, &typ))
		out[name] = typ
	}
	return out
}

func errText(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return []byte(err.Error())
}
