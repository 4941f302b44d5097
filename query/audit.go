package query

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/parquet-go/parquet-go"

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

// auditLogName is this host's audit log file in a partition: processes on
// one host append to the same file (O_APPEND writes of one line are atomic
// on a local filesystem); hosts sharing a lake write their own files.
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
const AuditLogSuffix = ".jsonl"

// appendAudit makes an audit entry durable in the audit partition of the
// inquiry's day: one JSON line appended with O_APPEND and fsynced (and the
// folder fsynced when the file is new). Any failure refuses the content.
func (e *Engine) appendAudit(tenant, day, inquiryID string, acc Access) error {
	kind := schema.ActorAdmin
	if acc.Support {
		kind = schema.ActorSupport
	}
	row := schema.AuditRow{Time: e.now().UTC().Truncate(time.Microsecond), Tenant: tenant, Actor: acc.Actor,
		ActorKind: kind, Action: string(acc.Action), InquiryID: inquiryID, RequestID: acc.RequestID}
	line, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAuditUnavailable, err)
	}
	line = append(line, '\n')
	if err := e.appendLine(sinks.PartitionDir(schema.DatasetAudit, tenant, day), line); err != nil {
		e.log.Error("audit entry could not be written; content refused", "tenant", tenant,
			"inquiry_id", inquiryID, "action", acc.Action, "error", err)
		return fmt.Errorf("%w: %v", ErrAuditUnavailable, err)
	}
	e.log.Info("content access", "tenant", tenant, "inquiry_id", inquiryID, "action", acc.Action,
		"actor_kind", kind, "request_id", acc.RequestID)
	return nil
}

// auditInquiries makes one audit entry per inquiry and action durable, each
// in its inquiry's day (days: inquiry id -> day), before the content is
// changed; it stops at the first that cannot be written.
func (e *Engine) auditInquiries(tenant string, acc Access, days map[string]string, ids []string,
	actions ...Action) error {
	for _, id := range ids {
		for _, a := range actions {
			entry := acc
			entry.Action = a
			if err := e.appendAudit(tenant, days[id], id, entry); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) appendLine(dir string, line []byte) error {
	abs := filepath.Join(e.dir, filepath.FromSlash(dir))
	if err := mkdirAllSynced(abs); err != nil {
		return err
	}
	name := filepath.Join(abs, e.host)
	_, statErr := os.Lstat(name)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && statErr != nil {
		err = syncDir(abs)
	}
	return err
}

// mkdirAllSynced makes a folder and its missing parents, fsyncing each
// parent whose entries changed, so the folder survives a crash.
func mkdirAllSynced(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	InquiryID string
	Actor     string
	// From (inclusive) and To (exclusive) bound the entry's time.
	From, To time.Time
}

// Audit reads a tenant's audit entries (R-U3: the caller checks that the
// reader is granted it), oldest first: the append logs and any Parquet
// files compaction sealed them into.
func (e *Engine) Audit(ctx context.Context, tenant string, f AuditFilter) ([]schema.AuditRow, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	logs, err := e.files(schema.DatasetAudit, tenant, dayRange{}, AuditLogSuffix)
	if err != nil {
		return nil, err
	}
	sealed, err := e.files(schema.DatasetAudit, tenant, dayRange{}, sinks.ParquetSuffix)
	if err != nil {
		return nil, err
	}
	var out []schema.AuditRow
	keep := func(r schema.AuditRow) {
		if (f.InquiryID == "" || r.InquiryID == f.InquiryID) && (f.Actor == "" || r.Actor == f.Actor) &&
			(f.From.IsZero() || !r.Time.Before(f.From)) && (f.To.IsZero() || r.Time.Before(f.To)) {
			out = append(out, r)
		}
	}
	for _, name := range logs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, err := e.readAuditLog(name)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			r.Tenant = tenant
			keep(r)
		}
	}
	for _, name := range sealed {
		rows, err := parquet.ReadFile[schema.AuditRow](name)
		if sinks.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read audit file: %w", err)
		}
		for _, r := range rows {
			r.Tenant = tenant
			keep(r)
		}
	}
	slices.SortStableFunc(out, func(a, b schema.AuditRow) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// readAuditLog reads one append log. A line cut short by a crash while it
// was appended (it was never acknowledged, so no content was served for it)
// is skipped.
func (e *Engine) readAuditLog(name string) ([]schema.AuditRow, error) {
	f, err := os.Open(name)
	if sinks.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer f.Close()
	var out []schema.AuditRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r schema.AuditRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			e.log.Warn("skipping an unreadable audit line", "file", filepath.Base(name))
			continue
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
