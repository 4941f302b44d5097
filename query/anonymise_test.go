package query

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// The person to forget, and what identifies them in the lake.
const (
	pNumber    = "+46701112233"
	pNational  = "0701112233" // a legacy record stored in national form
	pEmail     = "P.Person@Example.com"
	pName      = "Petra Personsson"
	pSubject   = "Complaint from Petra about 4711"
	pChatText  = "my order is ORD-55501, please help"
	pMP3       = "ID3 petra's call audio \xff\xfb PETRAAUDIO"
	pComment   = "Petra says the agent was kind"
	otherMP3x  = "ID3 someone else's audio \xff\xfb OTHERAUDIO"
	otherChatX = "others chat text ORD-99999"
)

var personIDs = []string{"p1", "p2", "p3", "p4", "p5"}

// personSecrets are the person's identifiers as they may appear in bytes.
var personSecrets = []string{pNumber, pNational, "46701112233", pEmail, strings.ToLower(pEmail),
	"P.Person@EXAMPLE.com", pName, pSubject}

// anonFixture: tenant t01 where the person has calls (one stored in
// national form), a chat with its chat log, an e-mail, an e-task known only
// by the survey they answered, surveys and a recording, next to many other
// customers' inquiries in the same files and in files of days the person
// never touched; tenant t02 has the same number (another tenant: untouched).
func anonFixture(t *testing.T) (*laketest.Builder, *Engine) {
	t.Helper()
	l := laketest.NewBuilder(t)
	d1, d2, d3, d40 := daysAgo(1, 10), daysAgo(2, 9), daysAgo(3, 8), daysAgo(40, 10)
	p1 := phone("p1", d1, pNumber)
	p2 := phone("p2", d40, pNational)
	p3 := chat("p3", d2, pName, strings.ToLower(pEmail))
	p3.ChatterNumber = sp(pNumber)
	p4 := schema.InquiryRow{InquiryID: "p4", SessionID: "s-p4", MediaType: schema.MediaEmail, StartedAt: d3,
		Queue: "mail", AgentID: "a1", AgentName: "Anna Agent", FromAddress: sp("P.Person@EXAMPLE.com"),
		Subject: sp(pSubject), ItemURL: sp("https://x/item/p4"), Meta: meta(d3)}
	p5 := schema.InquiryRow{InquiryID: "p5", SessionID: "s-p5", MediaType: schema.MediaETask, StartedAt: d3.Add(time.Hour),
		Queue: "tasks", AgentID: "a3", AgentName: "Cid Agent", Meta: meta(d3.Add(time.Hour))}
	var others []schema.InquiryRow
	for i := range 30 {
		day := []int{1, 2, 3, 5, 6, 7}[i%6]
		o := phone(fmt.Sprintf("o%02d", i), daysAgo(day, 8+i%10), fmt.Sprintf("+4670%07d", 2000000+i))
		if i%3 == 0 {
			o = chat(o.InquiryID, o.StartedAt, fmt.Sprintf("Other Person %d", i), fmt.Sprintf("other%d@example.org", i))
		}
		others = append(others, o)
	}
	l.Inquiries("t01", append([]schema.InquiryRow{p1, p2, p3, p4, p5}, others[:15]...)...)
	l.Inquiries("t01", others[15:]...)
	l.Inquiries("t02", phone("x1", d1, pNumber))
	l.Recording("t01", "p1", "r1", d1, []byte(pMP3))
	l.Recording("t01", "o01", "r2", others[1].StartedAt, []byte(otherMP3x))
	l.Chatlogs("t01",
		schema.ChatlogRow{InquiryID: "p3", InquiryStartedAt: d2, Meta: meta(d2), Messages: []schema.ChatMessageRow{
			{At: d2.Add(time.Minute), From: schema.FromChatter, Name: sp(pName), Text: pChatText},
			{At: d2.Add(2 * time.Minute), From: schema.FromAgent, Name: sp("Bo"), Text: "Hej!"}}},
		schema.ChatlogRow{InquiryID: "o03", InquiryStartedAt: others[3].StartedAt, Meta: meta(others[3].StartedAt),
			Messages: []schema.ChatMessageRow{{At: others[3].StartedAt, From: schema.FromChatter,
				Name: sp("Other Person 3"), Text: otherChatX}}})
	l.Surveys("t01",
		schema.SurveyRow{SurveyID: "v1", SurveyType: schema.SurveySMS, SessionID: "s-p1", InquiryID: "p1",
			InquiryStartedAt: d1, Score: 9, RespondentNumber: sp(pNumber), Comment: sp(pComment), Meta: meta(d1)},
		schema.SurveyRow{SurveyID: "v5", SurveyType: schema.SurveyChat, SessionID: "s-p5", InquiryID: "p5",
			InquiryStartedAt: p5.StartedAt, Score: 4, RespondentEmail: sp(pEmail), Meta: meta(p5.StartedAt)},
		schema.SurveyRow{SurveyID: "vo", SurveyType: schema.SurveySMS, SessionID: "s-o00", InquiryID: "o00",
			InquiryStartedAt: others[0].StartedAt, Score: 7, RespondentNumber: sp("+46702000000"),
			Comment: sp("other comment"), Meta: meta(others[0].StartedAt)})
	cfg, err := config.Decode(strings.NewReader("tenants:\n  t01:\n    phone_region: SE\n  t02: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(l.Dir, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return l, e
}

// fileID is what tells an untouched file: its inode and content hash.
type fileID struct {
	ino uint64
	sum string
}

func snapshotFiles(t *testing.T, dir string) map[string]fileID {
	t.Helper()
	out := map[string]fileID{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, sinks.MetaDir) || strings.HasPrefix(rel, schema.DatasetAudit) {
			return nil
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = fileID{ino: fi.Sys().(*syscall.Stat_t).Ino, sum: hex.EncodeToString(sum[:])}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tenantRows is every row of tenant t01's datasets as JSON, by dataset,
// with or without the person's inquiries.
func tenantRows(t *testing.T, dir string, person bool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(ds, id string, r any) {
		if slices.Contains(personIDs, id) != person {
			return
		}
		b, _ := json.Marshal(r)
		out[ds] = append(out[ds], string(b))
	}
	inq, err1 := laketest.ReadTenantRows[schema.InquiryRow](dir, schema.DatasetInquiries)
	chats, err2 := laketest.ReadTenantRows[schema.ChatlogRow](dir, schema.DatasetChatlogs)
	recs, err3 := laketest.ReadTenantRows[schema.RecordingRow](dir, schema.DatasetRecordings)
	survs, err4 := laketest.ReadTenantRows[schema.SurveyRow](dir, schema.DatasetSurveys)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	for _, r := range inq["t01"] {
		add(schema.DatasetInquiries, r.InquiryID, r)
	}
	for _, r := range chats["t01"] {
		add(schema.DatasetChatlogs, r.InquiryID, r)
	}
	for _, r := range recs["t01"] {
		add(schema.DatasetRecordings, r.InquiryID, r)
	}
	for _, r := range survs["t01"] {
		add(schema.DatasetSurveys, r.InquiryID, r)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// scanPerson scans every file of the lake for the person's identifiers,
// except tenant t02's (another tenant's customer with the same number).
func scanPerson(t *testing.T, dir string, secrets []string) []laketest.Finding {
	t.Helper()
	found, err := laketest.ScanForSecrets(dir, secrets)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(found, func(f laketest.Finding) bool { return strings.Contains(f.File, "tenant=t02") })
}

var personQuery = Person{Numbers: []string{"070-111 22 33"}, Emails: []string{"p.PERSON@example.COM "}}

func TestAnonymise(t *testing.T) {
	l, e := anonFixture(t)
	ctx := context.Background()
	if found := scanPerson(t, l.Dir, personSecrets); len(found) < len(personSecrets)-1 {
		t.Fatalf("the fixture does not hold the person: %v", found)
	}
	before := snapshotFiles(t, l.Dir)
	othersBefore := tenantRows(t, l.Dir, false)
	held := map[string]bool{}
	for _, f := range scanPerson(t, l.Dir, append(slices.Clone(personSecrets), pChatText, pMP3)) {
		rel, _ := filepath.Rel(l.Dir, f.File)
		held[filepath.ToSlash(rel)] = true
	}
	// Recording rows hold no identifier and stay; media objects stay without
	// --delete-content; the chat log file holds p3's chat text.
	for rel := range held {
		if strings.HasPrefix(rel, schema.DatasetRecordings) || strings.HasPrefix(rel, sinks.MediaDataset) {
			delete(held, rel)
		}
	}

	rc, err := e.Anonymise(ctx, "t01", Access{Actor: "dpo@t01"}, personQuery, AnonymiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{schema.DatasetInquiries: 5, schema.DatasetChatlogs: 1, schema.DatasetSurveys: 2}
	if rc.Inquiries != 5 || !mapsEqual(rc.RowsAnonymised, want) || rc.FilesRewritten != len(held) ||
		rc.ContentDeleted != (ContentDeleted{}) || rc.ReceiptID == "" || rc.PersonRef == "" {
		t.Errorf("receipt %+v; want rows %v, %d files (%v)", rc, want, len(held), held)
	}
	receipt, _ := json.Marshal(rc)
	if f := laketest.ScanBytes("receipt", receipt, append(personSecrets, "+46", "0701")); len(f) > 0 {
		t.Errorf("receipt holds personal data: %v", f)
	}

	// R-G3: no search by any of the person's numbers or addresses finds them.
	all := Filter{From: daysAgo(400, 0)}
	for _, n := range []string{pNumber, "070-111 22 33", "0046701112233", "+46 70 111 22 33", pNational} {
		f := all
		f.Number = n
		if res, err := e.Search(ctx, "t01", f, Page{}); err != nil || len(res.Rows) != 0 {
			t.Errorf("number %q still finds %d rows (%v)", n, len(res.Rows), err)
		}
	}
	for _, m := range []string{pEmail, strings.ToUpper(pEmail), "p.person@example.com"} {
		f := all
		f.Email = m
		if res, err := e.Search(ctx, "t01", f, Page{}); err != nil || len(res.Rows) != 0 {
			t.Errorf("e-mail %q still finds %d rows (%v)", m, len(res.Rows), err)
		}
	}
	f := all
	f.Name = "Petra"
	if res, err := e.Search(ctx, "t01", f, Page{}); err != nil || len(res.Rows) != 0 {
		t.Errorf("name still finds %d rows (%v)", len(res.Rows), err)
	}
	// A time search shows their inquiries, without identifiers.
	res, err := e.Search(ctx, "t01", Filter{From: daysAgo(400, 0), To: base.Add(time.Hour)}, Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range res.Rows {
		if !slices.Contains(personIDs, r.InquiryID) {
			if r.Anonymised {
				t.Errorf("%s anonymised but is not the person's", r.InquiryID)
			}
			continue
		}
		seen++
		if !r.Anonymised || r.CallerNumber != nil || r.ChatterName != nil || r.ChatterEmail != nil ||
			r.ChatterNumber != nil || r.FromAddress != nil || r.Subject != nil {
			t.Errorf("%s shows identifiers: %+v", r.InquiryID, r)
		}
	}
	if seen != 5 {
		t.Errorf("time search shows %d of the person's 5 inquiries", seen)
	}
	// Content stays: the recording plays, the chat text is there (no names).
	m, err := e.Recording(ctx, "t01", "p1", "", admin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(m)
	m.Close()
	if string(b) != pMP3 {
		t.Error("the recording changed")
	}
	c, err := e.ChatLog(ctx, "t01", "p3", admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != 2 || c.Messages[0].Text != pChatText || c.Messages[0].Name != nil {
		t.Errorf("chat log after anonymisation: %+v", c.Messages)
	}
	if s := scanPerson(t, l.Dir, personSecrets); len(s) > 0 {
		t.Errorf("identifiers left in the lake: %v", s)
	}
	// Files that never held the person are untouched; those that did are gone.
	after := snapshotFiles(t, l.Dir)
	for rel, id := range before {
		if held[rel] {
			if _, ok := after[rel]; ok {
				t.Errorf("%s held the person and is still there", rel)
			}
		} else if after[rel] != id {
			t.Errorf("%s never held the person but changed", rel)
		}
	}
	if got := tenantRows(t, l.Dir, false); !mapsEqualSlices(got, othersBefore) {
		t.Error("other customers' rows changed")
	}
	// Surveys kept their score and, without --delete-content, the comment.
	survs, _ := laketest.ReadRows[schema.SurveyRow](filepath.Join(l.Dir, schema.DatasetSurveys), "tenant=t01")
	for _, s := range survs {
		if s.InquiryID == "p1" && (s.Comment == nil || *s.Comment != pComment || s.Score != 9 || !s.Anonymised) {
			t.Errorf("survey of p1: %+v", s)
		}
	}
	// t02's customer with the same number is untouched.
	f = all
	f.Number = pNumber
	if res, err := e.Search(ctx, "t02", f, Page{}); err != nil || len(res.Rows) != 1 {
		t.Errorf("t02 search: %v %v", res, err)
	}
	// One audit entry per inquiry, action anonymise, no identifiers.
	entries, err := e.Audit(ctx, "t01", AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range entries {
		if a.Action == string(ActionAnonymise) {
			ids = append(ids, a.InquiryID)
			if a.RequestID != rc.ReceiptID {
				t.Errorf("audit entry names request %q, not the receipt %q", a.RequestID, rc.ReceiptID)
			}
			b, _ := json.Marshal(a)
			if f := laketest.ScanBytes("audit", b, personSecrets); len(f) > 0 {
				t.Errorf("audit entry holds identifiers: %v", f)
			}
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, personIDs) {
		t.Errorf("audit entries for %v", ids)
	}
	// The ledger knows the person, by keyed hash only.
	lg := sinks.NewLedger(l.Lake)
	for _, v := range []string{pNumber, " " + pNumber, strings.ToUpper(pEmail), pNational} {
		if !lg.Matches("t01", v) {
			t.Errorf("ledger does not match %q", v)
		}
	}
	if lg.Matches("t01", "+46702000001") || lg.Matches("t02", pNumber) || !lg.MatchesInquiry("t01", "p3") {
		t.Error("ledger matches the wrong things")
	}
	// A second run is a no-op.
	before2 := snapshotFiles(t, l.Dir)
	rc2, err := e.Anonymise(ctx, "t01", Access{Actor: "dpo@t01"}, personQuery, AnonymiseOptions{})
	if err != nil || rc2.FilesRewritten != 0 || rc2.Inquiries != 0 {
		t.Errorf("second run: %+v %v", rc2, err)
	}
	if !mapsEqual(before2, snapshotFiles(t, l.Dir)) {
		t.Error("a second run changed files")
	}
	assertNoDebris(t, l.Dir)
}

// assertNoDebris: no journals, and nothing in a tmp folder but the mark of
// a live lake (the test lake's own).
func assertNoDebris(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{sinks.RewriteDir, sinks.FlushDir} {
		entries, _ := os.ReadDir(filepath.Join(dir, d))
		for _, en := range entries {
			t.Errorf("debris %s/%s", d, en.Name())
		}
	}
	_ = filepath.WalkDir(filepath.Join(dir, sinks.TmpDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".alive" {
			t.Errorf("debris %s", p)
		}
		return nil
	})
}

func TestAnonymiseDeleteContent(t *testing.T) {
	l, e := anonFixture(t)
	ctx := context.Background()
	rc, err := e.Anonymise(ctx, "t01", Access{Actor: "dpo@t01"}, personQuery, AnonymiseOptions{DeleteContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if rc.ContentDeleted != (ContentDeleted{Recordings: 1, ChatlogRows: 1, SurveyComments: 1}) ||
		rc.RowsAnonymised[schema.DatasetChatlogs] != 0 || rc.RowsAnonymised[schema.DatasetInquiries] != 5 {
		t.Errorf("receipt %+v", rc)
	}
	if _, err := e.Recording(ctx, "t01", "p1", "", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("recording of p1: %v", err)
	}
	if _, err := e.ChatLog(ctx, "t01", "p3", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("chat log of p3: %v", err)
	}
	if s := scanPerson(t, l.Dir, append(slices.Clone(personSecrets), pChatText, "PETRAAUDIO", pComment)); len(s) > 0 {
		t.Errorf("left in the lake: %v", s)
	}
	// The others' content is intact.
	if c, err := e.ChatLog(ctx, "t01", "o03", admin); err != nil || c.Messages[0].Text != otherChatX {
		t.Errorf("other chat log: %v", err)
	}
	if m, err := e.Recording(ctx, "t01", "o01", "", admin); err != nil {
		t.Errorf("other recording: %v", err)
	} else {
		m.Close()
	}
}

func TestAnonymiseDryRun(t *testing.T) {
	l, e := anonFixture(t)
	before := snapshotFiles(t, l.Dir)
	rc, err := e.Anonymise(context.Background(), "t01", Access{Actor: "dpo@t01"}, personQuery,
		AnonymiseOptions{DryRun: true, DeleteContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rc.DryRun || rc.Inquiries != 5 || rc.ContentDeleted.Recordings != 1 || rc.FilesRewritten == 0 {
		t.Errorf("receipt %+v", rc)
	}
	if !mapsEqual(before, snapshotFiles(t, l.Dir)) {
		t.Error("a dry run changed files")
	}
	for _, p := range []string{sinks.ErasureDir, sinks.ErasureKey, schema.DatasetAudit + "/tenant=t01"} {
		if _, err := os.Stat(filepath.Join(l.Dir, p)); err == nil {
			t.Errorf("a dry run wrote %s", p)
		}
	}
}

func TestAnonymiseBadRequests(t *testing.T) {
	_, e := anonFixture(t)
	ctx := context.Background()
	for name, p := range map[string]Person{"empty": {}, "bad number": {Numbers: []string{"abc"}},
		"bad email": {Emails: []string{"nobody"}}} {
		if _, err := e.Anonymise(ctx, "t01", admin, p, AnonymiseOptions{}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.Anonymise(ctx, "t01", Access{}, personQuery, AnonymiseOptions{}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("no actor: %v", err)
	}
}

// TestAnonymiseCrash fails the i-th filesystem operation of an
// anonymisation, for every i, both as a lone fault and as a crash (every
// later operation fails too); after recovery the lake is exactly the old
// or the new state, the person's identifiers never partly back, and no
// debris is left.
func TestAnonymiseCrash(t *testing.T) {
	tl, e0 := anonFixture(t)
	template := tl.Dir
	e0.Close()
	oldState := lakeState(t, template)
	run := func(i int, crash bool) (string, error) {
		dir := t.TempDir()
		copyTree(t, template, dir)
		e, err := Open(dir, e0.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		ffs := sinks.NewFaultFS(sinks.DirFS{Root: dir})
		lake, err := sinks.Open(ffs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i < 0 {
			ffs.Count()
		} else {
			ffs.FailAt(i, crash)
		}
		_, aerr := e.anonymise(context.Background(), lake, "t01", Access{Actor: "dpo"}, personQuery,
			AnonymiseOptions{DeleteContent: true})
		ops := ffs.Ops()
		ffs.Heal()
		_ = lake.Close()
		if i < 0 {
			return fmt.Sprint(ops), aerr
		}
		// Recovery, as the next command does.
		rl, err := sinks.OpenDir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rl.RecoverRewrites(); err != nil {
			t.Fatalf("fault %d: recovery: %v", i, err)
		}
		rl.Close()
		return dir, aerr
	}
	opsText, err := run(-1, false)
	if err != nil {
		t.Fatal(err)
	}
	var ops int
	fmt.Sscan(opsText, &ops)
	newDir, _ := func() (string, error) { // a clean run's result
		dir := t.TempDir()
		copyTree(t, template, dir)
		e, err := Open(dir, e0.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		_, err = e.Anonymise(context.Background(), "t01", Access{Actor: "dpo"}, personQuery, AnonymiseOptions{DeleteContent: true})
		return dir, err
	}()
	newState := lakeState(t, newDir)
	if newState == oldState {
		t.Fatal("the clean run changed nothing")
	}
	if ops < 10 {
		t.Fatalf("only %d operations counted", ops)
	}
	secrets := append(slices.Clone(personSecrets), pChatText, "PETRAAUDIO", pComment)
	olds, news := 0, 0
	step := 1
	if testing.Short() {
		step = 7 // a sample of the steps; the full sweep takes ~40 s
	}
	for _, crash := range []bool{true, false} {
		for i := 0; i <= ops; i += step {
			dir, aerr := run(i, crash)
			got := lakeState(t, dir)
			switch got {
			case oldState:
				olds++
			case newState:
				news++
				if s := scanPerson(t, dir, secrets); len(s) > 0 {
					t.Errorf("fault %d (crash %v): new state but %v", i, crash, s)
				}
			default:
				t.Errorf("fault %d (crash %v, error %v): the lake is neither the old nor the new state", i, crash, aerr)
			}
			if got == oldState && aerr == nil {
				t.Errorf("fault %d (crash %v): success reported but the old state remains", i, crash)
			}
			for _, d := range []string{sinks.RewriteDir, sinks.TmpDir, sinks.FlushDir} {
				entries, _ := os.ReadDir(filepath.Join(dir, d))
				for _, en := range entries {
					t.Errorf("fault %d (crash %v): debris %s/%s", i, crash, d, en.Name())
				}
			}
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("%d operations; %d faults left the old state, %d the new", ops, olds, news)
}

// lakeState is the content of tenant t01 as rows (file names aside, which
// a rewrite picks at random) plus its media objects.
func lakeState(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	for _, person := range []bool{false, true} {
		rows := tenantRows(t, dir, person)
		for _, ds := range []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings, schema.DatasetSurveys} {
			fmt.Fprintf(&sb, "%s %v\n", ds, rows[ds])
		}
	}
	_ = filepath.WalkDir(filepath.Join(dir, sinks.MediaDataset), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			fmt.Fprintf(&sb, "%s %x\n", filepath.Base(p), sha256.Sum256(b))
		}
		return nil
	})
	return sb.String()
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if rel == filepath.FromSlash(sinks.TmpDir) {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mapsEqual[K, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func mapsEqualSlices(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestAnonymiseRowClearsEveryIdentifier(t *testing.T) {
	s := "x"
	in := schema.InquiryRow{CallerNumber: &s, ChatterName: &s, ChatterEmail: &s, ChatterNumber: &s,
		FromAddress: &s, Subject: &s, ItemURL: &s, AgentName: "Agent"}
	sinks.AnonymiseRow(&in, false)
	if !in.Anonymised || in.ItemURL == nil || in.AgentName != "Agent" {
		t.Errorf("%+v", in)
	}
	b, _ := json.Marshal(in)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, f := range schema.FieldsOfClass(schema.InquiryRow{}, schema.Identifier) {
		for k, v := range m {
			if strings.EqualFold(k, strings.ReplaceAll(f, "_", "")) && v != nil {
				t.Errorf("identifier %s left: %v", f, v)
			}
		}
	}
	c := schema.ChatlogRow{Messages: []schema.ChatMessageRow{{Name: &s, Text: "t"}}}
	sinks.AnonymiseRow(&c, false)
	if c.Messages[0].Name != nil || c.Messages[0].Text != "t" || !c.Anonymised {
		t.Errorf("%+v", c)
	}
}

// lateFS runs hook once, at the first removal of an inquiry file: when a
// rewrite has committed and deletes the files it replaced.
type lateFS struct {
	sinks.FS
	once sync.Once
	hook func()
}

func (f *lateFS) Remove(name string) error {
	if strings.HasPrefix(name, schema.DatasetInquiries+"/") {
		f.once.Do(f.hook)
	}
	return f.FS.Remove(name)
}

// TestAnonymiseFindsFilesWrittenMeanwhile: a file of the person's rows
// that appears while a pass rewrites (a flush of records read before the
// ledger had the person) is found by the next pass: nothing of the person
// is left in any file when Anonymise returns.
func TestAnonymiseFindsFilesWrittenMeanwhile(t *testing.T) {
	tl, e := anonFixture(t)
	late := phone("late1", daysAgo(1, 12), pNational)
	fsys := &lateFS{FS: sinks.DirFS{Root: tl.Dir}, hook: func() { tl.Inquiries("t01", late) }}
	lake, err := sinks.Open(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	rc, err := e.anonymise(context.Background(), lake, "t01", Access{Actor: "dpo"}, personQuery, AnonymiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if found := scanPerson(t, tl.Dir, personSecrets); len(found) > 0 {
		t.Fatalf("the person is still in the lake: %v", found)
	}
	if rc.Inquiries != len(personIDs)+1 || rc.RowsAnonymised[schema.DatasetInquiries] != len(personIDs)+1 {
		t.Fatalf("receipt: %d inquiries, %d inquiry rows; want %d", rc.Inquiries,
			rc.RowsAnonymised[schema.DatasetInquiries], len(personIDs)+1)
	}
}
