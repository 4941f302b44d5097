package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Concurrency (issue 4, "Concurrency"): ingest of one tenant's traffic
// (through the embedded broker), searches, compaction, anonymisation of a
// person and expiry all run at once on one lake for a while. Afterwards
// every valid record produced is in the lake exactly once, except what
// expiry dropped (computed from a fixed --now), the person is anonymised
// everywhere, records of theirs that arrived after the anonymisation
// included, nothing is left over, and every operation succeeded or failed
// with an expected error.

const ccTenant = "t0001"

// ccConfig: with ccNow, expiry drops inquiries and surveys before 10-01,
// chat logs before 10-11 and recordings before 10-21; the traffic spans
// September and October, so expiry drops partitions that ingest keeps
// writing into.
const ccConfig = `
tenants:
  defaults:
    retention: {general: 30d, recordings: 10d, chatlogs: 20d}
    masked_ivr_modules: [enter_card]
    phone_region: SE
  t0001: {}
ingest:
  flush_interval: 150ms
  chunk_timeout: 5s
`

var (
	ccNow   = time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
	ccStart = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	ccEnd   = time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
)

// ccOps counts what each concurrent worker did and collects unexpected
// errors.
type ccOps struct {
	mu         sync.Mutex
	errs       []error
	searches   atomic.Int64
	compacts   atomic.Int64
	compacted  atomic.Int64 // partitions
	expiries   atomic.Int64
	dropped    atomic.Int64 // partitions
	anonymised atomic.Int64
	retried    atomic.Int64 // anonymisations that gave up on a busy lake
	sent       atomic.Int64
}

func (o *ccOps) fail(what string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, fmt.Errorf("%s: %w", what, err))
}

func TestForgetConcurrently(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ingest, search, compaction, anonymisation and expiry together for a while")
	}
	duration := 25 * time.Second
	h := newHarness(t, ccConfig)
	msgs, person := ccTraffic(t, h.cfg.Topics)
	t.Logf("person: %d of their inquiries in %d messages", len(person.inquiries), len(msgs))
	cfg := h.cfg
	ops := &ccOps{}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// Ingest runs for the whole test.
	ingLake := ccOpenLake(t, h.lake)
	ing, err := pipeline.NewIngester(pipeline.Options{Brokers: h.brokers, Group: "concurrent", Lake: ingLake,
		Config: cfg, Logger: slog.New(slog.NewJSONHandler(h.logs, nil))})
	must(t, err)
	ingDone := make(chan error, 1)
	go func() { ingDone <- ing.Run(ctx) }()

	eng, err := query.Open(h.lake, cfg, nil)
	must(t, err)
	defer eng.Close()
	var anonymisedAt atomic.Pointer[time.Time]
	var late []produce.Message
	var wg sync.WaitGroup
	started := time.Now()
	deadline := started.Add(duration)
	// A third of the traffic is there before the others start.
	first := len(msgs) / 3
	must(t, h.prod.Send(ctx, msgs[:first]...))
	wg.Go(func() { ccProduce(ctx, h.prod, msgs[first:], deadline.Add(-duration/5), ops) })
	wg.Go(func() { ccSearch(ctx, eng, person, deadline, ops) })
	wg.Go(func() { ccCompact(h.lake, deadline, ops) })
	wg.Go(func() { ccExpire(h.lake, cfg, deadline, ops) })
	wg.Go(func() {
		time.Sleep(duration / 3)
		ccAnonymise(ctx, eng, person, ops)
		now := time.Now()
		anonymisedAt.Store(&now)
		// Records of the person that started before the anonymisation
		// but arrive after it (consumer lag, a replay).
		late = ccLateRecords(h.cfg.Topics, person)
		if err := h.prod.Send(ctx, late...); err != nil {
			ops.fail("produce late records", err)
		}
		time.Sleep(duration / 4)
		ccAnonymise(ctx, eng, person, ops) // again, while the traffic goes on: idempotent
	})
	wg.Wait()
	t.Logf("concurrent phase done in %s: %d messages sent, %d searches, %d compactions (%d partitions), "+
		"%d expiries (%d partitions), %d anonymisations (%d gave up on a busy lake and were retried)",
		time.Since(started).Round(time.Millisecond), ops.sent.Load(), ops.searches.Load(), ops.compacts.Load(),
		ops.compacted.Load(), ops.expiries.Load(), ops.dropped.Load(), ops.anonymised.Load(), ops.retried.Load())
	stop()
	if err := <-ingDone; err != nil {
		t.Errorf("ingest: %v", err)
	}
	must(t, ingLake.Close())
	for _, err := range ops.errs {
		t.Errorf("concurrent operation: %v", err)
	}
	if anonymisedAt.Load() == nil {
		t.Fatal("the anonymisation did not run")
	}

	// What is left in Kafka is archived, then expiry runs once more at the
	// same instant, so that what it drops is exactly computable.
	h.drain("concurrent", nil)
	final := ccOpenLake(t, h.lake)
	_, err = final.Expire(ccNow, cfg.Policy, false)
	must(t, err)

	all := append(slices.Clone(msgs), late...)
	ccAssertExact(t, h.lake, cfg, all)
	ccAssertAnonymised(t, h.lake, eng, all, person)
	// A chat log or survey flushed before its inquiry record revealed the
	// person is anonymised by the next compaction, which consults the
	// ledger that ingest added the inquiry to.
	t.Logf("before the next compaction, %d chat logs and surveys of the person's inquiries are not anonymised",
		ccContentNotAnonymised(t, h.lake, person, false))
	_, err = final.Compact(sinks.CompactOptions{Tenant: ccTenant, MinFiles: 1, Ledger: sinks.NewLedger(final)})
	must(t, err)
	must(t, final.Close())
	ccContentNotAnonymised(t, h.lake, person, true)
	ccAssertExact(t, h.lake, cfg, all)
	h.assertNoDebris()
	for _, d := range []string{sinks.RewriteDir, sinks.TrashDir} {
		entries, _ := os.ReadDir(filepath.Join(h.lake, d))
		for _, e := range entries {
			t.Errorf("left over: %s/%s", d, e.Name())
		}
	}
	if ops.compacted.Load() == 0 || ops.dropped.Load() == 0 || ops.searches.Load() == 0 {
		t.Errorf("the concurrent phase did not exercise everything: %d partitions compacted, %d dropped, %d searches",
			ops.compacted.Load(), ops.dropped.Load(), ops.searches.Load())
	}
}

