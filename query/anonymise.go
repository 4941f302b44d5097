package query

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// ActionAnonymise is the audit action of an anonymisation (one entry per
// affected inquiry).
const ActionAnonymise Action = "anonymise"

// Person is who is to be forgotten: phone numbers typed any common way
// (normalised as search does, in the tenant's phone region) and e-mail
// addresses (any case).
type Person struct {
	Numbers []string
	Emails  []string
}

// AnonymiseOptions: DeleteContent also deletes the person's recordings
// (media objects), chat logs and survey comments (R-G2); DryRun plans and
// reports without writing anything.
type AnonymiseOptions struct {
	DeleteContent bool
	DryRun        bool
}

// Receipt says what an anonymisation did. It holds no personal data: the
// person is referred to only by PersonRef, a keyed hash (HMAC under the
// lake's erasure key) of the normalised identifiers.
type Receipt struct {
	ReceiptID      string         `json:"receipt_id"`
	RequestID      string         `json:"request_id"` // of the audit entries
	Tenant         string         `json:"tenant"`
	PersonRef      string         `json:"person_ref,omitempty"`
	DryRun         bool           `json:"dry_run"`
	DeleteContent  bool           `json:"delete_content"`
	Inquiries      int            `json:"inquiries"`
	RowsAnonymised map[string]int `json:"rows_anonymised"`
	ContentDeleted ContentDeleted `json:"content_deleted"`
	FilesRewritten int            `json:"files_rewritten"`
	FilesAdded     int            `json:"files_added"`
	Started        time.Time      `json:"started"`
	Duration       string         `json:"duration"`
	DurationMS     float64        `json:"duration_ms"`
}

// ContentDeleted counts what DeleteContent removed.
type ContentDeleted struct {
	Recordings     int `json:"recordings"`
	ChatlogRows    int `json:"chatlog_rows"`
	SurveyComments int `json:"survey_comments"`
}

// maxAnonymisePasses bounds the plan-and-rewrite passes: after a rewrite
// the lake is searched again, for rows that ingest flushed meanwhile (and
// after a lost race with another rewriter).
const maxAnonymisePasses = 5

// Anonymise forgets a person in one tenant (R-G1..R-G4). It finds every
// inquiry of the person (caller or chatter number, chatter e-mail,
// from-address) and every survey they answered (respondent number or
// e-mail), over all days of the tenant; their chat logs and recordings
// belong to them by inquiry id. Only the files that hold such rows are
// rewritten, through one journaled sinks.Lake.Rewrite per pass: every field
// of privacy class identifier is nulled (numbers, e-mails, names, subject,
// the names in the chat log) and anonymised set. Content stays unless
// opts.DeleteContent, which also removes the recordings' media objects, the
// chat log rows and the survey comments in the same rewrite.
//
// Before anything is rewritten, the keyed hashes of the identifiers (and
// then of the inquiry ids) are appended to the tenant's erasure ledger, so
// that records of the person arriving late are anonymised at ingest; and
// one audit entry per affected inquiry (action anonymise, no identifiers)
// is made durable: if one cannot be written nothing is rewritten.
//
// When Anonymise returns nil the person's identifiers are gone from every
// file of the lake. On an error the lake is in the old or the new state of
// each pass (the rewrite journal guarantees it); run it again (it is
// idempotent).
func (e *Engine) Anonymise(ctx context.Context, tenant string, acc Access, p Person,
	opts AnonymiseOptions) (*Receipt, error) {
	lake, err := e.openLake()
	if err != nil {
		return nil, err
	}
	defer lake.Close()
	return e.anonymise(ctx, lake, tenant, acc, p, opts)
}

// person is a Person normalised for matching.
type person struct {
	numbers []string // every stored form of every number (NumberVariants)
	e164    []string // the normalised form of each number
	emails  []string // lower-cased
}

func (p *person) matchNumber(s *string) bool {
	return s != nil && slices.Contains(p.numbers, strings.TrimSpace(*s))
}

func (p *person) matchEmail(s *string) bool {
	return s != nil && slices.Contains(p.emails, strings.ToLower(strings.TrimSpace(*s)))
}

// text is a string column's value, nil for a null.
func text(v parquet.Value) *string {
	if v.IsNull() {
		return nil
	}
	s := string(v.ByteArray())
	return &s
}

