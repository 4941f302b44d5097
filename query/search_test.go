package query

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
)

func ids(rows []Inquiry) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.InquiryID)
	}
	return out
}

func TestSearch(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	all := []string{"q6", "q1", "q7", "q2", "q3", "q4"} // newest first; q5 is past retention
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"everything in retention, newest first", Filter{}, all},
		{"number E.164", Filter{Number: "+46701112233"}, []string{"q1", "q2"}},
		{"number national dashes", Filter{Number: "070-111 22 33"}, []string{"q1", "q2"}},
		{"number national digits", Filter{Number: "0701112233"}, []string{"q1", "q2"}},
		{"number international spaced", Filter{Number: "+46 70 111 22 33"}, []string{"q1", "q2"}},
		{"number 00 prefix", Filter{Number: "0046 70-111 22 33"}, []string{"q1", "q2"}},
		{"number with parentheses", Filter{Number: "(070) 111 22 33"}, []string{"q1", "q2"}},
		{"number landline", Filter{Number: "031-12 34 56"}, []string{"q7"}},
		{"number no match", Filter{Number: "0700000000"}, []string{}},
		{"number over a long range", Filter{Number: "0701112233", From: daysAgo(400, 0)}, []string{"q1", "q2", "q5"}},
		{"name exact", Filter{Name: "Åsa Öberg"}, []string{"q2"}},
		{"name no accents lower", Filter{Name: "asa ob"}, []string{"q2"}},
		{"name upper accented", Filter{Name: "ÖBERG"}, []string{"q2"}},
		{"name ängström without ring", Filter{Name: "angstrom"}, []string{"q6"}},
		{"name substring both", Filter{Name: "r"}, []string{"q6", "q2"}},
		{"name like wildcard is literal", Filter{Name: "%"}, []string{}},
		{"name underscore is literal", Filter{Name: "_"}, []string{}},
		{"email mixed case", Filter{Email: "asa.oberg@example.com"}, []string{"q2"}},
		{"email upper", Filter{Email: "ASA.OBERG@EXAMPLE.COM"}, []string{"q2"}},
		{"email from_address", Filter{Email: "kund@exempel.SE"}, []string{"q3"}},
		{"email partial does not match", Filter{Email: "example.com"}, []string{}},
		{"queue", Filter{Queue: "support"}, []string{"q1", "q7"}},
		{"duplicate collapses to latest", Filter{Queue: "sales"}, []string{"q4"}},
		{"older duplicate is not found", Filter{Queue: "old-queue"}, []string{}},
		{"agent id", Filter{Agent: "a2"}, []string{"q6", "q2"}},
		{"agent name case-insensitive", Filter{Agent: "anna agent"}, []string{"q1", "q7", "q3", "q4"}},
		{"media", Filter{Media: "chat"}, []string{"q6", "q2"}},
		{"media upper", Filter{Media: "EMAIL"}, []string{"q3"}},
		{"has recording (object must exist)", Filter{HasRecording: bp(true)}, []string{"q1"}},
		{"has no recording", Filter{HasRecording: bp(false)}, []string{"q6", "q7", "q2", "q3", "q4"}},
		{"has chat log", Filter{HasChatlog: bp(true)}, []string{"q2"}},
		{"min score", Filter{MinScore: ip(5)}, []string{"q1"}},
		{"max score", Filter{MaxScore: ip(5)}, []string{"q4"}},
		{"score range", Filter{MinScore: ip(0), MaxScore: ip(10)}, []string{"q1", "q4"}},
		{"session", Filter{Session: "s-q3"}, []string{"q3"}},
		{"inquiry", Filter{Inquiry: "q4"}, []string{"q4"}},
		{"time range", Filter{From: daysAgo(2, 0), To: daysAgo(1, 10)}, []string{"q7", "q2"}},
		{"empty time range", Filter{From: daysAgo(2, 0), To: daysAgo(2, 0)}, []string{}},
		{"combined", Filter{Number: "0701112233", Media: "phone", Queue: "support"}, []string{"q1"}},
		{"injection in inquiry", Filter{Inquiry: "' OR 1=1 --"}, []string{}},
		{"injection in name", Filter{Name: "') OR true OR ('"}, []string{}},
		{"injection in email", Filter{Email: "x' OR '1'='1"}, []string{}},
		{"injection in queue", Filter{Queue: "support' OR 1=1 --"}, []string{}},
		{"injection in agent", Filter{Agent: "a1\" OR 1=1 --"}, []string{}},
		{"injection in media", Filter{Media: "phone'; DROP TABLE x; --"}, []string{}},
		{"injection in session", Filter{Session: "x'); SELECT * FROM read_parquet('/etc/passwd'); --"}, []string{}},
		{"path in session", Filter{Session: "../../t02"}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.Search(ctx, "t01", c.f, Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Rows); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			for _, r := range res.Rows {
				if r.Tenant != "t01" || r.InquiryID == "x1" {
					t.Errorf("row of another tenant: %+v", r)
				}
				if r.InquiryID == "q4" && r.Queue != "sales" {
					t.Errorf("q4 is its older version (queue %q), want the latest (sales)", r.Queue)
				}
			}
		})
	}
}

func TestSearchFields(t *testing.T) {
	_, e := fixture(t)
	res, err := e.Search(context.Background(), "t01", Filter{Inquiry: "q1"}, Page{})
	if err != nil || len(res.Rows) != 1 {
		t.Fatal(err, res)
	}
	r := res.Rows[0]
	if r.CallerNumber == nil || *r.CallerNumber != "+46701112233" || r.MediaType != "phone" ||
		!r.HasRecording || r.HasChatlog || r.SurveyScore == nil || *r.SurveyScore != 9 ||
		*r.WaitSeconds != 12 || !r.StartedAt.Equal(daysAgo(1, 10)) || r.ChatterName != nil {
		t.Errorf("unexpected row %+v", r)
	}
}

