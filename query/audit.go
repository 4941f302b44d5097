package query

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Action is what was done to an inquiry's content; it is written into the
// audit entry.
type Action string

// The audited actions (R-U1).
const (
	ActionPlayRecording     Action = "recording.play"
	ActionDownloadRecording Action = "recording.download"
	ActionDeleteRecording   Action = "recording.delete"
	ActionViewChatlog       Action = "chatlog.view"
	ActionDownloadChatlog   Action = "chatlog.download"
	ActionCopyChatlog       Action = "chatlog.copy"
	ActionDeleteChatlog     Action = "chatlog.delete"
)

// Access says who accesses content, how and in which request. It is what
// the audit entry records; it never carries a customer identifier.
type Access struct {
	Actor string
	// Support marks the operator's support staff (R-U2); otherwise the
	// actor is one of the tenant's administrators.
	Support bool
	Action  Action
	// RequestID ties the entry to a request; one is made up when empty.
	RequestID string
}

// MaxActorLen bounds an actor name.
const MaxActorLen = 256

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func (a *Access) check(allowed ...Action) error {
	if strings.TrimSpace(a.Actor) == "" {
		return fmt.Errorf("%w: content access needs an actor", ErrBadRequest)
	}
	if len(a.Actor) > MaxActorLen || strings.IndexFunc(a.Actor, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: the actor name is too long or has control characters", ErrBadRequest)
	}
	if a.Action == "" {
		a.Action = allowed[0]
	}
	if !slices.Contains(allowed, a.Action) {
		return fmt.Errorf("%w: action %q does not apply here", ErrBadRequest, a.Action)
	}
	if a.RequestID == "" {
		a.RequestID = NewRequestID()
	}
	if !requestIDPattern.MatchString(a.RequestID) {
		return fmt.Errorf("%w: bad request id", ErrBadRequest)
	}
	return nil
}

// NewRequestID returns a random request id.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// auditLogName is this host's live audit log in a partition: processes on
// one host append to the same file (under the tenant's audit lock); hosts
// sharing a lake write their own files. Compaction closes and seals them
// (sinks/seal_log.go).
func auditLogName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	h = strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.') {
			return r
		}
		return '_'
	}, h)
	if len(h) > 64 {
		h = h[:64]
	}
	return "log-" + h + AuditLogSuffix
}

// AuditLogSuffix ends the audit logs' names (JSON lines).
const AuditLogSuffix = sinks.AuditLogSuffix

// appendAudit makes an audit entry durable in the audit partition of the
// inquiry's day: one JSON line appended to this host's log and fsynced,
// under the tenant's audit lock so that sealing never loses it
// (sinks.AppendAudit). Any failure refuses the content.
func (e *Engine) appendAudit(tenant, day, inquiryID string, acc Access) error {
	return e.auditInquiries(tenant, acc, map[string]string{inquiryID: day}, []string{inquiryID}, acc.Action)
}

// auditInquiries makes one audit entry per inquiry and action durable, each
// in its inquiry's day (days: inquiry id -> day), before the content is
// changed or served, all in one batch (sinks.AppendAuditBatch); if they
// cannot be written the content is refused.
func (e *Engine) auditInquiries(tenant string, acc Access, days map[string]string, ids []string,
	actions ...Action) error {
	kind := schema.ActorAdmin
	if acc.Support {
		kind = schema.ActorSupport
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	entries := make([]sinks.AuditEntry, 0, len(ids)*len(actions))
	for _, id := range ids {
		for _, a := range actions {
			entries = append(entries, sinks.AuditEntry{Day: days[id], Row: schema.AuditRow{Time: now, Tenant: tenant,
				Actor: acc.Actor, ActorKind: kind, Action: string(a), InquiryID: id, RequestID: acc.RequestID}})
		}
	}
	if err := sinks.AppendAuditBatch(e.fs, e.host, entries); err != nil {
		e.log.Error("audit entries could not be written; content refused", "tenant", tenant,
			"inquiries", len(ids), "actions", actions, "error", err)
		return fmt.Errorf("%w: %v", ErrAuditUnavailable, err)
	}
	for _, en := range entries {
		e.log.Info("content access", "tenant", tenant, "inquiry_id", en.Row.InquiryID, "action", en.Row.Action,
			"actor_kind", kind, "request_id", acc.RequestID)
	}
	return nil
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	InquiryID string
	Actor     string
	// From (inclusive) and To (exclusive) bound the entry's time.
	From, To time.Time
}

// Audit reads a tenant's audit entries (R-U3: the caller checks that the
// reader is granted it), oldest first: the append logs and the Parquet files
// compaction sealed them into, each entry once (sinks.ReadAuditPartition).
func (e *Engine) Audit(ctx context.Context, tenant string, f AuditFilter) ([]schema.AuditRow, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	parts, err := e.partitions(schema.DatasetAudit, tenant, dayRange{})
	if err != nil {
		return nil, err
	}
	var out []schema.AuditRow
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part, err := sinks.ReadAuditPartition(e.fs, p)
		if err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		if part.Skipped > 0 {
			e.log.Warn("skipping unreadable audit lines", "partition", p, "lines", part.Skipped)
		}
		for _, r := range part.Rows {
			if f.keeps(r) {
				out = append(out, r)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b schema.AuditRow) int { return a.Time.Compare(b.Time) })
	return out, nil
}

func (f AuditFilter) keeps(r schema.AuditRow) bool {
	return (f.InquiryID == "" || r.InquiryID == f.InquiryID) && (f.Actor == "" || r.Actor == f.Actor) &&
		(f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To))
}