func (e *Engine) normalisePerson(tenant string, in Person) (*person, error) {
	p := &person{}
	region := e.cfg.Policy(tenant).PhoneRegion
	for _, n := range in.Numbers {
		if strings.TrimSpace(n) == "" {
			continue
		}
		variants, err := NumberVariants(n, region)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(p.e164, variants[0]) {
			p.e164 = append(p.e164, variants[0])
		}
		for _, v := range variants {
			if !slices.Contains(p.numbers, v) {
				p.numbers = append(p.numbers, v)
			}
		}
	}
	for _, m := range in.Emails {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "" {
			continue
		}
		if len(m) > 320 || !strings.Contains(m, "@") || strings.IndexFunc(m, unicode.IsControl) >= 0 {
			return nil, fmt.Errorf("%w: an e-mail address is not valid", ErrBadRequest)
		}
		if !slices.Contains(p.emails, m) {
			p.emails = append(p.emails, m)
		}
	}
	if len(p.numbers) == 0 && len(p.emails) == 0 {
		return nil, fmt.Errorf("%w: give at least one number or e-mail address", ErrBadRequest)
	}
	slices.Sort(p.e164)
	slices.Sort(p.emails)
	return p, nil
}

func (e *Engine) anonymise(ctx context.Context, lake *sinks.Lake, tenant string, acc Access, in Person,
	opts AnonymiseOptions) (*Receipt, error) {
	started := time.Now()
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	receiptID := "anon-" + NewRequestID()
	if acc.RequestID == "" {
		acc.RequestID = receiptID // the audit entries name the receipt
	}
	if err := acc.check(ActionAnonymise); err != nil {
		return nil, err
	}
	p, err := e.normalisePerson(tenant, in)
	if err != nil {
		return nil, err
	}
	rc := &Receipt{ReceiptID: receiptID, RequestID: acc.RequestID, Tenant: tenant, DryRun: opts.DryRun,
		DeleteContent: opts.DeleteContent, Started: started.UTC().Truncate(time.Millisecond),
		RowsAnonymised: map[string]int{schema.DatasetInquiries: 0, schema.DatasetChatlogs: 0, schema.DatasetSurveys: 0}}
	ledger := sinks.NewLedger(lake)
	ref := strings.Join(append(slices.Clone(p.e164), p.emails...), "\x00")
	if rc.PersonRef, err = ledger.Hash(tenant, "person", ref, !opts.DryRun); err != nil && !(opts.DryRun && sinks.IsNotExist(err)) {
		return nil, fmt.Errorf("erasure key: %w", err)
	}
	if !opts.DryRun {
		// The identifiers go into the ledger first, so that ingest
		// anonymises the person's records from now on, before the lake is
		// searched.
		if err := e.appendLedger(ledger, tenant, rc, opts, sinks.ErasureIdentifier,
			append(slices.Clone(p.numbers), p.emails...)); err != nil {
			return nil, err
		}
	}
	known := map[string]string{} // inquiry id -> day, over all passes
	audited := map[string]bool{}
	var expect []string // the tenant's files after the last pass, had no one else changed them
	for pass := 1; ; pass++ {
		if err := ctx.Err(); err != nil {
			return rc, err
		}
		listed, err := e.personFiles(tenant)
		if err != nil {
			return rc, err
		}
		if expect != nil && slices.Equal(listed, expect) {
			break // every file was planned on or written by the last pass
		}
		expect = nil
		plan, st, err := e.anonymisePlan(ctx, tenant, p, known, opts.DeleteContent)
		if sinks.IsNotExist(err) && pass <= maxAnonymisePasses {
			// A file vanished between the search and its reading: a
			// compaction or expiry got there first.
			e.log.Info("files changed during an anonymisation; planning again", "tenant", tenant, "pass", pass)
			continue
		}
		if err != nil {
			return rc, err
		}
		if len(plan.Remove) == 0 {
			break
		}
		if opts.DryRun {
			st.addTo(rc, plan)
			break
		}
		if pass > maxAnonymisePasses {
			return rc, fmt.Errorf("anonymise: the person's files kept changing after %d passes; run it again", maxAnonymisePasses)
		}
		var fresh []string
		for id := range known {
			if !audited[id] {
				fresh = append(fresh, id)
			}
		}
		slices.Sort(fresh)
		if err := e.appendLedger(ledger, tenant, rc, opts, sinks.ErasureInquiry, fresh); err != nil {
			return rc, err
		}
		if opts.DeleteContent {
			for _, kind := range []string{sinks.ErasureRecording, sinks.ErasureChatlog} {
				if err := e.appendLedger(ledger, tenant, rc, opts, kind, fresh); err != nil {
					return rc, err
				}
			}
		}
		if err := e.auditInquiries(tenant, acc, known, fresh, ActionAnonymise); err != nil {
			return rc, err
		}
		for _, id := range fresh {
			audited[id] = true
		}
		err = lake.Rewrite(tenant, plan)
		if errors.Is(err, sinks.ErrRewriteConflict) {
			e.log.Info("files changed during an anonymisation; planning again", "tenant", tenant, "pass", pass)
			continue
		}
		if err != nil {
			return rc, fmt.Errorf("anonymise: %w", err)
		}
		st.addTo(rc, plan)
		expect = e.afterRewrite(listed, plan)
	}
	rc.Inquiries = len(known)
	d := time.Since(started)
	rc.Duration, rc.DurationMS = d.Round(time.Millisecond).String(), float64(d.Microseconds())/1000
	if !opts.DryRun {
		e.log.Info("anonymised a person", "tenant", tenant, "receipt", rc.ReceiptID, "inquiries", rc.Inquiries,
			"files", rc.FilesRewritten, "request_id", acc.RequestID)
	}
	return rc, nil
}