func ccOpenLake(t *testing.T, dir string) *sinks.Lake {
	t.Helper()
	l, err := sinks.OpenDir(dir, nil)
	must(t, err)
	return l
}

// ccPerson is the person to forget: the tenant's most frequent caller, and
// the e-mail addresses they chatted with under that number.
type ccPerson struct {
	number    string
	emails    []string // lower case
	inquiries map[string]bool
}

func (p *ccPerson) matches(vals ...*string) bool {
	for _, v := range vals {
		if v == nil {
			continue
		}
		s := strings.ToLower(strings.TrimSpace(*v))
		if s == p.number || slices.Contains(p.emails, s) {
			return true
		}
	}
	return false
}

// ccTraffic generates the tenant's traffic and picks the person.
func ccTraffic(t *testing.T, tp config.Topics) ([]produce.Message, *ccPerson) {
	t.Helper()
	g := loadgen.New(loadgen.Options{Tenants: 1, Count: 1200, Seed: 11, Start: ccStart, End: ccEnd,
		Recordings: true, RecordingBytes: 6 << 10, ChunkBytes: 4 << 10,
		Topics: loadgen.Topics{Inquiries: tp.Inquiries, Chatlogs: tp.Chatlogs, Recordings: tp.Recordings, Surveys: tp.Surveys}})
	var msgs []produce.Message
	callers := map[string]int{}
	for {
		m, ok := g.Next()
		if !ok {
			break
		}
		msgs = append(msgs, produce.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		if m.Topic == tp.Inquiries {
			var in schema.Inquiry
			must(t, json.Unmarshal(m.Value, &in))
			if in.CallerNumber != nil {
				callers[*in.CallerNumber]++
			}
		}
	}
	p := &ccPerson{inquiries: map[string]bool{}}
	for n, c := range callers {
		if c > callers[p.number] || (c == callers[p.number] && n < p.number) {
			p.number = n
		}
	}
	for _, m := range msgs {
		if m.Topic != tp.Inquiries {
			continue
		}
		var in schema.Inquiry
		must(t, json.Unmarshal(m.Value, &in))
		if in.ChatterNumber != nil && *in.ChatterNumber == p.number && in.ChatterEmail != nil {
			if e := strings.ToLower(*in.ChatterEmail); !slices.Contains(p.emails, e) {
				p.emails = append(p.emails, e)
			}
		}
	}
	for _, m := range msgs {
		if id, ok := ccPersonsInquiry(t, tp, m, p); ok {
			p.inquiries[id] = true
		}
	}
	if callers[p.number] < 5 {
		t.Fatalf("the most frequent caller called %d times", callers[p.number])
	}
	return msgs, p
}

// ccPersonsInquiry reports whether m is an inquiry record of the person.
func ccPersonsInquiry(t *testing.T, tp config.Topics, m produce.Message, p *ccPerson) (string, bool) {
	t.Helper()
	if m.Topic != tp.Inquiries {
		return "", false
	}
	var in schema.Inquiry
	must(t, json.Unmarshal(m.Value, &in))
	return in.InquiryID, p.matches(in.CallerNumber, in.ChatterNumber, in.ChatterEmail, in.FromAddress)
}

// ccLateRecords are the person's records that arrive after the
// anonymisation: an older call, a chat with its chat log and a survey.
func ccLateRecords(tp config.Topics, p *ccPerson) []produce.Message {
	call := phone("late-call", "2026-10-20T08:00:00Z", map[string]any{"tenant_id": ccTenant,
		"caller_number": " " + p.number + " "})
	chat := map[string]any{"schema_version": 1, "tenant_id": ccTenant, "inquiry_id": "late-chat",
		"media_type": "chat", "started_at": "2026-10-21T10:00:00Z", "chatter_name": "Late Chatter",
		"chatter_number": p.number, "chat_store_consent": true}
	if len(p.emails) > 0 {
		chat["chatter_email"] = strings.ToUpper(p.emails[0])
	}
	log := map[string]any{"schema_version": 1, "tenant_id": ccTenant, "inquiry_id": "late-chat",
		"inquiry_started_at": "2026-10-21T10:00:00Z", "chat_store_consent": true, "messages": []any{
			map[string]any{"at": "2026-10-21T10:00:07Z", "from": "chatter", "name": "Late Chatter", "text": "late hello"}}}
	survey := map[string]any{"schema_version": 1, "tenant_id": ccTenant, "survey_id": "late-survey",
		"survey_type": "sms", "session_id": "s-late-call", "inquiry_id": "late-call",
		"inquiry_started_at": "2026-10-20T08:00:00Z", "score": 3, "respondent_number": p.number}
	p.inquiries["late-call"], p.inquiries["late-chat"] = true, true
	return []produce.Message{jsonMsg(tp.Chatlogs, log), jsonMsg(tp.Inquiries, call), jsonMsg(tp.Inquiries, chat),
		jsonMsg(tp.Surveys, survey)}
}

// ccProduce sends msgs in small batches spread until the deadline.
func ccProduce(ctx context.Context, prod *produce.Producer, msgs []produce.Message, deadline time.Time, ops *ccOps) {
	const batch = 20 // a day's records come in several flushes: compaction has work
	batches := (len(msgs) + batch - 1) / batch
	pause := time.Until(deadline) / time.Duration(max(batches, 1))
	for i := 0; i < len(msgs); i += batch {
		part := msgs[i:min(i+batch, len(msgs))]
		if err := prod.Send(ctx, part...); err != nil {
			ops.fail("produce", err)
			return
		}
		ops.sent.Add(int64(len(part)))
		time.Sleep(pause)
	}
}

// ccSearch searches by time, by the person's number and by e-mail until the
// deadline.
func ccSearch(ctx context.Context, eng *query.Engine, p *ccPerson, deadline time.Time, ops *ccOps) {
	filters := []query.Filter{{From: ccStart}, {From: ccStart, Number: p.number}, {From: ccStart, Media: "chat"}}
	if len(p.emails) > 0 {
		filters = append(filters, query.Filter{From: ccStart, Email: p.emails[0]})
	}
	for i := 0; time.Now().Before(deadline); i++ {
		f := filters[i%len(filters)]
		res, err := eng.Search(ctx, ccTenant, f, query.Page{Limit: 500})
		if err != nil {
			ops.fail("search", err)
			return
		}
		ids := map[string]bool{}
		for _, r := range res.Rows {
			if ids[r.InquiryID] {
				ops.fail("search", fmt.Errorf("inquiry %s shown twice", r.InquiryID))
			}
			ids[r.InquiryID] = true
		}
		ops.searches.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
}

// ccCompact compacts the tenant again and again, as `arkiv compact` and
// ingest's periodic compaction do, with the erasure ledger.
func ccCompact(dir string, deadline time.Time, ops *ccOps) {
	lake, err := sinks.OpenDir(dir, nil)
	if err != nil {
		ops.fail("compact: open", err)
		return
	}
	defer lake.Close()
	ledger := sinks.NewLedger(lake)
	for time.Now().Before(deadline) {
		rep, err := lake.Compact(sinks.CompactOptions{Tenant: ccTenant, MinFiles: 2, Ledger: ledger})
		if err != nil {
			ops.fail("compact", err)
			return
		}
		ops.compacts.Add(1)
		ops.compacted.Add(int64(rep.Partitions))
		time.Sleep(2 * time.Second)
	}
}

// ccExpire runs expiry at the fixed instant again and again (ingest keeps
// writing into partitions it drops).
func ccExpire(dir string, cfg *config.Config, deadline time.Time, ops *ccOps) {
	for time.Now().Before(deadline) {
		lake, err := sinks.OpenDir(dir, nil) // as `arkiv expire` does, each run
		if err != nil {
			ops.fail("expire: open", err)
			return
		}
		plan, err := lake.Expire(ccNow, cfg.Policy, false)
		cerr := lake.Close()
		if err = errors.Join(err, cerr); err != nil {
			ops.fail("expire", err)
			return
		}
		ops.expiries.Add(1)
		for _, te := range plan.Tenants {
			for _, ce := range te.Classes {
				for _, p := range ce.Partitions {
					if p.Dropped {
						ops.dropped.Add(1)
					}
				}
			}
		}
		time.Sleep(1500 * time.Millisecond)
	}
}

// ccAnonymise forgets the person; an anonymisation that keeps losing races
// with ingest and compaction gives up with a clear error and is retried.
func ccAnonymise(ctx context.Context, eng *query.Engine, p *ccPerson, ops *ccOps) {
	for attempt := 1; ; attempt++ {
		_, err := eng.Anonymise(ctx, ccTenant, query.Access{Actor: "dpo"},
			query.Person{Numbers: []string{p.number}, Emails: p.emails}, query.AnonymiseOptions{})
		if err == nil {
			ops.anonymised.Add(1)
			return
		}
		if !strings.Contains(err.Error(), "kept changing") || attempt == 5 {
			ops.fail("anonymise", err)
			return
		}
		ops.retried.Add(1)
	}
}

// ccExpected is what the lake must hold: the ids of each dataset's valid
// records of the tenant whose partition day is not expired at ccNow.
func ccExpected(t *testing.T, cfg *config.Config, msgs []produce.Message) map[string]map[string]bool {
	t.Helper()
	pol := cfg.Policy(ccTenant)
	cut := func(days int) string { return sinks.Cutoff(ccNow, days).Format(time.DateOnly) }
	general, chats, recs := cut(int(pol.General)), cut(min(int(pol.Chatlogs), int(pol.General))),
		cut(min(int(pol.Recordings), int(pol.General)))
	out := map[string]map[string]bool{schema.DatasetInquiries: {}, schema.DatasetChatlogs: {},
		schema.DatasetSurveys: {}, schema.DatasetRecordings: {}}
	tp := cfg.Topics
	for _, m := range msgs {
		switch m.Topic {
		case tp.Inquiries:
			var in schema.Inquiry
			must(t, json.Unmarshal(m.Value, &in))
			if schema.Day(in.StartedAt) >= general {
				out[schema.DatasetInquiries][in.InquiryID] = true
			}
		case tp.Chatlogs:
			var c schema.ChatLog
			must(t, json.Unmarshal(m.Value, &c))
			if c.ChatStoreConsent != nil && *c.ChatStoreConsent && schema.Day(c.InquiryStartedAt) >= chats {
				out[schema.DatasetChatlogs][c.InquiryID] = true
			}
		case tp.Surveys:
			var s schema.Survey
			must(t, json.Unmarshal(m.Value, &s))
			if schema.Day(s.InquiryStartedAt) >= general {
				out[schema.DatasetSurveys][s.SurveyID] = true
			}
		case tp.Recordings:
			if ccHeader(m, "last-chunk") != "true" || ccHeader(m, "deny-recording") == "true" {
				continue
			}
			inq, rec := ccHeader(m, "inquiry-id"), ccHeader(m, "recording-id")
			at, err := time.Parse(time.RFC3339Nano, ccHeader(m, "inquiry-started-at"))
			must(t, err)
			if schema.Day(at) >= recs {
				out[schema.DatasetRecordings][inq+"/"+rec] = true
			}
		}
	}
	return out
}

func ccHeader(m produce.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// ccAssertExact: every expected record is in the lake's files exactly once
// and nothing else is; the engine shows each inquiry once.
func ccAssertExact(t *testing.T, dir string, cfg *config.Config, msgs []produce.Message) {
	t.Helper()
	want := ccExpected(t, cfg, msgs)
	got := map[string]map[string]int{schema.DatasetInquiries: {}, schema.DatasetChatlogs: {},
		schema.DatasetSurveys: {}, schema.DatasetRecordings: {}}
	inq, err := laketest.ReadTenantRows[schema.InquiryRow](dir, schema.DatasetInquiries)
	must(t, err)
	for _, r := range inq[ccTenant] {
		got[schema.DatasetInquiries][r.InquiryID]++
	}
	chats, err := laketest.ReadTenantRows[schema.ChatlogRow](dir, schema.DatasetChatlogs)
	must(t, err)
	for _, r := range chats[ccTenant] {
		got[schema.DatasetChatlogs][r.InquiryID]++
	}
	surveys, err := laketest.ReadTenantRows[schema.SurveyRow](dir, schema.DatasetSurveys)
	must(t, err)
	for _, r := range surveys[ccTenant] {
		got[schema.DatasetSurveys][r.SurveyID]++
	}
	recs, err := laketest.ReadTenantRows[schema.RecordingRow](dir, schema.DatasetRecordings)
	must(t, err)
	for _, r := range recs[ccTenant] {
		got[schema.DatasetRecordings][r.InquiryID+"/"+r.RecordingID]++
		if _, err := os.Stat(filepath.Join(dir, r.Object)); err != nil {
			t.Errorf("recording %s/%s: media object: %v", r.InquiryID, r.RecordingID, err)
		}
	}
	for ds, ids := range want {
		bad := 0
		for id := range ids {
			if got[ds][id] != 1 && bad < 5 {
				t.Errorf("%s %s archived %d times, want once", ds, id, got[ds][id])
				bad++
			}
		}
		for id, n := range got[ds] {
			if !ids[id] && bad < 10 {
				t.Errorf("%s %s (%d times) should not be in the lake", ds, id, n)
				bad++
			}
		}
		t.Logf("%s: %d in the lake, %d expected", ds, len(got[ds]), len(ids))
	}
	if len(want[schema.DatasetInquiries]) < 300 {
		t.Errorf("only %d inquiries expected: expiry took too much to test counts", len(want[schema.DatasetInquiries]))
	}
}

// ccAssertAnonymised: every inquiry and survey row of the person is
// anonymised, searches by their identifiers find nothing and no file holds
// them (ccContentNotAnonymised checks their chat logs and the surveys of
// their inquiries).
func ccAssertAnonymised(t *testing.T, dir string, eng *query.Engine, msgs []produce.Message, p *ccPerson) {
	t.Helper()
	inq, err := laketest.ReadTenantRows[schema.InquiryRow](dir, schema.DatasetInquiries)
	must(t, err)
	seen := 0
	for _, r := range inq[ccTenant] {
		if p.matches(r.CallerNumber, r.ChatterNumber, r.ChatterEmail, r.FromAddress) {
			t.Errorf("inquiry %s still holds the person's identifiers", r.InquiryID)
		}
		if !p.inquiries[r.InquiryID] {
			continue
		}
		seen++
		if !r.Anonymised || r.CallerNumber != nil || r.ChatterName != nil || r.ChatterEmail != nil ||
			r.ChatterNumber != nil || r.FromAddress != nil || r.Subject != nil {
			t.Errorf("the person's inquiry %s is not anonymised: %+v", r.InquiryID, r)
		}
	}
	if seen < 3 || !slices.ContainsFunc(inq[ccTenant], func(r schema.InquiryRow) bool { return r.InquiryID == "late-call" }) {
		t.Errorf("only %d of the person's inquiries are in the lake, or the late call is missing", seen)
	}
	surveys, err := laketest.ReadTenantRows[schema.SurveyRow](dir, schema.DatasetSurveys)
	must(t, err)
	for _, r := range surveys[ccTenant] {
		if p.matches(r.RespondentNumber, r.RespondentEmail) {
			t.Errorf("the person's survey %s is not anonymised: %+v", r.SurveyID, r)
		}
	}
	for _, f := range []query.Filter{{From: ccStart, Number: p.number}, {From: ccStart, Email: strings.Join(p.emails[:min(1, len(p.emails))], "")}} {
		if f.Number == "" && f.Email == "" {
			continue
		}
		res, err := eng.Search(context.Background(), ccTenant, f, query.Page{})
		if err != nil || len(res.Rows) != 0 {
			t.Errorf("search %+v after the anonymisation: %d rows, %v", f, len(res.Rows), err)
		}
	}
	secrets := []string{p.number, "0" + strings.TrimPrefix(p.number, "+46")}
	for _, e := range p.emails {
		if !ccInOthers(t, msgs, e, p) { // "a.berg@x.se" is in "anna.berg@x.se"
			secrets = append(secrets, e, strings.ToUpper(e))
		}
	}
	found, err := laketest.ScanForSecrets(dir, secrets)
	must(t, err)
	for _, f := range found {
		t.Errorf("after the anonymisation: %s", f)
	}
}

// ccContentNotAnonymised counts (strict: reports as errors) the chat logs
// (the chatter's name in the messages) and surveys of the person's
// inquiries that are not anonymised.
func ccContentNotAnonymised(t *testing.T, dir string, p *ccPerson, strict bool) int {
	t.Helper()
	n := 0
	report := func(format string, args ...any) {
		n++
		if strict {
			t.Errorf(format, args...)
		}
	}
	chats, err := laketest.ReadTenantRows[schema.ChatlogRow](dir, schema.DatasetChatlogs)
	must(t, err)
	for _, r := range chats[ccTenant] {
		if p.inquiries[r.InquiryID] && (!r.Anonymised || slices.ContainsFunc(r.Messages,
			func(m schema.ChatMessageRow) bool { return m.Name != nil })) {
			report("the chat log of the person's inquiry %s is not anonymised", r.InquiryID)
		}
	}
	surveys, err := laketest.ReadTenantRows[schema.SurveyRow](dir, schema.DatasetSurveys)
	must(t, err)
	for _, r := range surveys[ccTenant] {
		if p.inquiries[r.InquiryID] && !r.Anonymised {
			report("the survey %s of the person's inquiry %s is not anonymised", r.SurveyID, r.InquiryID)
		}
	}
	return n
}

// ccInOthers reports whether an address of the person is part of someone
// else's (a byte scan for it would find theirs).
func ccInOthers(t *testing.T, msgs []produce.Message, email string, p *ccPerson) bool {
	t.Helper()
	for _, m := range msgs {
		low := strings.ToLower(string(m.Value))
		for i := strings.Index(low, email); i >= 0; {
			start, end := i, i+len(email)
			for start > 0 && strings.IndexByte(" \"<>,:", low[start-1]) < 0 {
				start--
			}
			for end < len(low) && strings.IndexByte(" \"<>,:", low[end]) < 0 {
				end++
			}
			if !p.matches(ptrTo(low[start:end])) {
				return true
			}
			next := strings.Index(low[i+1:], email)
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return false
}
