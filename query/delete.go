package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// ContentKind says which content of an inquiry an action is about.
type ContentKind int

// The content kinds of a delete.
const (
	ContentRecording ContentKind = 1 << iota
	ContentChatlog
	ContentBoth = ContentRecording | ContentChatlog
)

// ParseContentKind reads "recording", "chatlog" or "both".
func ParseContentKind(s string) (ContentKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "recording", "recordings":
		return ContentRecording, nil
	case "chatlog", "chatlogs":
		return ContentChatlog, nil
	case "both":
		return ContentBoth, nil
	}
	return 0, fmt.Errorf("%w: content %q: want recording, chatlog or both", ErrBadRequest, s)
}

// DeleteReport says what a delete removed.
type DeleteReport struct {
	Inquiries       int `json:"inquiries"`
	MediaObjects    int `json:"media_objects"`
	ChatlogFiles    int `json:"chatlog_files_rewritten"`
	ChatlogsRemoved int `json:"chatlog_rows_removed"`
}

// maxRewriteAttempts bounds the re-plans of a chat log rewrite that lost a
// race with another rewrite or an expiry.
const maxRewriteAttempts = 3

// DeleteContent deletes the recordings and/or chat logs of inquiries
// (R-S5). Their general information stays: Search shows them with
// has_recording / has_chatlog false, and Show lists the recordings as not
// available.
//
// Every id must be an inquiry of the tenant, else nothing is done
// (ErrNotFound). Then one audit entry per inquiry and kind of content
// (recording.delete, chatlog.delete) is made durable, all before anything
// is deleted: if one cannot be written, nothing is deleted
// (ErrAuditUnavailable). Then the media objects are deleted and the chat
// log files that hold the inquiries are rewritten without their rows
// through sinks.Lake.Rewrite. When DeleteContent returns nil the bytes are
// gone from the lake's files (R-G4); on an error some may remain, and a
// repeated call (it is idempotent) or the rewrite recovery finishes it.
func (e *Engine) DeleteContent(ctx context.Context, tenant string, acc Access, inquiryIDs []string,
	what ContentKind) (*DeleteReport, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	if what&ContentBoth == 0 || what&^ContentBoth != 0 {
		return nil, fmt.Errorf("%w: no content kind to delete", ErrBadRequest)
	}
	if err := acc.check(ActionDeleteRecording, ActionDeleteChatlog); err != nil {
		return nil, err
	}
	ids, err := cleanIDs(inquiryIDs)
	if err != nil {
		return nil, err
	}
	days, err := e.inquiryDays(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		for _, a := range deleteActions(what) {
			entry := acc
			entry.Action = a
			if err := e.appendAudit(tenant, days[id], id, entry); err != nil {
				return nil, err
			}
		}
	}
	rep := &DeleteReport{Inquiries: len(ids)}
	if what&ContentRecording != 0 {
		if rep.MediaObjects, err = e.deleteMedia(ctx, tenant, ids); err != nil {
			return rep, err
		}
	}
	if what&ContentChatlog != 0 {
		if err := e.deleteChatlogs(ctx, tenant, ids, rep); err != nil {
			return rep, err
		}
	}
	e.log.Info("content deleted", "tenant", tenant, "inquiries", len(ids), "media_objects", rep.MediaObjects,
		"chatlog_files", rep.ChatlogFiles, "request_id", acc.RequestID)
	return rep, nil
}

func deleteActions(what ContentKind) []Action {
	var out []Action
	if what&ContentRecording != 0 {
		out = append(out, ActionDeleteRecording)
	}
	if what&ContentChatlog != 0 {
		out = append(out, ActionDeleteChatlog)
	}
	return out
}

