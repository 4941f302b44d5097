package query

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Filter selects inquiries (R-S1). Zero fields do not filter.
type Filter struct {
	// From (inclusive) and To (exclusive) bound started_at. From defaults to
	// the tenant's general retention back from now, To to no bound.
	From, To time.Time
	// Number is a phone number typed any common way; it is normalised in the
	// tenant's phone region and matches caller_number or chatter_number.
	Number string
	// Name is a case- and accent-insensitive substring of chatter_name.
	Name string
	// Email matches chatter_email or from_address, case-insensitively.
	Email string
	// Queue matches exactly.
	Queue string
	// Agent matches agent_id exactly or agent_name case-insensitively.
	Agent string
	// Media is a media type: phone, chat, email, etask, social.
	Media        string
	HasRecording *bool
	HasChatlog   *bool
	// MinScore and MaxScore bound the survey score (inclusive); an inquiry
	// without a survey never matches a score bound.
	MinScore, MaxScore *int
	Session            string
	Inquiry            string
}

// Page is one page of results: at most Limit rows after the cursor After
// (from the previous page's Next).
type Page struct {
	Limit int
	After string
}

// DefaultLimit and MaxLimit bound a page.
const (
	DefaultLimit = 100
	MaxLimit     = 100_000
)

// Inquiry is one search result: the general information of an inquiry
// under the contract's field names, with what content it has.
type Inquiry struct {
	Tenant        string     `json:"tenant"`
	InquiryID     string     `json:"inquiry_id"`
	SessionID     string     `json:"session_id"`
	MediaType     string     `json:"media_type"`
	StartedAt     time.Time  `json:"started_at"`
	EndedAt       *time.Time `json:"ended_at"`
	Queue         string     `json:"queue"`
	AgentID       string     `json:"agent_id"`
	AgentName     string     `json:"agent_name"`
	WaitSeconds   *float64   `json:"wait_seconds"`
	TalkSeconds   *float64   `json:"talk_seconds"`
	CallerNumber  *string    `json:"caller_number"`
	ChatterName   *string    `json:"chatter_name"`
	ChatterEmail  *string    `json:"chatter_email"`
	ChatterNumber *string    `json:"chatter_number"`
	FromAddress   *string    `json:"from_address"`
	Subject       *string    `json:"subject"`
	ItemURL       *string    `json:"item_url"`
	Anonymised    bool       `json:"anonymised"`
	HasRecording  bool       `json:"has_recording"`
	HasChatlog    bool       `json:"has_chatlog"`
	SurveyScore   *int       `json:"survey_score"`
}

// Columns are the result's field names in output order (for CSV and
// tables); Values returns one row's values in the same order.
var Columns = []string{"tenant", "inquiry_id", "session_id", "media_type", "started_at", "ended_at",
	"queue", "agent_id", "agent_name", "wait_seconds", "talk_seconds", "caller_number", "chatter_name",
	"chatter_email", "chatter_number", "from_address", "subject", "item_url", "anonymised",
	"has_recording", "has_chatlog", "survey_score"}

// Values returns the row's values in the order of Columns; nil for null.
func (r *Inquiry) Values() []any {
	return []any{r.Tenant, r.InquiryID, r.SessionID, r.MediaType, r.StartedAt, r.EndedAt,
		r.Queue, r.AgentID, r.AgentName, r.WaitSeconds, r.TalkSeconds, r.CallerNumber, r.ChatterName,
		r.ChatterEmail, r.ChatterNumber, r.FromAddress, r.Subject, r.ItemURL, r.Anonymised,
		r.HasRecording, r.HasChatlog, r.SurveyScore}
}

// Result is one page of search results, newest first. Next is the cursor
// of the following page, "" when this is the last.
type Result struct {
	Rows []Inquiry `json:"rows"`
	Next string    `json:"next,omitempty"`
}

// cursor is the position after the last row of a page.
type cursor struct {
	StartedAt int64  `json:"t"` // unix microseconds
	InquiryID string `json:"i"`
}

