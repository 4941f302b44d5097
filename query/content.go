package query

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// RecordingInfo describes one recording of an inquiry.
type RecordingInfo struct {
	RecordingID string `json:"recording_id"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	SHA256      string `json:"sha256"`
	// Available is false when the bytes are gone (deleted or expired).
	Available bool `json:"available"`
}

type recordingRow struct {
	RecordingInfo
	startedAt time.Time
	object    string
}

// recordings lists an inquiry's recordings (latest row per recording id),
// over the tenant's general retention: a recording past its own retention
// but not yet expired is still shown.
func (e *Engine) recordings(ctx context.Context, tenant, inquiryID string) ([]recordingRow, error) {
	days := daysOf(e.retentionFrom(tenant), time.Time{})
	var out []recordingRow
	err := e.withSources(ctx, tenant, days, []string{schema.DatasetRecordings}, func(s sources) error {
		out = nil
		files, err := e.holding(schema.DatasetRecordings, s[schema.DatasetRecordings], []string{inquiryID})
		if err != nil {
			return err
		}
		rows, err := e.db.QueryContext(ctx, `SELECT recording_id, content_type, size_bytes, sha256,
	inquiry_started_at, object FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE inquiry_id = ?
	QUALIFY row_number() OVER (PARTITION BY recording_id `+latestOrder()+`) = 1
	ORDER BY inquiry_started_at, recording_id`, files, inquiryID)
		if err != nil {
			return dbError("recordings", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r recordingRow
			if err := rows.Scan(&r.RecordingID, &r.ContentType, &r.SizeBytes, &r.SHA256, &r.startedAt,
				&r.object); err != nil {
				return dbError("recordings", err)
			}
			// The object path is recomputed from validated ids, never taken
			// from the row: a row can not point the reader elsewhere.
			if !schema.ValidID(r.RecordingID) {
				continue
			}
			want := sinks.MediaObject(tenant, schema.Day(r.startedAt), inquiryID, r.RecordingID)
			if r.object != want {
				e.log.Warn("recording row names an unexpected object; ignored", "inquiry_id", inquiryID)
				continue
			}
			fi, err := e.fs.Stat(want)
			r.Available = err == nil && fi.Mode().IsRegular()
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// Media is an open recording. Close it when done.
type Media struct {
	io.ReadSeekCloser
	RecordingInfo
	Size int64
}

// Recording opens a recording of an inquiry for playback or download:
// recordingID "" is the inquiry's first recording. The audit entry is
// written (durably) before the object is opened; if it cannot be, nothing
// is served (ErrAuditUnavailable). The Media reads and seeks, so HTTP
// byte ranges are served from it (http.ServeContent).
func (e *Engine) Recording(ctx context.Context, tenant, inquiryID, recordingID string, acc Access) (*Media, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	if err := acc.check(ActionPlayRecording, ActionDownloadRecording); err != nil {
		return nil, err
	}
	if !schema.ValidID(inquiryID) || (recordingID != "" && !schema.ValidID(recordingID)) {
		return nil, fmt.Errorf("recording: %w", ErrNotFound)
	}
	recs, err := e.recordings(ctx, tenant, inquiryID)
	if err != nil {
		return nil, err
	}
	var rec *recordingRow
	for i := range recs {
		if recs[i].Available && (recordingID == "" || recs[i].RecordingID == recordingID) {
			rec = &recs[i]
			break
		}
	}
	if rec == nil {
		return nil, fmt.Errorf("recording of inquiry %s: %w", inquiryID, ErrNotFound)
	}
	if err := e.appendAudit(tenant, schema.Day(rec.startedAt), inquiryID, acc); err != nil {
		return nil, err
	}
	f, err := e.fs.Open(rec.object)
	if sinks.IsNotExist(err) {
		return nil, fmt.Errorf("recording of inquiry %s: %w (deleted meanwhile)", inquiryID, ErrNotFound)
	}
	if err != nil {
		return nil, dbError("open recording", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, dbError("open recording", err)
	}
	return &Media{ReadSeekCloser: f, RecordingInfo: rec.RecordingInfo, Size: fi.Size()}, nil
}

// ChatLog is an inquiry's chat log.
type ChatLog struct {
	Tenant           string        `json:"tenant"`
	InquiryID        string        `json:"inquiry_id"`
	InquiryStartedAt time.Time     `json:"inquiry_started_at"`
	Messages         []ChatMessage `json:"messages"`
}

// ChatMessage is one message of a chat log.
type ChatMessage struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	Name *string   `json:"name"`
	Text string    `json:"text"`
}

// ChatLog reads an inquiry's chat log for viewing, download or copy. The
// messages are read, then the audit entry is written durably, and only
// then returned; if the entry cannot be written the log is refused
// (ErrAuditUnavailable).
func (e *Engine) ChatLog(ctx context.Context, tenant, inquiryID string, acc Access) (*ChatLog, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	if err := acc.check(ActionViewChatlog, ActionDownloadChatlog, ActionCopyChatlog); err != nil {
		return nil, err
	}
	if !schema.ValidID(inquiryID) {
		return nil, fmt.Errorf("chat log: %w", ErrNotFound)
	}
	days := daysOf(e.retentionFrom(tenant), time.Time{})
	var log *ChatLog
	err := e.withSources(ctx, tenant, days, []string{schema.DatasetChatlogs}, func(s sources) error {
		log = nil
		files, err := e.holding(schema.DatasetChatlogs, s[schema.DatasetChatlogs], []string{inquiryID})
		if err != nil {
			return err
		}
		rows, err := e.db.QueryContext(ctx, `WITH latest AS (
	SELECT inquiry_started_at, messages FROM read_parquet(?::VARCHAR[], `+hiveOptions+`)
	WHERE inquiry_id = ? `+latestOrder()+` LIMIT 1),
msgs AS (SELECT inquiry_started_at, unnest(messages) AS m,
	unnest(generate_series(1, len(messages))) AS i FROM latest)
SELECT l.inquiry_started_at, msgs.i, msgs.m.at, msgs.m."from", msgs.m.name, msgs.m.text
FROM latest l LEFT JOIN msgs ON true ORDER BY msgs.i`, files, inquiryID)
		if err != nil {
			return dbError("chat log", err)
		}
		defer rows.Close()
		for rows.Next() {
			var started time.Time
			var idx *int64
			var at *time.Time
			var from, name, text *string
			if err := rows.Scan(&started, &idx, &at, &from, &name, &text); err != nil {
				return dbError("chat log", err)
			}
			if log == nil {
				log = &ChatLog{Tenant: tenant, InquiryID: inquiryID, InquiryStartedAt: started.UTC(),
					Messages: []ChatMessage{}}
			}
			if idx == nil {
				continue // a log without messages
			}
			m := ChatMessage{Name: name}
			if at != nil {
				m.At = at.UTC()
			}
			if from != nil {
				m.From = *from
			}
			if text != nil {
				m.Text = *text
			}
			log.Messages = append(log.Messages, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if log == nil {
		return nil, fmt.Errorf("chat log of inquiry %s: %w", inquiryID, ErrNotFound)
	}
	if err := e.appendAudit(tenant, schema.Day(log.InquiryStartedAt), inquiryID, acc); err != nil {
		return nil, err
	}
	return log, nil
}