// cleanIDs validates, sorts and de-duplicates inquiry ids.
func cleanIDs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: no inquiry given", ErrBadRequest)
	}
	ids := slices.Clone(in)
	for _, id := range ids {
		if !schema.ValidID(id) {
			return nil, fmt.Errorf("inquiry: %w", ErrNotFound)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// inquiryDays finds each inquiry's partition day (that of its latest
// version), over every day of the tenant: its audit entry belongs there.
// An id that is not an inquiry of the tenant is ErrNotFound.
func (e *Engine) inquiryDays(ctx context.Context, tenant string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	err := e.withSources(ctx, tenant, dayRange{}, []string{schema.DatasetInquiries}, func(s sources) error {
		clear(out)
		rows, err := e.db.QueryContext(ctx, `SELECT inquiry_id, arg_max(started_at, _ingested_at)
	FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE inquiry_id IN (SELECT unnest(?::VARCHAR[]))
	GROUP BY inquiry_id`, s[schema.DatasetInquiries], ids)
		if err != nil {
			return dbError("find inquiries", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var started time.Time
			if err := rows.Scan(&id, &started); err != nil {
				return dbError("find inquiries", err)
			}
			out[id] = schema.Day(started)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	missing := 0
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			missing++
		}
	}
	if missing > 0 {
		return nil, fmt.Errorf("%d of %d inquiries: %w", missing, len(ids), ErrNotFound)
	}
	return out, nil
}

// deleteMedia deletes every media object of the inquiries' recordings (of
// every version of their recording rows).
func (e *Engine) deleteMedia(ctx context.Context, tenant string, ids []string) (int, error) {
	var objects []string
	err := e.withSources(ctx, tenant, dayRange{}, []string{schema.DatasetRecordings}, func(s sources) error {
		objects = objects[:0]
		rows, err := e.db.QueryContext(ctx, `SELECT DISTINCT inquiry_id, recording_id, inquiry_started_at
	FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE inquiry_id IN (SELECT unnest(?::VARCHAR[]))`,
			s[schema.DatasetRecordings], ids)
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
			// As in reading: the path is made from validated ids, never
			// taken from the row.
			if schema.ValidID(inq) && schema.ValidID(rec) {
				objects = append(objects, sinks.MediaObject(tenant, schema.Day(started), inq, rec))
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	lake, err := e.openLake()
	if err != nil {
		return 0, err
	}
	defer lake.Close()
	n := 0
	for _, obj := range objects {
		if _, err := e.fs.Stat(obj); sinks.IsNotExist(err) {
			continue
		}
		if err := lake.Remove(obj); err != nil {
			return n, fmt.Errorf("delete recording: %w", err)
		}
		n++
	}
	return n, nil
}

// openLake opens the lake for writing (the engine itself only reads).
func (e *Engine) openLake() (*sinks.Lake, error) {
	lake, err := sinks.Open(e.fs, e.log)
	if err != nil {
		return nil, fmt.Errorf("open the lake for writing: %w", err)
	}
	return lake, nil
}

// deleteChatlogs rewrites every chat log file that holds a row of the
// inquiries without those rows, as one journaled rewrite. A lost race with
// another rewriter (a file is gone) re-plans from a fresh file list.
func (e *Engine) deleteChatlogs(ctx context.Context, tenant string, ids []string, rep *DeleteReport) error {
	lake, err := e.openLake()
	if err != nil {
		return err
	}
	defer lake.Close()
	for attempt := 1; ; attempt++ {
		plan, removed, err := e.chatlogPlan(ctx, tenant, ids)
		if err != nil || len(plan.Remove) == 0 {
			return err
		}
		err = lake.Rewrite(tenant, plan)
		if err == nil {
			rep.ChatlogFiles += len(plan.Remove)
			rep.ChatlogsRemoved += removed
			return nil
		}
		if !errors.Is(err, sinks.ErrRewriteConflict) || attempt == maxRewriteAttempts {
			return fmt.Errorf("delete chat logs: %w", err)
		}
		e.log.Info("chat log files changed during a delete; planning again", "tenant", tenant, "attempt", attempt)
	}
}

// chatlogPlan finds the chat log files holding the inquiries and plans
// their rewrite without those rows; a file left empty is only removed.
func (e *Engine) chatlogPlan(ctx context.Context, tenant string, ids []string) (sinks.RewritePlan, int, error) {
	plan := sinks.RewritePlan{Reason: "content delete"}
	files, err := e.chatlogFilesWith(ctx, tenant, ids)
	if err != nil {
		return plan, 0, err
	}
	rwID := sinks.NewRewriteID()
	removed := 0
	for i, rel := range files {
		rows, err := parquet.ReadFile[schema.ChatlogRow](filepath.Join(e.dir, filepath.FromSlash(rel)))
		if err != nil {
			return plan, 0, fmt.Errorf("read chat log file: %w", err)
		}
		kept := slices.DeleteFunc(rows, func(r schema.ChatlogRow) bool {
			_, gone := slices.BinarySearch(ids, r.InquiryID)
			return gone
		})
		removed += len(rows) - len(kept)
		plan.Remove = append(plan.Remove, rel)
		if len(kept) == 0 {
			continue
		}
		name := fmt.Sprintf("%s/%s-%d%s", filepath.ToSlash(filepath.Dir(rel)), rwID, i, sinks.ParquetSuffix)
		plan.Add = append(plan.Add, sinks.NewFile{Name: name, Write: func(w io.Writer) error {
			return sinks.WriteParquet(w, schema.DatasetChatlogs, rwID, kept)
		}})
	}
	return plan, removed, nil
}

// chatlogFilesWith lists (lake-relative) the chat log files of the tenant
// that hold a row of one of the inquiries.
func (e *Engine) chatlogFilesWith(ctx context.Context, tenant string, ids []string) ([]string, error) {
	var out []string
	err := e.withSources(ctx, tenant, dayRange{}, []string{schema.DatasetChatlogs}, func(s sources) error {
		out = out[:0]
		rows, err := e.db.QueryContext(ctx, `SELECT DISTINCT filename FROM read_parquet(?::VARCHAR[],
	`+hiveOptions+`, filename = true) WHERE inquiry_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY filename`,
			s[schema.DatasetChatlogs], ids)
		if err != nil {
			return dbError("find chat logs", err)
		}
		defer rows.Close()
		for rows.Next() {
			var abs string
			if err := rows.Scan(&abs); err != nil {
				return dbError("find chat logs", err)
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