func encodeCursor(r *Inquiry) string {
	b, _ := json.Marshal(cursor{StartedAt: r.StartedAt.UnixMicro(), InquiryID: r.InquiryID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.InquiryID == "" {
		return nil, fmt.Errorf("%w: the cursor is not one this server made", ErrBadRequest)
	}
	return &c, nil
}

// sqlBuilder appends SQL text made by Go and the values bound to it.
type sqlBuilder struct {
	sb   strings.Builder
	args []any
}

func (b *sqlBuilder) add(text string, args ...any) {
	if strings.Count(text, "?") != len(args) {
		panic("query: placeholder count mismatch in " + text)
	}
	b.sb.WriteString(text)
	b.args = append(b.args, args...)
}

// inquiryColumns are read from the inquiries dataset for results.
const inquiryColumns = `inquiry_id, session_id, media_type, started_at, ended_at, queue, agent_id,
	agent_name, wait_seconds, talk_seconds, caller_number, chatter_name, chatter_email, chatter_number,
	from_address, subject, item_url, anonymised`

// rowFilter is the part of a filter on an inquiry's own columns.
type rowFilter struct {
	conds []string
	args  [][]any
}

func (f *rowFilter) add(cond string, args ...any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, args)
}

func (f *rowFilter) write(b *sqlBuilder) {
	for i, c := range f.conds {
		b.add(" AND ("+c+")", f.args[i]...)
	}
}

func (e *Engine) rowFilter(tenant string, f *Filter) (*rowFilter, error) {
	rf := &rowFilter{}
	if s := strings.TrimSpace(f.Number); s != "" {
		variants, err := NumberVariants(s, e.cfg.Policy(tenant).PhoneRegion)
		if err != nil {
			return nil, err
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(variants)), ", ")
		args := make([]any, 0, 2*len(variants))
		for range 2 {
			for _, v := range variants {
				args = append(args, v)
			}
		}
		rf.add("caller_number IN ("+ph+") OR chatter_number IN ("+ph+")", args...)
	}
	if s := strings.TrimSpace(f.Name); s != "" {
		rf.add("contains(strip_accents(lower(chatter_name)), strip_accents(lower(?)))", s)
	}
	if s := strings.TrimSpace(f.Email); s != "" {
		rf.add("lower(chatter_email) = lower(?) OR lower(from_address) = lower(?)", s, s)
	}
	if f.Queue != "" {
		rf.add("queue = ?", f.Queue)
	}
	if f.Agent != "" {
		rf.add("agent_id = ? OR lower(agent_name) = lower(?)", f.Agent, f.Agent)
	}
	if f.Media != "" {
		rf.add("media_type = ?", strings.ToLower(strings.TrimSpace(f.Media)))
	}
	if f.Session != "" {
		rf.add("session_id = ?", f.Session)
	}
	if f.Inquiry != "" {
		rf.add("inquiry_id = ?", f.Inquiry)
	}
	return rf, nil
}

// Search returns one page of a tenant's inquiries that match the filter,
// newest first. Duplicate rows of an inquiry collapse to the latest.
func (e *Engine) Search(ctx context.Context, tenant string, f Filter, p Page) (*Result, error) {
	return e.search(ctx, tenant, f, p, true)
}

