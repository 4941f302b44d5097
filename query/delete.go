package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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

// maxRewriteAttempts bounds the re-plans of a content delete that lost a
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
// log files that hold the inquiries are rewritten without their rows, as
// one sinks.Lake.Rewrite. When DeleteContent returns nil the bytes are
// gone from the lake's files (R-G4); on an error the delete happened whole
// or not at all (with ErrRewriteIncomplete the old bytes await recovery),
// and a repeated call (it is idempotent) or the rewrite recovery finishes
// it.
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
	if err := e.auditInquiries(tenant, acc, days, ids, deleteActions(what)...); err != nil {
		return nil, err
	}
	if err := e.rememberDeletion(tenant, acc.RequestID, ids, what); err != nil {
		return nil, err
	}
	rep := &DeleteReport{Inquiries: len(ids)}
	if err := e.deleteContent(ctx, tenant, ids, what, rep); err != nil {
		return rep, err
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

// rememberDeletion puts the inquiries' deleted content kinds in the
// tenant's erasure ledger (keyed hashes of the inquiry ids) before anything
// is deleted, so that ingest drops the same content when upstream sends it
// again. Content that ingest had read but not yet written when the ledger
// changed is dropped by the next compaction (sinks.Compact consults the
// ledger) or by running the delete again.
func (e *Engine) rememberDeletion(tenant, ref string, ids []string, what ContentKind) error {
	var kinds []string
	if what&ContentRecording != 0 {
		kinds = append(kinds, sinks.ErasureRecording)
	}
	if what&ContentChatlog != 0 {
		kinds = append(kinds, sinks.ErasureChatlog)
	}
	lake, err := e.openLake()
	if err != nil {
		return err
	}
	defer lake.Close()
	ledger := sinks.NewLedger(lake)
	now := e.now().UTC().Truncate(time.Millisecond)
	var entries []sinks.LedgerEntry
	for _, kind := range kinds {
		for _, id := range ids {
			h, err := ledger.Hash(tenant, kind, id, true)
			if err != nil {
				return fmt.Errorf("erasure ledger: %w", err)
			}
			entries = append(entries, sinks.LedgerEntry{Kind: kind, Hash: h, Receipt: ref, At: now})
		}
	}
	if err := ledger.Append(tenant, entries); err != nil {
		return fmt.Errorf("delete content: %w", err)
	}
	return nil
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
	out, err := e.inquiryDaysWhere(ctx, tenant, []string{schema.DatasetInquiries}, "find inquiries",
		`SELECT inquiry_id, arg_max(started_at, _ingested_at)
	FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE inquiry_id IN (SELECT unnest(?::VARCHAR[]))
	GROUP BY inquiry_id`, func(s sources) ([]any, error) {
			files, err := e.holding(schema.DatasetInquiries, s[schema.DatasetInquiries], ids)
			return []any{files, ids}, err
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

// existingMedia lists the media objects of the inquiries' recordings (of
// every version of their recording rows) that are in the lake.
func (e *Engine) existingMedia(ctx context.Context, tenant string, ids []string) ([]string, error) {
	objects, err := e.mediaOf(ctx, tenant, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(objects, func(obj string) bool {
		_, err := e.fs.Stat(obj)
		return sinks.IsNotExist(err)
	}), nil
}

// openLake opens the lake for writing (the engine itself only reads).
func (e *Engine) openLake() (*sinks.Lake, error) {
	lake, err := sinks.Open(e.fs, e.log)
	if err != nil {
		return nil, fmt.Errorf("open the lake for writing: %w", err)
	}
	return lake, nil
}

// deleteContent deletes the inquiries' media objects and rewrites every
// chat log file that holds a row of them without those rows, as one
// journaled rewrite: a crash leaves all of it or none of it (recovery
// rolls a committed delete forward), never some recordings gone and
// others not. A lost race with another rewriter (a file is gone) re-plans
// from a fresh file list.
func (e *Engine) deleteContent(ctx context.Context, tenant string, ids []string, what ContentKind, rep *DeleteReport) error {
	lake, err := e.openLake()
	if err != nil {
		return err
	}
	defer lake.Close()
	for attempt := 1; ; attempt++ {
		plan, removed := sinks.RewritePlan{Reason: "content delete"}, 0
		if what&ContentChatlog != 0 {
			plan, removed, err = e.chatlogPlan(ctx, tenant, ids)
			if sinks.IsNotExist(err) && attempt < maxRewriteAttempts {
				continue // a file vanished before it was read: plan again
			}
			if err != nil {
				return err
			}
		}
		files := len(plan.Remove)
		var objects []string
		if what&ContentRecording != 0 {
			if objects, err = e.existingMedia(ctx, tenant, ids); err != nil {
				return err
			}
			plan.Remove = append(plan.Remove, objects...)
		}
		if len(plan.Remove) == 0 {
			return nil
		}
		err = lake.Rewrite(tenant, plan)
		if err == nil {
			rep.MediaObjects += len(objects)
			rep.ChatlogFiles += files
			rep.ChatlogsRemoved += removed
			return nil
		}
		if !errors.Is(err, sinks.ErrRewriteConflict) || attempt == maxRewriteAttempts {
			return fmt.Errorf("delete content: %w", err)
		}
		e.log.Info("content files changed during a delete; planning again", "tenant", tenant, "attempt", attempt)
	}
}

// chatlogPlan finds the chat log files holding the inquiries and plans
// their rewrite without those rows; a file left empty is only removed.
func (e *Engine) chatlogPlan(ctx context.Context, tenant string, ids []string) (sinks.RewritePlan, int, error) {
	b := newRewriteBuilder("content delete")
	files, err := e.filesWhere(ctx, tenant, schema.DatasetChatlogs, "find chat logs",
		`inquiry_id IN (SELECT unnest(?::VARCHAR[]))`, ids)
	if err != nil {
		return b.plan, 0, err
	}
	isGone := func(r *schema.ChatlogRow) bool { _, gone := slices.BinarySearch(ids, r.InquiryID); return gone }
	jobs := make([]editJob, len(files))
	for i, rel := range files {
		jobs[i] = editFile(rel, schema.DatasetChatlogs, sinks.RowEdit[schema.ChatlogRow]{
			Match: isGone, Edit: func(*schema.ChatlogRow) bool { return false }})
	}
	edited, err := e.runEdits(ctx, b, jobs)
	if err != nil {
		return b.plan, 0, err
	}
	removed := 0
	for _, ed := range edited {
		removed += ed.Dropped
	}
	return b.plan, removed, nil
}