func TestSearchErrors(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		tenant string
		f      Filter
		p      Page
		want   error
	}{
		{"nobody", Filter{}, Page{}, ErrUnknownTenant},
		{"../x", Filter{}, Page{}, ErrInvalidTenant},
		{"t01/../t02", Filter{}, Page{}, ErrInvalidTenant},
		{"T01", Filter{}, Page{}, ErrInvalidTenant},
		{"t01' OR 1=1 --", Filter{}, Page{}, ErrInvalidTenant},
		{"", Filter{}, Page{}, ErrInvalidTenant},
		{"t01", Filter{Number: "abc"}, Page{}, ErrBadRequest},
		{"t01", Filter{Number: "0701112233' OR 1=1"}, Page{}, ErrBadRequest},
		{"t01", Filter{}, Page{After: "not-a-cursor"}, ErrBadRequest},
	} {
		_, err := e.Search(ctx, c.tenant, c.f, c.p)
		if !errors.Is(err, c.want) {
			t.Errorf("tenant %q filter %+v: got %v, want %v", c.tenant, c.f, err, c.want)
		}
	}
	// A configured tenant without data is an empty success.
	res, err := e.Search(ctx, "t09", Filter{}, Page{})
	if err != nil || len(res.Rows) != 0 || res.Next != "" {
		t.Errorf("configured tenant without data: %v %+v", err, res)
	}
	// A tenant with data that is not configured is found.
	if _, err := e.Search(ctx, "t02", Filter{}, Page{}); err != nil {
		t.Error(err)
	}
}

func TestSearchPaging(t *testing.T) {
	l := laketest.NewBuilder(t)
	var rows []schema.InquiryRow
	same := daysAgo(3, 12)
	for i := range 23 {
		started := daysAgo(i%5, i)
		if i%4 == 0 {
			started = same // ties on started_at are ordered by inquiry id
		}
		rows = append(rows, phone(string(rune('a'+i))+"-inq", started, "+46701112233"))
	}
	l.Inquiries("t03", rows[:10]...)
	l.Inquiries("t03", rows[10:]...)
	e, err := Open(l.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	full, err := e.Search(ctx, "t03", Filter{}, Page{Limit: 1000})
	if err != nil || len(full.Rows) != 23 || full.Next != "" {
		t.Fatalf("full: %v %d %q", err, len(full.Rows), full.Next)
	}
	for i := 1; i < len(full.Rows); i++ {
		a, b := full.Rows[i-1], full.Rows[i]
		if a.StartedAt.Before(b.StartedAt) || (a.StartedAt.Equal(b.StartedAt) && a.InquiryID < b.InquiryID) {
			t.Fatalf("not newest first at %d: %v %v", i, a, b)
		}
	}
	var paged []string
	after := ""
	for pages := 0; ; pages++ {
		res, err := e.Search(ctx, "t03", Filter{Number: "0701112233"}, Page{Limit: 5, After: after})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(res.Rows)...)
		if res.Next == "" {
			if pages != 4 {
				t.Errorf("%d pages, want 5", pages+1)
			}
			break
		}
		after = res.Next
	}
	if !slices.Equal(paged, ids(full.Rows)) {
		t.Errorf("paged %v\nwant  %v", paged, ids(full.Rows))
	}
}

func TestNumberVariants(t *testing.T) {
	for _, typed := range []string{"+46701112233", "070-111 22 33", "0701112233", "+46 70 111 22 33",
		"0046701112233", "(070) 111 22 33", "070.111.22.33"} {
		v, err := NumberVariants(typed, "SE")
		if err != nil || v[0] != "+46701112233" {
			t.Errorf("%q: %v %v", typed, v, err)
		}
	}
	if v, err := NumberVariants("020 7946 0018", "GB"); err != nil || v[0] != "+442079460018" {
		t.Errorf("GB: %v %v", v, err)
	}
}

func TestShow(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	d, err := e.Show(ctx, "t01", "q1")
	if err != nil {
		t.Fatal(err)
	}
	if d.InquiryID != "q1" || len(d.Recordings) != 1 || !d.Recordings[0].Available ||
		d.Recordings[0].SizeBytes != int64(len(mp3Bytes)) {
		t.Errorf("show: %+v", d)
	}
	d, err = e.Show(ctx, "t01", "q7")
	if err != nil || len(d.Recordings) != 1 || d.Recordings[0].Available || d.HasRecording {
		t.Errorf("q7: %v %+v", err, d)
	}
	for _, id := range []string{"nope", "' OR 1=1 --", "../q1", "x1", "q5"} {
		if _, err := e.Show(ctx, "t01", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("show %q: %v", id, err)
		}
	}
}

func TestRetryOnVanishedFile(t *testing.T) {
	l, e := fixture(t)
	ctx := context.Background()
	calls := 0
	err := e.withSources(ctx, "t01", daysOf(daysAgo(10, 0), time.Time{}), []string{schema.DatasetInquiries},
		func(s sources) error {
			calls++
			if calls == 1 {
				// An expiry drops a day while the first attempt runs.
				if err := l.Lake.FS().RemoveAll("inquiries/tenant=t01/date=" + schema.Day(daysAgo(3, 0))); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			return e.db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet(?::VARCHAR[])",
				s[schema.DatasetInquiries]).Scan(&n)
		})
	if err != nil || calls != 2 {
		t.Errorf("err %v after %d calls", err, calls)
	}
}
