package query

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/lakegen"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// samePages runs a search narrowed and unnarrowed, page by page, and
// fails unless every page is the same (every field of every row, and the
// cursor). It returns how many rows the search found.
func samePages(t *testing.T, e *Engine, tenant string, f Filter, limit int) int {
	t.Helper()
	ctx := context.Background()
	after, n := "", 0
	for page := 0; page < 4; page++ {
		got, err := e.search(ctx, tenant, f, Page{Limit: limit, After: after}, true)
		if err != nil {
			t.Fatalf("%+v: narrowed: %v", f, err)
		}
		want, err := e.search(ctx, tenant, f, Page{Limit: limit, After: after}, false)
		if err != nil {
			t.Fatalf("%+v: unnarrowed: %v", f, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v page %d: narrowed search gives %d rows %v, the search query over every file %d rows %v",
				f, page, len(got.Rows), ids(got.Rows), len(want.Rows), ids(want.Rows))
		}
		n += len(got.Rows)
		if got.Next == "" {
			break
		}
		after = got.Next
	}
	return n
}

// generatedLake generates a lake of o, with three flushes per partition
// and 5% upstream duplicates, and opens an engine over it that closes with
// the test. It returns the engine, the lake's summary and its folder.
func generatedLake(t *testing.T, o lakegen.Options) (*Engine, *lakegen.Summary, string) {
	t.Helper()
	dir := t.TempDir()
	o.Flushes, o.Duplicates = 3, 0.05
	sum, err := lakegen.Generate(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, sum, dir
}

// TestNarrowedSearchIsTheSame: on a generated lake with several flushes
// per partition and upstream duplicates, every selective search gives
// exactly what the search query over every file gives.
func TestNarrowedSearchIsTheSame(t *testing.T) {
	now := time.Now().UTC()
	e, sum, dir := generatedLake(t, lakegen.Options{Inquiries: 6000, Tenants: 2, Days: 20, Seed: 5, Now: now})
	p := sum.Planted[0]
	pick := func(q string) string {
		var s string
		if err := e.db.QueryRow(q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	inq := "read_parquet('" + filepath.Join(dir, "inquiries", "tenant="+p.Tenant) + "/*/*.parquet')"
	busy := pick(`SELECT caller_number FROM ` + inq + ` WHERE caller_number IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
	mail := pick(`SELECT from_address FROM ` + inq + ` WHERE from_address LIKE '%@%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`)
	dup := pick(`SELECT inquiry_id FROM ` + inq + ` GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 1`)
	session := pick(`SELECT session_id FROM ` + inq + ` WHERE inquiry_id = '` + dup + `'`)
	from := now.AddDate(0, 0, -30)
	yes, no, eight := true, false, 8
	cases := []Filter{
		{Number: p.Typed}, {Number: p.Number, HasRecording: &yes}, {Number: p.Number, HasChatlog: &yes},
		{Email: strings.ToUpper(p.Email)}, {Email: p.Email, MinScore: &eight}, {Email: p.Email, Media: "chat"},
		{Number: busy}, {Number: busy, HasRecording: &no}, {Email: strings.ToUpper(mail)},
		{Name: "malin"}, {Name: "å"}, {Name: "a"}, {Session: session}, {Inquiry: dup}, {Inquiry: dup, Number: busy},
		{Number: "0700000000"}, {Email: "nobody@example.com"}, {Number: p.Typed, To: now.AddDate(0, 0, -10)},
	}
	found := 0
	for _, f := range cases {
		if f.From.IsZero() {
			f.From = from
		}
		found += samePages(t, e, p.Tenant, f, 7)
	}
	if found < 100 {
		t.Errorf("the cases found only %d rows in all: the comparison proves little", found)
	}
}

// TestNarrowedSearchSeesEveryVersion: a newer version of an inquiry in
// another partition (its start moved a day) decides, even when that
// version does not match the filter (it was anonymised).
func TestNarrowedSearchSeesEveryVersion(t *testing.T) {
	l := laketest.NewBuilder(t)
	dayA, dayB := daysAgo(5, 10), daysAgo(4, 1)
	q1, q2 := phone("q1", dayA, "+46701112233"), phone("q2", dayA, "+46701112233")
	l.Inquiries("t01", q1, q2, phone("q3", dayB, "+46709990000"))
	q1new := q1
	q1new.StartedAt, q1new.CallerNumber, q1new.Anonymised = dayB, nil, true
	q1new.IngestedAt = q1.IngestedAt.Add(time.Hour)
	q2new := q2
	q2new.StartedAt, q2new.Queue = dayB, "moved"
	q2new.IngestedAt = q2.IngestedAt.Add(time.Hour)
	l.Inquiries("t01", q1new, q2new)
	e, err := Open(l.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := Filter{From: daysAgo(10, 0), Number: "070-111 22 33"}
	if n := samePages(t, e, "t01", f, 10); n != 1 {
		t.Fatalf("found %d inquiries, want only q2", n)
	}
	res, err := e.Search(context.Background(), "t01", f, Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].InquiryID != "q2" || res.Rows[0].Queue != "moved" {
		t.Errorf("got %+v, want q2's newest version (queue moved)", res.Rows)
	}
}

// TestPruning: files whose statistics or bloom filters rule out every
// value sought are left out; files that may hold one are kept.
func TestPruning(t *testing.T) {
	l := laketest.NewBuilder(t)
	day := daysAgo(2, 9)
	var rows []schema.InquiryRow
	for i := range 300 {
		r := phone(fmt.Sprintf("q%03d", i), day, fmt.Sprintf("+4670%07d", 1000+i*7))
		if i%10 == 0 {
			r.ChatterNumber = sp(fmt.Sprintf("+4673%07d", 500+i))
		}
		rows = append(rows, r)
	}
	l.Inquiries("t01", rows...)
	l.Inquiries("t01", phone("other", day, "+46709999999"))
	e, err := Open(l.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	files, err := e.files(schema.DatasetInquiries, "t01", dayRange{}, sinks.ParquetSuffix)
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v", files, err)
	}
	big := files[0]
	if !strings.HasSuffix(big, "test-0001.parquet") {
		big = files[1]
	}
	checkPruning(t, e, files, big)
	e.facts = &factCache{m: map[string]*fileFacts{}} // no room for bloom filters
	checkPruning(t, e, files, big)
	if err := os.Remove(big); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mayHoldAny(files, newProbe("inquiry_id", []string{"x"})); err == nil {
		t.Error("pruning a file that vanished: no error (the search would not retry on a fresh list)")
	}
}

// checkPruning checks TestPruning's cases, and that the bloom filters the
// cases need are cached exactly when the cache has room for them.
func checkPruning(t *testing.T, e *Engine, files []string, big string) {
	t.Helper()
	cases := []struct {
		name string
		p    []probe
		want []string // files kept
	}{
		{"caller number present", []probe{newProbe("caller_number", []string{"+46700001007"})}, []string{big}},
		{"caller number below every file", []probe{newProbe("caller_number", []string{"+46600000000"})}, nil},
		{"chatter number present (bloom)", []probe{newProbe("chatter_number", []string{"+46730000600"})}, []string{big}},
		{"chatter numbers absent (bloom)", []probe{newProbe("chatter_number", []string{"+46730000501", "+46730000502", "+46730000777"})}, nil},
		{"either column", []probe{newProbe("caller_number", []string{"+46709999999"}), newProbe("chatter_number", []string{"+46730000600"})}, files},
		{"inquiry id in one file", []probe{newProbe("inquiry_id", []string{"other"})}, []string{otherFile(files, big)}},
		{"a column without facts keeps everything", []probe{newProbe("queue", []string{"nope"})}, files},
	}
	for _, c := range cases {
		got, err := e.mayHoldAny(files, c.p...)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("budget %d: %s: kept %v, want %v", e.facts.bloomBudget, c.name, got, c.want)
		}
	}
	ff, err := e.factsOf(big)
	if err != nil {
		t.Fatal(err)
	}
	cf := ff.groups[0]["chatter_number"]
	if cached := cf.bloom != nil; cf.bloomOff == 0 || cached != (e.facts.bloomBudget > 0) {
		t.Errorf("budget %d: chatter_number's bloom filter at %d, cached %v", e.facts.bloomBudget, cf.bloomOff, cached)
	}
}

// TestCandidateMediaNames: a media object is a candidate's when its name
// is the candidate's id and a dash, ids with dashes of their own included.
func TestCandidateMediaNames(t *testing.T) {
	ids := map[string]bool{"q1": true, "a-b": true}
	cases := map[string]bool{
		"media/tenant=t01/date=2026-01-02/q1-r1.mp3":   true,
		"media/tenant=t01/date=2026-01-02/a-b-r9.mp3":  true,
		"media/tenant=t01/date=2026-01-02/q10-r1.mp3":  false,
		"media/tenant=t01/date=2026-01-02/a-r1.mp3":    false,
		"media/tenant=t01/date=2026-01-02/q1.mp3":      false,
		"media/tenant=t01/date=2026-01-02/-q1-r1.mp3":  false,
		"media/tenant=t01/date=2026-01-02/xq1-r1.mp3":  false,
		"media/tenant=t01/date=2026-01-02/a-b-c-d.mp3": true,
	}
	for obj, want := range cases {
		if got := namedAfterOneOf(obj, ids); got != want {
			t.Errorf("%s: candidate's %v, want %v", obj, got, want)
		}
	}
}

func otherFile(files []string, not string) string {
	for _, f := range files {
		if f != not {
			return f
		}
	}
	return ""
}

// TestReadFactsRefusesJunk: a file that is not Parquet is an error, not a
// file ruled out.
func TestReadFactsRefusesJunk(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{"short": []byte("PAR1"), "notparquet": bytes.Repeat([]byte("x"), 100),
		"badlen": append(bytes.Repeat([]byte("x"), 20), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1')} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		e := &Engine{facts: newFactCache()}
		if _, err := e.fileMayHold(path, []probe{newProbe("inquiry_id", []string{"x"})}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestAnonymiseRewritesOnlyThePersonsFiles: on a generated lake, the
// anonymisation of a planted person (found through pruned file lists)
// rewrites exactly the files that held their rows and leaves every other
// file as it was.
func TestAnonymiseRewritesOnlyThePersonsFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	sum, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: 6000, Tenants: 2, Days: 20,
		Seed: 9, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	before := lakeFiles(t, dir)
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p := sum.Planted[1]
	rc, err := e.Anonymise(context.Background(), p.Tenant, Access{Actor: "test"},
		Person{Numbers: []string{p.Typed}, Emails: []string{strings.ToUpper(p.Email)}}, AnonymiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rc.FilesRewritten != len(p.HeldIn) || rc.Inquiries != lakegen.PlantedInquiries {
		t.Errorf("rewrote %d files for %d inquiries; the person's rows were in %d files, of 20 inquiries",
			rc.FilesRewritten, rc.Inquiries, len(p.HeldIn))
	}
	after := lakeFiles(t, dir)
	for name, sum := range before {
		held := false
		for _, h := range p.HeldIn {
			held = held || name == h
		}
		if _, still := after[name]; still == held || (still && after[name] != sum) {
			t.Errorf("%s (held the person: %v): still there %v, unchanged %v", name, held, still, after[name] == sum)
		}
	}
	for _, f := range []Filter{{Number: p.Number}, {Email: p.Email}} {
		f.From = now.AddDate(0, 0, -30)
		if n := samePages(t, e, p.Tenant, f, 50); n != 0 {
			t.Errorf("%+v still finds %d inquiries", f, n)
		}
	}
}

// lakeFiles maps every Parquet file of a lake (lake-relative) to its bytes.
func lakeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, err := filepath.Glob(filepath.Join(dir, "*", "tenant=*", "date=*", "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		out[filepath.ToSlash(rel)] = string(b)
	}
	return out
}

// TestEmailPruning: the footer's lower-case e-mail filter leaves out the
// files that cannot hold an address in any case; a file with a non-ASCII
// address (the Kelvin sign lowers to "k") is kept for every lookup, and
// the search finds the same either way.
func TestEmailPruning(t *testing.T) {
	l := laketest.NewBuilder(t)
	day := daysAgo(3, 9)
	email := func(id, from string) schema.InquiryRow {
		r := phone(id, day, "+46701112233")
		r.MediaType, r.CallerNumber, r.FromAddress = "email", nil, sp(from)
		return r
	}
	l.Inquiries("t01", chat("anna", day, "Anna Berg", "Anna.Berg@Example.SE"), email("bo", "bo@example.se"))
	l.Inquiries("t01", email("other", "other@example.se"))
	l.Inquiries("t01", email("kelvin", "\u212Aalle@example.se"))
	e, err := Open(l.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	files, err := e.files(schema.DatasetInquiries, "t01", dayRange{}, sinks.ParquetSuffix)
	if err != nil || len(files) != 3 {
		t.Fatalf("files %v, %v", files, err)
	}
	holder := func(id string) string {
		t.Helper()
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(id)) {
				return f
			}
		}
		t.Fatalf("no file holds %s", id)
		return ""
	}
	anna, kelvin := holder("anna"), holder("kelvin")
	cases := []struct {
		addr string
		want []string
	}{
		{"anna.berg@example.se", []string{anna, kelvin}},
		{"BO@EXAMPLE.SE", []string{anna, kelvin}},
		{"kalle@example.se", []string{kelvin}},
		{"nobody@example.se", []string{kelvin}},
		{"ånna@example.se", files}, // not ASCII: nothing can be ruled out
	}
	for _, c := range cases {
		got, err := e.mayHoldEmail(files, c.addr)
		if err != nil {
			t.Fatal(err)
		}
		if !sameSet(got, c.want) {
			t.Errorf("%s: kept %v, want %v", c.addr, got, c.want)
		}
	}
	f := Filter{From: daysAgo(10, 0)}
	for _, addr := range []string{"ANNA.berg@example.se", "bo@Example.se", "kalle@example.se", "\u212Aalle@example.se"} {
		f.Email = addr
		if n := samePages(t, e, "t01", f, 5); n != 1 {
			t.Errorf("%s: found %d inquiries, want 1", addr, n)
		}
	}
}

func sameSet(a, b []string) bool {
	return reflect.DeepEqual(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// TestWarmPruning: warming reads the metadata of every file a search may
// prune, of every tenant, and a search after it finds the same.
func TestWarmPruning(t *testing.T) {
	dir := t.TempDir()
	sum, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: 2000, Tenants: 3, Days: 10,
		Seed: 3, Now: time.Now().UTC(), Flushes: 2})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want := 0
	for _, ds := range searchDatasets {
		want += sum.Files[ds]
	}
	st, err := e.WarmPruning(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want == 0 || st.Tenants != 3 || st.Files != want || len(e.facts.m) != want {
		t.Fatalf("warmed %+v, cache holds %d; want 3 tenants and the %d files of %v", st, len(e.facts.m), want, searchDatasets)
	}
	p := sum.Planted[0]
	res, err := e.Search(context.Background(), p.Tenant, Filter{Number: p.Typed}, Page{Limit: 100})
	if err != nil || len(res.Rows) != p.ByNumber {
		t.Fatalf("after warming, the number finds %d rows (%v), want %d", len(res.Rows), err, p.ByNumber)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.WarmPruning(ctx); err == nil {
		t.Error("warming with a cancelled context: no error")
	}
}

// TestMayHoldPerson: anonymisation reads only the inquiry and survey files
// that may hold one of the person's numbers or addresses (any case); the
// others are left out, and an address that is not ASCII rules nothing out.
func TestMayHoldPerson(t *testing.T) {
	l := laketest.NewBuilder(t)
	day := daysAgo(3, 9)
	l.Inquiries("t01", phone("byNumber", day, "+46701112233"))
	l.Inquiries("t01", chat("byEmail", day, "Anna", "Anna.Berg@Example.SE"))
	l.Inquiries("t01", phone("neither", day, "+46709990000"))
	survey := func(id string, number, email *string) schema.SurveyRow {
		return schema.SurveyRow{SurveyID: "s-" + id, SurveyType: "csat", SessionID: "x", InquiryID: id,
			InquiryStartedAt: day, Score: 3, RespondentNumber: number, RespondentEmail: email, Meta: meta(day)}
	}
	l.Surveys("t01", survey("sNumber", sp("+46701112233"), nil))
	l.Surveys("t01", survey("sEmail", nil, sp("ANNA.BERG@example.se")))
	l.Surveys("t01", survey("sNeither", sp("+46709990000"), sp("bo@example.se")))
	e, err := Open(l.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, err := e.normalisePerson("t01", Person{Numbers: []string{"070-111 22 33"}, Emails: []string{"anna.berg@example.se"}})
	if err != nil {
		t.Fatal(err)
	}
	held := func(ds string, numberColumn string, p *person) []string {
		t.Helper()
		files, err := e.files(ds, "t01", dayRange{}, sinks.ParquetSuffix)
		if err != nil || len(files) != 3 {
			t.Fatalf("files %v, %v", files, err)
		}
		kept, err := e.mayHoldPerson(ds, files, p, numberColumn)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range kept {
			var id string
			if err := e.db.QueryRow(`SELECT min(inquiry_id) FROM read_parquet(?)`, f).Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return ids
	}
	if got := held(schema.DatasetInquiries, "caller_number", p); !slices.Equal(got, []string{"byEmail", "byNumber"}) {
		t.Errorf("inquiry files kept hold %v, want byEmail and byNumber", got)
	}
	if got := held(schema.DatasetSurveys, "respondent_number", p); !slices.Equal(got, []string{"sEmail", "sNumber"}) {
		t.Errorf("survey files kept hold %v, want sEmail and sNumber", got)
	}
	p.emails = append(p.emails, "åsa@example.se")
	if got := held(schema.DatasetSurveys, "respondent_number", p); len(got) != 3 {
		t.Errorf("with a non-ASCII address, %v kept; want every file", got)
	}
}

// TestPagesAgreeWithExport: a search read page by page gives exactly the
// rows, in order and field for field, of the export of the same filter
// (never paged), on a generated lake with several flushes per partition
// and upstream duplicates.
func TestPagesAgreeWithExport(t *testing.T) {
	now := time.Now().UTC()
	e, sum, _ := generatedLake(t, lakegen.Options{Inquiries: 3000, Tenants: 1, Days: 10, Seed: 9, Now: now})
	tenant, from := sum.Planted[0].Tenant, now.AddDate(0, 0, -12)
	yes, no, five := true, false, 5
	for _, f := range []Filter{{}, {Media: "phone"}, {Queue: "support_se"}, {HasRecording: &yes}, {HasChatlog: &no},
		{MinScore: &five}, {Number: sum.Planted[0].Typed}, {From: now.AddDate(0, 0, -3), To: now.AddDate(0, 0, -1)}} {
		if f.From.IsZero() {
			f.From = from
		}
		var want []Inquiry
		if err := e.EachInquiry(context.Background(), tenant, f, func(r *Inquiry) error {
			want = append(want, *r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var got []Inquiry
		for after, pages := "", 0; pages <= len(want)/97+1; pages++ {
			res, err := e.Search(context.Background(), tenant, f, Page{Limit: 97, After: after})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, res.Rows...)
			if after = res.Next; after == "" {
				break
			}
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: pages give %d rows, the export %d (or they differ)", f, len(got), len(want))
		}
	}
}

// TestPageSkipsVersionsThatNoLongerMatch: the newest candidates of a number
// were anonymised since (their latest versions hold no number); a page of
// one must still find the older inquiry that matches, not come back empty
// because the anonymised ones took the page's places.
func TestPageSkipsVersionsThatNoLongerMatch(t *testing.T) {
	l := laketest.NewBuilder(t)
	q1, q2, q3 := phone("q1", daysAgo(2, 10), "+46701112233"), phone("q2", daysAgo(2, 11), "+46701112233"),
		phone("q3", daysAgo(3, 9), "+46701112233")
	l.Inquiries("t01", q1, q2, q3)
	var erased []schema.InquiryRow
	for _, q := range []schema.InquiryRow{q1, q2} {
		q.CallerNumber, q.Anonymised, q.IngestedAt = nil, true, q.IngestedAt.Add(time.Hour)
		erased = append(erased, q)
	}
	l.Inquiries("t01", erased...)
	e, err := Open(l.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, narrow := range []bool{true, false} {
		res, err := e.search(context.Background(), "t01", Filter{From: daysAgo(10, 0), Number: "0701112233"}, Page{Limit: 1}, narrow)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Rows); !slices.Equal(got, []string{"q3"}) || res.Next != "" {
			t.Errorf("narrowed %v: page of one gives %v (next %q), want [q3] and no next page", narrow, got, res.Next)
		}
	}
}
