package query

import (
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
)

func meta(at time.Time) schema.Meta { return laketest.Meta(at) }

func sp(s string) *string { return &s }

func bp(b bool) *bool { return &b }

func ip(i int) *int { return &i }

func fp(f float64) *float64 { return &f }

// base is "now" for the fixture: the hour, so fixtures are stable in a run.
var base = time.Now().UTC().Truncate(time.Hour)

func daysAgo(d int, hour int) time.Time {
	return base.AddDate(0, 0, -d).Truncate(24 * time.Hour).Add(time.Duration(hour) * time.Hour)
}

func phone(id string, started time.Time, number string) schema.InquiryRow {
	return schema.InquiryRow{InquiryID: id, SessionID: "s-" + id, MediaType: schema.MediaPhone,
		StartedAt: started, Queue: "support", AgentID: "a1", AgentName: "Anna Agent",
		WaitSeconds: fp(12), TalkSeconds: fp(90), CallerNumber: sp(number), Meta: meta(started)}
}

func chat(id string, started time.Time, name, email string) schema.InquiryRow {
	return schema.InquiryRow{InquiryID: id, SessionID: "s-" + id, MediaType: schema.MediaChat,
		StartedAt: started, Queue: "chat", AgentID: "a2", AgentName: "Bo Agent",
		ChatterName: sp(name), ChatterEmail: sp(email), Meta: meta(started)}
}

// hostileText is chat text that tries everything XML and terminals fear.
const hostileText = "<b>&amp;</b> ]]> \"quoted\" 'single' \x00\x01\x08\x0b\x0c\x1b[31mred\x7f\u0085 " +
	"emoji 😀👍🏽 \uFFFE\uFFFF tab\tnl\ncr\r end ' OR 1=1 --"

const mp3Bytes = "ID3\x03\x00\x00\x00\x00\x00\x00fake mp3 frames \xff\xfb\x90\x64 0123456789abcdef"

// fixture is the main test lake: tenant t01 with a mix of inquiries,
// tenant t02 with the same number (must never leak into t01).
func fixture(t *testing.T) (*laketest.Builder, *Engine) {
	t.Helper()
	l := laketest.NewBuilder(t)
	q1 := phone("q1", daysAgo(1, 10), "+46701112233")
	q2 := chat("q2", daysAgo(2, 9), "Åsa Öberg", "Asa.Oberg@Example.COM")
	q2.ChatterNumber = sp("+46701112233")
	q3 := schema.InquiryRow{InquiryID: "q3", SessionID: "s-q3", MediaType: schema.MediaEmail,
		StartedAt: daysAgo(3, 8), Queue: "mail", AgentID: "a1", AgentName: "Anna Agent",
		FromAddress: sp("Kund@Exempel.se"), Subject: sp("Faktura"), ItemURL: sp("https://x/item/3"), Meta: meta(daysAgo(3, 8))}
	q4old := phone("q4", daysAgo(4, 7), "+46709998877")
	q4old.Queue = "old-queue"
	q4 := q4old
	q4.Queue = "sales"
	q4.IngestedAt = q4old.IngestedAt.Add(time.Minute)
	q5 := phone("q5", daysAgo(200, 7), "+46701112233") // outside the default 180 days
	q6 := chat("q6", daysAgo(1, 11), "Björn Ängström", "bjorn@example.com")
	q7 := phone("q7", daysAgo(1, 9), "+4631123456") // recording row without its object
	l.Inquiries("t01", q1, q2, q3, q4old, q5, q6, q7)
	l.Inquiries("t01", q4) // a later duplicate, in another file
	l.Inquiries("t02", phone("x1", daysAgo(1, 10), "+46701112233"))
	l.Recording("t01", "q1", "r1", q1.StartedAt, []byte(mp3Bytes))
	l.Recording("t01", "q7", "r7", q7.StartedAt, nil)
	l.Chatlogs("t01", schema.ChatlogRow{InquiryID: "q2", InquiryStartedAt: q2.StartedAt, Meta: meta(q2.StartedAt),
		Messages: []schema.ChatMessageRow{
			{At: q2.StartedAt.Add(time.Minute), From: schema.FromChatter, Name: sp("Åsa <Öberg>"), Text: hostileText},
			{At: q2.StartedAt.Add(2 * time.Minute), From: schema.FromAgent, Name: sp("Bo"), Text: "Hej! Hur kan jag hjälpa?"},
		}})
	l.Surveys("t01",
		schema.SurveyRow{SurveyID: "v1", SurveyType: schema.SurveySMS, SessionID: "s-q1", InquiryID: "q1",
			InquiryStartedAt: q1.StartedAt, Score: 9, Meta: meta(q1.StartedAt)},
		schema.SurveyRow{SurveyID: "v4", SurveyType: schema.SurveySMS, SessionID: "s-q4", InquiryID: "q4",
			InquiryStartedAt: q4.StartedAt, Score: 3, Meta: meta(q4.StartedAt)})
	cfg, err := config.Decode(strings.NewReader("tenants:\n  t01:\n    phone_region: SE\n  t02: {}\n  t09: {}\n"))
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