// search is Search, narrowed (narrow.go) when narrow is true: the answer
// is the same either way.
func (e *Engine) search(ctx context.Context, tenant string, f Filter, p Page, narrow bool) (*Result, error) {
	rf, days, ok, err := e.searchScope(tenant, &f)
	if err != nil || !ok {
		return &Result{}, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var after *cursor
	if p.After != "" {
		c, err := decodeCursor(p.After)
		if err != nil {
			return nil, err
		}
		after = c
	}
	var rows []Inquiry
	err = e.withSources(ctx, tenant, days, searchDatasets, func(s sources) error {
		s, media, err := e.searchInputs(ctx, tenant, days, s, &f, rf, narrow)
		if err == nil {
			rows, err = e.scanInquiries(ctx, tenant, e.searchSQL(s, media, &f, rf, after, limit+1))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: rows}
	if len(rows) > limit {
		res.Rows = rows[:limit]
		res.Next = encodeCursor(&res.Rows[limit-1])
	}
	return res, nil
}

// searchDatasets are the datasets a search reads.
var searchDatasets = []string{schema.DatasetInquiries, schema.DatasetRecordings, schema.DatasetChatlogs,
	schema.DatasetSurveys}

// searchScope checks a search's tenant and fills the filter's defaults. It
// returns the row filter and the days to read; ok is false when no
// inquiry can match (an empty time range).
func (e *Engine) searchScope(tenant string, f *Filter) (rf *rowFilter, days dayRange, ok bool, err error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, days, false, err
	}
	if f.From.IsZero() {
		f.From = e.retentionFrom(tenant)
	}
	if !f.To.IsZero() && !f.To.After(f.From) {
		return nil, days, false, nil
	}
	if rf, err = e.rowFilter(tenant, f); err != nil {
		return nil, days, false, err
	}
	return rf, daysOf(f.From, f.To), true, nil
}

// searchInputs returns the file lists and media objects the search query
// reads: narrowed to the files that can hold its candidates when narrow is
// true and the filter is selective (narrow.go), else all of the range.
func (e *Engine) searchInputs(ctx context.Context, tenant string, days dayRange, s sources, f *Filter,
	rf *rowFilter, narrow bool) (sources, []string, error) {
	if narrow {
		n, err := e.narrow(ctx, tenant, days, s, f, rf)
		if err != nil || n != nil {
			if n == nil {
				return nil, nil, err
			}
			return n.s, n.media, nil
		}
	}
	media, err := e.mediaObjects(tenant, days)
	return s, media, err
}

// mediaObjects lists the recording objects that exist, as lake paths.
func (e *Engine) mediaObjects(tenant string, days dayRange) ([]string, error) {
	files, err := e.files(sinks.MediaDataset, tenant, days, sinks.MediaSuffix)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimPrefix(strings.TrimPrefix(f, e.dir), "/")
	}
	return out, nil
}

// latestSQL is a subquery that keeps the latest row of each key.
func latestOrder() string {
	return "ORDER BY _ingested_at DESC, _kafka_partition DESC, _kafka_offset DESC"
}

func (e *Engine) searchSQL(s sources, media []string, f *Filter, rf *rowFilter, after *cursor, limit int) *sqlBuilder {
	b := &sqlBuilder{}
	b.add(`WITH src AS (SELECT `+inquiryColumns+`, _ingested_at, _kafka_partition, _kafka_offset
	FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE started_at >= ?::TIMESTAMPTZ`,
		s[schema.DatasetInquiries], f.From.UTC())
	if !f.To.IsZero() {
		b.add(" AND started_at < ?::TIMESTAMPTZ", f.To.UTC())
	}
	b.add(")")
	// Candidates first (filters on the row's own columns push down into the
	// scan), then every version of each candidate collapses to its latest,
	// which must still match: a newer version may no longer (anonymised).
	// Without such filters every inquiry is a candidate, and the candidate
	// step (a third of a one-day page's time) is left out.
	if len(rf.conds) == 0 {
		b.add(`, inq AS (SELECT * FROM src`)
	} else {
		b.add(", cand AS (SELECT DISTINCT inquiry_id FROM src WHERE true")
		rf.write(b)
		b.add(`), inq AS (SELECT * FROM src WHERE inquiry_id IN (SELECT inquiry_id FROM cand)`)
	}
	b.add(` QUALIFY row_number() OVER (PARTITION BY inquiry_id ` + latestOrder() + `) = 1)`)
	b.add(`, rec AS (SELECT DISTINCT inquiry_id AS rec_id FROM read_parquet(?::VARCHAR[], `+hiveOptions+`)
	WHERE object IN (SELECT unnest(?::VARCHAR[])))`, s[schema.DatasetRecordings], media)
	b.add(`, chat AS (SELECT DISTINCT inquiry_id AS chat_id FROM read_parquet(?::VARCHAR[], `+hiveOptions+`))`,
		s[schema.DatasetChatlogs])
	b.add(`, sv AS (SELECT inquiry_id AS sv_id, score FROM read_parquet(?::VARCHAR[], `+hiveOptions+`)
	QUALIFY row_number() OVER (PARTITION BY inquiry_id ORDER BY answered_at DESC NULLS LAST, `+
		`_ingested_at DESC, _kafka_offset DESC) = 1)`, s[schema.DatasetSurveys])
	b.add(`
SELECT inquiry_id, session_id, media_type, started_at, ended_at, queue, agent_id, agent_name,
	wait_seconds, talk_seconds, caller_number, chatter_name, chatter_email, chatter_number,
	from_address, subject, item_url, anonymised,
	rec_id IS NOT NULL AS has_recording, chat_id IS NOT NULL AS has_chatlog,
	sv.score AS survey_score
FROM inq LEFT JOIN rec ON rec_id = inq.inquiry_id
	LEFT JOIN chat ON chat_id = inq.inquiry_id
	LEFT JOIN sv ON sv_id = inq.inquiry_id
WHERE true`)
	rf.write(b)
	if f.HasRecording != nil {
		b.add(" AND (rec_id IS NOT NULL) = ?", *f.HasRecording)
	}
	if f.HasChatlog != nil {
		b.add(" AND (chat_id IS NOT NULL) = ?", *f.HasChatlog)
	}
	if f.MinScore != nil {
		b.add(" AND sv.score >= ?", int64(*f.MinScore))
	}
	if f.MaxScore != nil {
		b.add(" AND sv.score <= ?", int64(*f.MaxScore))
	}
	if after != nil {
		t := time.UnixMicro(after.StartedAt).UTC()
		b.add(" AND (started_at < ?::TIMESTAMPTZ OR (started_at = ?::TIMESTAMPTZ AND inquiry_id < ?))",
			t, t, after.InquiryID)
	}
	b.add(" ORDER BY started_at DESC, inquiry_id DESC")
	if limit > 0 {
		b.add(" LIMIT ?", int64(limit))
	}
	return b
}

func (e *Engine) scanInquiries(ctx context.Context, tenant string, b *sqlBuilder) ([]Inquiry, error) {
	var out []Inquiry
	err := e.eachRow(ctx, tenant, b, func(r *Inquiry) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// eachRow runs a search query and calls fn for each row as it is read; it
// stops at fn's first error (returned as is).
func (e *Engine) eachRow(ctx context.Context, tenant string, b *sqlBuilder, fn func(*Inquiry) error) error {
	rows, err := e.db.QueryContext(ctx, b.sb.String(), b.args...)
	if err != nil {
		return dbError("search", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Inquiry
		var ended sql.NullTime
		var wait, talk sql.NullFloat64
		var caller, name, email, number, from, subject, url sql.NullString
		var score sql.NullInt64
		if err := rows.Scan(&r.InquiryID, &r.SessionID, &r.MediaType, &r.StartedAt, &ended, &r.Queue,
			&r.AgentID, &r.AgentName, &wait, &talk, &caller, &name, &email, &number, &from, &subject,
			&url, &r.Anonymised, &r.HasRecording, &r.HasChatlog, &score); err != nil {
			return dbError("search: read row", err)
		}
		r.Tenant = tenant
		r.StartedAt = r.StartedAt.UTC()
		r.EndedAt, r.WaitSeconds, r.TalkSeconds = nullTime(ended), nullFloat(wait), nullFloat(talk)
		r.CallerNumber, r.ChatterName, r.ChatterEmail = nullString(caller), nullString(name), nullString(email)
		r.ChatterNumber, r.FromAddress = nullString(number), nullString(from)
		r.Subject, r.ItemURL = nullString(subject), nullString(url)
		if score.Valid {
			v := int(score.Int64)
			r.SurveyScore = &v
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbError("search", err)
	}
	return nil
}

// Show returns the general information of one inquiry, with its
// recordings' metadata (not their bytes: that is Recording, audited).
func (e *Engine) Show(ctx context.Context, tenant, inquiryID string) (*Detail, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	if !schema.ValidID(inquiryID) {
		return nil, fmt.Errorf("inquiry: %w", ErrNotFound)
	}
	res, err := e.Search(ctx, tenant, Filter{Inquiry: inquiryID}, Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 {
		return nil, fmt.Errorf("inquiry %s: %w", inquiryID, ErrNotFound)
	}
	d := &Detail{Inquiry: res.Rows[0]}
	recs, err := e.recordings(ctx, tenant, inquiryID)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		d.Recordings = append(d.Recordings, r.RecordingInfo)
	}
	return d, nil
}

// Detail is what Show returns.
type Detail struct {
	Inquiry
	Recordings []RecordingInfo `json:"recordings"`
}
