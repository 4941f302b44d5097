package query

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// What the actions that rewrite a tenant's files (DeleteContent,
// Anonymise) share: finding the files and media objects to change, and
// planning the rewrite.

// rewriteBuilder plans one rewrite of lake files: each file it replaces is
// removed and, unless none of its rows is left, written again under a new
// name of the rewrite.
type rewriteBuilder struct {
	plan sinks.RewritePlan
	id   string // the rewrite id: names the new files, is their flush id
	seq  int
}

func newRewriteBuilder(reason string) *rewriteBuilder {
	return &rewriteBuilder{plan: sinks.RewritePlan{Reason: reason}, id: sinks.NewRewriteID()}
}

// editJob is one file of a rewrite and how its rows change.
type editJob struct {
	rel, dataset string
	edit         func(abs, flushID string) (sinks.EditedFile, error)
}

func editFile[T any](rel, dataset string, edit sinks.RowEdit[T]) editJob {
	return editJob{rel: rel, dataset: dataset, edit: func(abs, flushID string) (sinks.EditedFile, error) {
		return sinks.EditParquet(abs, dataset, flushID, edit)
	}}
}

// editedFile is a file of a plan as edited.
type editedFile struct {
	dataset string
	sinks.EditedFile
}

// runEdits edits the files of jobs, on every core, and plans replacing
// each file in which a row changed by its edited version (or by nothing,
// when no row is left). The new files are made here, in memory: the
// rewrite only writes them.
func (e *Engine) runEdits(ctx context.Context, b *rewriteBuilder, jobs []editJob) ([]editedFile, error) {
	out := make([]editedFile, len(jobs))
	err := inParallel(ctx, len(jobs), func(i int) (err error) {
		out[i].dataset = jobs[i].dataset
		out[i].EditedFile, err = jobs[i].edit(e.abs(jobs[i].rel), b.id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("edit the files: %w", err)
	}
	for i, ed := range out {
		if ed.Matched > 0 {
			replaceWith(b, jobs[i].rel, ed.Data)
		}
	}
	return out, nil
}

// inParallel calls fn(i) for every i below n, on every core, and joins
// their errors; once ctx is done the calls left are not made.
func inParallel(ctx context.Context, n int, fn func(i int) error) error {
	return sinks.InParallel(n, runtime.GOMAXPROCS(0), func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(i)
	})
}

// replaceWith plans replacing the file rel by data (lake-relative), or
// only removing it when data is nil.
func replaceWith(b *rewriteBuilder, rel string, data []byte) {
	b.plan.Remove = append(b.plan.Remove, rel)
	if data == nil {
		return
	}
	b.seq++
	name := fmt.Sprintf("%s/%s-%d%s", filepath.ToSlash(filepath.Dir(rel)), b.id, b.seq, sinks.ParquetSuffix)
	b.plan.Add = append(b.plan.Add, sinks.NewFile{Name: name, Write: func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}})
}

func (e *Engine) abs(rel string) string { return filepath.Join(e.dir, filepath.FromSlash(rel)) }

// filesWhere lists (lake-relative) the files of a dataset of the tenant
// holding a row for which cond is true; op names the search in errors.
func (e *Engine) filesWhere(ctx context.Context, tenant, dataset, op, cond string, args ...any) ([]string, error) {
	var out []string
	err := e.withSources(ctx, tenant, dayRange{}, []string{dataset}, func(s sources) error {
		out = out[:0]
		files := s[dataset]
		rows, err := e.db.QueryContext(ctx, `SELECT DISTINCT filename FROM read_parquet(?::VARCHAR[],
	`+hiveOptions+`, filename = true) WHERE `+cond+` ORDER BY filename`, append([]any{files}, args...)...)
		if err != nil {
			return dbError(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var abs string
			if err := rows.Scan(&abs); err != nil {
				return dbError(op, err)
			}
			rel, err := filepath.Rel(e.dir, abs)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue // the empty placeholder file
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return rows.Err()
	})
	return out, err
}

// mediaOf lists the media objects of the inquiries' recordings (of every
// version of their recording rows). As in reading, the paths are made from
// validated ids, never taken from the row.
func (e *Engine) mediaOf(ctx context.Context, tenant string, ids []string) ([]string, error) {
	var objects []string
	if len(ids) == 0 {
		return nil, nil
	}
	err := e.withSources(ctx, tenant, dayRange{}, []string{schema.DatasetRecordings}, func(s sources) error {
		objects = objects[:0]
		files, err := e.holding(schema.DatasetRecordings, s[schema.DatasetRecordings], ids)
		if err != nil {
			return err
		}
		rows, err := e.db.QueryContext(ctx, `SELECT DISTINCT inquiry_id, recording_id, inquiry_started_at
	FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE inquiry_id IN (SELECT unnest(?::VARCHAR[]))
	ORDER BY ALL`, files, ids)
		if err != nil {
			return dbError("find recordings", err)
		}
		defer rows.Close()
		for rows.Next() {
			var inq, rec string
			var started time.Time
			if err := rows.Scan(&inq, &rec, &started); err != nil {
				return dbError("find recordings", err)
			}
			if schema.ValidID(inq) && schema.ValidID(rec) {
				objects = append(objects, sinks.MediaObject(tenant, schema.Day(started), inq, rec))
			}
		}
		return rows.Err()
	})
	return objects, err
}

// inquiryDaysWhere runs q over the tenant's files of datasets (every day);
// its rows are (inquiry_id, a time of the inquiry's partition day), and
// args gives its arguments for the sources. It returns each inquiry's day,
// that of its first row. op names the search in errors.
func (e *Engine) inquiryDaysWhere(ctx context.Context, tenant string, datasets []string, op, q string,
	args func(s sources) ([]any, error)) (map[string]string, error) {
	out := map[string]string{}
	err := e.withSources(ctx, tenant, dayRange{}, datasets, func(s sources) error {
		clear(out)
		a, err := args(s)
		if err != nil {
			return err
		}
		rows, err := e.db.QueryContext(ctx, q, a...)
		if err != nil {
			return dbError(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				return dbError(op, err)
			}
			if _, ok := out[id]; !ok {
				out[id] = schema.Day(at)
			}
		}
		return rows.Err()
	})
	return out, err
}
