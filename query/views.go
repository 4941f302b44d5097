package query

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// The analysts' views (R-X2): each dataset with duplicates collapsed
// (latest _ingested_at per key), tenant and date as columns.
var viewKeys = map[string]string{
	schema.DatasetInquiries:  "tenant, inquiry_id",
	schema.DatasetChatlogs:   "tenant, inquiry_id",
	schema.DatasetRecordings: "tenant, inquiry_id, recording_id",
	schema.DatasetSurveys:    "tenant, survey_id",
}

var viewOrder = []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings,
	schema.DatasetSurveys}

const auditJSONColumns = `{'time': 'TIMESTAMPTZ', 'tenant': 'VARCHAR', 'actor': 'VARCHAR', ` +
	`'actor_kind': 'VARCHAR', 'action': 'VARCHAR', 'inquiry_id': 'VARCHAR', 'request_id': 'VARCHAR'}`

// sqlString quotes a Go-made string (a path built from validated ids and
// listed file names) as an SQL literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = sqlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// viewFiles lists each dataset's files for the views: one tenant, or every
// tenant ("" ). Tenants come from folder names that pass ValidTenantID.
func (e *Engine) viewFiles(tenant string) (map[string][]string, error) {
	tenants := []string{tenant}
	if tenant == "" {
		all, err := e.Tenants()
		if err != nil {
			return nil, err
		}
		tenants = all
	}
	out := map[string][]string{}
	for _, t := range tenants {
		for _, ds := range viewOrder {
			f, err := e.files(ds, t, dayRange{}, sinks.ParquetSuffix)
			if err != nil {
				return nil, err
			}
			out[ds] = append(out[ds], f...)
		}
		for _, suffix := range []string{AuditLogSuffix, sinks.ParquetSuffix} {
			f, err := e.files(schema.DatasetAudit, t, dayRange{}, suffix)
			if err != nil {
				return nil, err
			}
			if f, err = e.withoutReplacedAudit(f); err != nil {
				return nil, err
			}
			out[schema.DatasetAudit+suffix] = append(out[schema.DatasetAudit+suffix], f...)
		}
	}
	return out, nil
}

// withoutReplacedAudit drops the audit files a sealed file of their
// partition replaces (sinks.ReplacedAuditFiles), so that an entry is not
// counted twice while a sealing rewrite runs or before its recovery.
func (e *Engine) withoutReplacedAudit(files []string) ([]string, error) {
	replaced := map[string]map[string]bool{} // partition folder -> names
	out := files[:0:0]
	for _, f := range files {
		dir, name := filepath.Split(f)
		r, ok := replaced[dir]
		if !ok {
			rel, err := filepath.Rel(e.dir, filepath.Clean(dir))
			if err != nil {
				return nil, err
			}
			if r, err = sinks.ReplacedAuditFiles(e.fs, filepath.ToSlash(rel)); err != nil {
				return nil, err
			}
			replaced[dir] = r
		}
		if !r[name] {
			out = append(out, f)
		}
	}
	return out, nil
}

// Views returns the CREATE VIEW statements over the lake's current files
// for one tenant ("" = all tenants): explicit file lists, as the engine
// reads them. A dataset without files is a view over an empty file of the
// same schema.
func (e *Engine) Views(tenant string) ([]string, error) {
	if tenant != "" {
		if err := e.checkTenant(tenant); err != nil {
			return nil, err
		}
	}
	files, err := e.viewFiles(tenant)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ds := range viewOrder {
		list := files[ds]
		if len(list) == 0 {
			list = []string{e.emptyFile(ds)}
		}
		out = append(out, datasetView(ds, sqlList(list)))
	}
	logs, sealed := files[schema.DatasetAudit+AuditLogSuffix], files[schema.DatasetAudit+sinks.ParquetSuffix]
	if len(sealed) == 0 {
		sealed = []string{e.emptyFile(schema.DatasetAudit)}
	}
	logList := ""
	if len(logs) > 0 {
		logList = sqlList(logs)
	}
	out = append(out, auditView(logList, sqlList(sealed)))
	return out, nil
}

func datasetView(ds, source string) string {
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM read_parquet(%s, %s)\n"+
		"  QUALIFY row_number() OVER (PARTITION BY %s %s) = 1;", ds, source, hiveOptions, viewKeys[ds], latestOrder())
}

// auditView is the audit view over the append logs (logs, an SQL list or
// pattern; "" for none) and the sealed Parquet files (sealed; "" for none).
func auditView(logs, sealed string) string {
	var parts []string
	if logs != "" {
		parts = append(parts, fmt.Sprintf("SELECT time, tenant, actor, actor_kind, action, inquiry_id, "+
			"request_id, regexp_extract(filename, 'date=([0-9-]{10})', 1)::DATE AS inquiry_day\n"+
			"  FROM read_json(%s, format = 'newline_delimited', columns = %s, ignore_errors = true, "+
			"filename = true)", logs, auditJSONColumns))
	}
	if sealed != "" {
		parts = append(parts, fmt.Sprintf("SELECT time, tenant, actor, actor_kind, action, inquiry_id, "+
			"request_id, date AS inquiry_day FROM read_parquet(%s, %s)", sealed, hiveOptions))
	}
	return "CREATE OR REPLACE VIEW audit AS " + strings.Join(parts, "\n  UNION ALL BY NAME ") + ";"
}

// PrintableViews returns view definitions for an analyst's own DuckDB:
// the same views, over glob patterns of the lake (so they stay valid as
// files come and go). Datasets with no file yet are left out (DuckDB
// refuses a view over a pattern that matches nothing).
func (e *Engine) PrintableViews(tenant string) ([]string, error) {
	tpart := "tenant=*"
	if tenant != "" {
		if err := e.checkTenant(tenant); err != nil {
			return nil, err
		}
		tpart = "tenant=" + tenant
	}
	files, err := e.viewFiles(tenant)
	if err != nil {
		return nil, err
	}
	glob := func(ds, suffix string) string {
		return sqlString(filepath.Join(e.dir, ds, tpart, "date=*", "*"+suffix))
	}
	out := []string{"-- arkiv lake views over " + e.dir + " (format version 1)"}
	for _, ds := range viewOrder {
		if len(files[ds]) == 0 {
			out = append(out, "-- "+ds+": no files yet")
			continue
		}
		out = append(out, datasetView(ds, glob(ds, sinks.ParquetSuffix)))
	}
	logs, sealed := files[schema.DatasetAudit+AuditLogSuffix], files[schema.DatasetAudit+sinks.ParquetSuffix]
	if len(logs) == 0 && len(sealed) == 0 {
		out = append(out, "-- audit: no entries yet")
		return out, nil
	}
	logGlob, sealedGlob := "", ""
	if len(logs) > 0 {
		logGlob = glob(schema.DatasetAudit, AuditLogSuffix)
	}
	if len(sealed) > 0 {
		sealedGlob = glob(schema.DatasetAudit, sinks.ParquetSuffix)
	}
	out = append(out, auditView(logGlob, sealedGlob))
	return out, nil
}

// SQL opens a connection with the views created, for `arkiv sql`. Close the
// connection when done. What the analyst's SQL does is up to the analyst
// (an operator's tool): the views only read the lake.
func (e *Engine) SQL(ctx context.Context, tenant string) (*sql.Conn, error) {
	views, err := e.Views(tenant)
	if err != nil {
		return nil, err
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range views {
		if _, err := conn.ExecContext(ctx, v); err != nil {
			conn.Close()
			return nil, fmt.Errorf("create views: %w", err)
		}
	}
	return conn, nil
}