func (e *Engine) appendLedger(ledger *sinks.Ledger, tenant string, rc *Receipt, opts AnonymiseOptions,
	kind string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	now := e.now().UTC().Truncate(time.Millisecond)
	entries := make([]sinks.LedgerEntry, 0, len(values))
	for _, v := range values {
		h, err := ledger.Hash(tenant, kind, v, true)
		if err != nil {
			return fmt.Errorf("erasure ledger: %w", err)
		}
		entries = append(entries, sinks.LedgerEntry{Kind: kind, Hash: h, Receipt: rc.ReceiptID,
			DeleteContent: opts.DeleteContent, At: now})
	}
	if err := ledger.Append(tenant, entries); err != nil {
		return fmt.Errorf("anonymise: %w", err)
	}
	return nil
}

// personFiles lists (absolute, sorted) the tenant's files a person's rows
// can be in.
func (e *Engine) personFiles(tenant string) ([]string, error) {
	var out []string
	for _, ds := range []string{schema.DatasetInquiries, schema.DatasetSurveys, schema.DatasetChatlogs} {
		files, err := e.files(ds, tenant, dayRange{}, sinks.ParquetSuffix)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	slices.Sort(out)
	return out, nil
}

// afterRewrite is what personFiles lists after plan, when nothing else
// changed the tenant's files since it listed listed. A pass that planned
// on listed found every row of the person in them: if that is still the
// list, the next pass would find nothing.
func (e *Engine) afterRewrite(listed []string, plan sinks.RewritePlan) []string {
	gone := map[string]bool{}
	for _, rel := range plan.Remove {
		gone[e.abs(rel)] = true
	}
	var out []string
	for _, f := range listed {
		if !gone[f] {
			out = append(out, f)
		}
	}
	for _, f := range plan.Add {
		if strings.HasSuffix(f.Name, sinks.ParquetSuffix) {
			out = append(out, e.abs(f.Name))
		}
	}
	slices.Sort(out)
	return out
}

// passStats counts one pass's plan.
type passStats struct {
	rows                  map[string]int
	recordings, chatlogs  int
	surveyComments, added int
}

func (s *passStats) addTo(rc *Receipt, plan sinks.RewritePlan) {
	for ds, n := range s.rows {
		rc.RowsAnonymised[ds] += n
	}
	rc.ContentDeleted.Recordings += s.recordings
	rc.ContentDeleted.ChatlogRows += s.chatlogs
	rc.ContentDeleted.SurveyComments += s.surveyComments
	rc.FilesRewritten += len(plan.Remove) - s.recordings
	rc.FilesAdded += len(plan.Add)
}

// anonymisePlan finds the person's rows and plans one rewrite of the files
// that hold them. known collects the person's inquiries (id -> day); rows
// of known inquiries already anonymised are not planned again.
func (e *Engine) anonymisePlan(ctx context.Context, tenant string, p *person, known map[string]string,
	deleteContent bool) (sinks.RewritePlan, *passStats, error) {
	b := newRewriteBuilder("anonymise")
	st := &passStats{rows: map[string]int{}}
	scanned, err := e.personInquiries(ctx, tenant, p, known)
	if err != nil {
		return b.plan, nil, err
	}
	ids := make([]string, 0, len(known))
	for id := range known {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	held := e.holdingKnown(scanned, ids)
	inqFiles, err := e.candidates(tenant, schema.DatasetInquiries, held)
	if err != nil {
		return b.plan, nil, err
	}
	survFiles, err := e.candidates(tenant, schema.DatasetSurveys, held)
	if err != nil {
		return b.plan, nil, err
	}
	chatFiles, err := e.candidates(tenant, schema.DatasetChatlogs, e.holdingKnown(nil, ids))
	if err != nil {
		return b.plan, nil, err
	}
	// A row is the person's by an identifier, or by a known inquiry when it
	// still holds something to remove; rows already anonymised are not
	// planned again, so that a pass after a rewrite finds nothing.
	isPersons := func(id string) bool { _, ok := known[id]; return ok }
	var jobs []editJob
	var comments atomic.Int64 // survey comments deleted, over the files edited at once
	for _, rel := range inqFiles {
		jobs = append(jobs, editFile(rel, schema.DatasetInquiries, sinks.RowEdit[schema.InquiryRow]{
			Match: func(r *schema.InquiryRow) bool {
				clean := r.Anonymised && r.CallerNumber == nil && r.ChatterName == nil && r.ChatterEmail == nil &&
					r.ChatterNumber == nil && r.FromAddress == nil && r.Subject == nil
				return p.matchNumber(r.CallerNumber) || p.matchNumber(r.ChatterNumber) || p.matchEmail(r.ChatterEmail) ||
					p.matchEmail(r.FromAddress) || isPersons(r.InquiryID) && !clean
			},
			Edit: func(r *schema.InquiryRow) bool { sinks.AnonymiseRow(r, false); return true }}))
	}
	for _, rel := range survFiles {
		jobs = append(jobs, editFile(rel, schema.DatasetSurveys, sinks.RowEdit[schema.SurveyRow]{
			Match: func(r *schema.SurveyRow) bool {
				clean := r.Anonymised && r.RespondentNumber == nil && r.RespondentEmail == nil &&
					!(deleteContent && r.Comment != nil)
				return p.matchNumber(r.RespondentNumber) || p.matchEmail(r.RespondentEmail) || isPersons(r.InquiryID) && !clean
			},
			Edit: func(r *schema.SurveyRow) bool {
				if deleteContent && r.Comment != nil {
					comments.Add(1)
				}
				sinks.AnonymiseRow(r, deleteContent)
				return true
			}}))
	}
	for _, rel := range chatFiles {
		jobs = append(jobs, editFile(rel, schema.DatasetChatlogs, sinks.RowEdit[schema.ChatlogRow]{
			Match: func(r *schema.ChatlogRow) bool { return isPersons(r.InquiryID) && (deleteContent || !r.Anonymised) },
			Edit:  func(r *schema.ChatlogRow) bool { sinks.AnonymiseRow(r, false); return !deleteContent }}))
	}
	edited, err := e.runEdits(ctx, b, jobs)
	if err != nil {
		return b.plan, nil, err
	}
	for _, ed := range edited {
		if ed.dataset == schema.DatasetChatlogs && deleteContent {
			st.chatlogs += ed.Dropped
		} else {
			st.rows[ed.dataset] += ed.Matched
		}
	}
	st.surveyComments = int(comments.Load())
	if deleteContent {
		objects, err := e.mediaOf(ctx, tenant, ids)
		if err != nil {
			return b.plan, nil, err
		}
		for _, obj := range objects {
			if _, err := e.fs.Stat(obj); err == nil && !slices.Contains(b.plan.Remove, obj) {
				b.plan.Remove = append(b.plan.Remove, obj)
				st.recordings++
			}
		}
	}
	return b.plan, st, nil
}

// candidates lists (lake-relative) the tenant's files of dataset that keep
// leaves of them: those that can hold a row of the person.
func (e *Engine) candidates(tenant, dataset string, keep func([]string) ([]string, error)) ([]string, error) {
	files, err := e.files(dataset, tenant, dayRange{}, sinks.ParquetSuffix)
	if err != nil || len(files) == 0 {
		return nil, err
	}
	if files, err = keep(files); err != nil {
		return nil, err
	}
	rels := make([]string, len(files))
	for i, f := range files {
		rel, err := filepath.Rel(e.dir, f)
		if err != nil {
			return nil, err
		}
		rels[i] = filepath.ToSlash(rel)
	}
	return rels, nil
}

// holdingKnown keeps, of a list of files, those that can hold a row of one
// of the person's known inquiries (ids), by their statistics and bloom
// filters (prune.go). With scanned (the files personInquiries read) it
// also keeps every file not scanned: a row of a scanned file that matches
// the person's identifiers belongs to a known inquiry, but a file that
// appeared since may hold new ones. Without it, every file is checked.
func (e *Engine) holdingKnown(scanned map[string]bool, ids []string) func([]string) ([]string, error) {
	return func(files []string) ([]string, error) {
		var check, fresh []string
		for _, f := range files {
			if scanned == nil || scanned[f] {
				check = append(check, f)
			} else {
				fresh = append(fresh, f)
			}
		}
		kept, err := e.mayHoldAny(check, newProbe("inquiry_id", ids))
		return append(kept, fresh...), err
	}
}

// personInquiries adds to known the inquiries of the person: by their own
// identifiers, and those of the surveys the person answered (each with the
// day of its latest row, an inquiry's own before a survey's). It reads the
// identifier columns of the files that statistics, bloom filters and the
// e-mail filters leave, and returns every file it listed (absolute paths):
// those left out cannot hold a row with the person's identifiers.
func (e *Engine) personInquiries(ctx context.Context, tenant string, p *person, known map[string]string) (map[string]bool, error) {
	s, err := e.list(tenant, dayRange{}, schema.DatasetInquiries, schema.DatasetSurveys)
	if err != nil {
		return nil, err
	}
	scanned := map[string]bool{}
	for _, f := range append(slices.Clone(s[schema.DatasetInquiries]), s[schema.DatasetSurveys]...) {
		scanned[f] = true
	}
	inqFiles, err := e.mayHoldPerson(schema.DatasetInquiries, s[schema.DatasetInquiries], p, "caller_number", "chatter_number")
	if err != nil {
		return nil, err
	}
	survFiles, err := e.mayHoldPerson(schema.DatasetSurveys, s[schema.DatasetSurveys], p, "respondent_number")
	if err != nil {
		return nil, err
	}
	inq, err := latestMatching(ctx, e.skipEmpty(inqFiles),
		[]string{"inquiry_id", "started_at", "caller_number", "chatter_number", "chatter_email", "from_address"},
		func(v []parquet.Value) bool {
			return p.matchNumber(text(v[2])) || p.matchNumber(text(v[3])) || p.matchEmail(text(v[4])) || p.matchEmail(text(v[5]))
		})
	if err != nil {
		return nil, err
	}
	surv, err := latestMatching(ctx, e.skipEmpty(survFiles),
		[]string{"inquiry_id", "inquiry_started_at", "respondent_number", "respondent_email"},
		func(v []parquet.Value) bool { return p.matchNumber(text(v[2])) || p.matchEmail(text(v[3])) })
	if err != nil {
		return nil, err
	}
	for _, found := range []map[string]time.Time{inq, surv} {
		for id, at := range found {
			if _, ok := known[id]; !ok {
				known[id] = schema.Day(at)
			}
		}
	}
	return scanned, nil
}

// skipEmpty leaves out the empty placeholder file of a list.
func (e *Engine) skipEmpty(files []string) []string {
	return slices.DeleteFunc(slices.Clone(files), func(f string) bool { return strings.HasPrefix(f, e.empty+string(filepath.Separator)) })
}

// latestMatching reads the columns of the files (an inquiry id and a
// timestamp first), on every core, and returns the latest time of each id
// among the rows match picks.
func latestMatching(ctx context.Context, files, columns []string, match func([]parquet.Value) bool) (map[string]time.Time, error) {
	found := make([]map[string]time.Time, len(files))
	err := inParallel(ctx, len(files), func(i int) error {
		found[i] = map[string]time.Time{}
		err := sinks.ScanColumns(files[i], columns, func(v []parquet.Value) {
			if match(v) {
				id, at := string(v[0].ByteArray()), time.UnixMicro(v[1].Int64()).UTC()
				if at.After(found[i][id]) {
					found[i][id] = at
				}
			}
		})
		if err != nil {
			return fmt.Errorf("find the person's inquiries: %w", err)
		}
		return nil
	})
	out := map[string]time.Time{}
	for _, f := range found {
		for id, at := range f {
			if at.After(out[id]) {
				out[id] = at
			}
		}
	}
	return out, err
}
