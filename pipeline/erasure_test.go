package pipeline_test

import (
	"context"
	"slices"
	"testing"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

// TestLateArrivalsAnonymised: records of an anonymised person that arrive
// after the anonymisation (consumer lag, a replay) are anonymised at
// ingest through the tenant's erasure ledger; other customers' are not.
func TestLateArrivalsAnonymised(t *testing.T) {
	const (
		number = "+46701119988"
		email  = "Late.Person@Example.se"
		name   = "Lars Latecomer"
	)
	h := newHarness(t, testConfig)
	tp := h.cfg.Topics
	h.send(
		jsonMsg(tp.Inquiries, phone("e-call", "2026-11-20T09:00:00Z", map[string]any{"caller_number": number})),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "e-chat",
			"media_type": "chat", "started_at": "2026-11-21T10:00:00Z", "chatter_name": name,
			"chatter_email": email, "chat_store_consent": true}),
		jsonMsg(tp.Inquiries, phone("e-other", "2026-11-20T09:30:00Z", nil)),
	)
	h.drain("erasure", nil)

	eng, err := query.Open(h.lake, h.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rc, err := eng.Anonymise(context.Background(), "acme", query.Access{Actor: "dpo"},
		query.Person{Numbers: []string{"070-111 99 88"}, Emails: []string{"late.person@example.se"}}, query.AnonymiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Inquiries != 2 {
		t.Fatalf("receipt %+v", rc)
	}

	// Late: an older inquiry of the person (number as received, with
	// blanks around it), an e-mail in another case, the chat log and a
	// survey of the anonymised chat, and someone else's call.
	h.send(
		jsonMsg(tp.Inquiries, phone("e-late", "2026-11-19T08:00:00Z", map[string]any{"caller_number": " " + number + " "})),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "e-mail",
			"media_type": "email", "started_at": "2026-11-18T08:00:00Z", "queue": "mail",
			"from_address": "LATE.PERSON@example.SE", "subject": "From " + name}),
		jsonMsg(tp.Chatlogs, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "e-chat",
			"inquiry_started_at": "2026-11-21T10:00:00Z", "chat_store_consent": true, "messages": []any{
				map[string]any{"at": "2026-11-21T10:00:07Z", "from": "chatter", "name": name, "text": "late hello"}}}),
		jsonMsg(tp.Surveys, map[string]any{"schema_version": 1, "tenant_id": "acme", "survey_id": "es-1",
			"survey_type": "chat", "session_id": "s-e-chat", "inquiry_id": "e-chat",
			"inquiry_started_at": "2026-11-21T10:00:00Z", "score": 8, "respondent_email": email}),
		jsonMsg(tp.Inquiries, phone("e-other2", "2026-11-19T09:30:00Z", nil)),
	)
	h.drain("erasure", nil)

	rows, err := laketest.ReadRows[schema.InquiryRow](h.lake, schema.DatasetInquiries)
	if err != nil {
		t.Fatal(err)
	}
	var anon []string
	for _, r := range rows {
		if r.Anonymised {
			anon = append(anon, r.InquiryID)
			if r.CallerNumber != nil || r.ChatterName != nil || r.ChatterEmail != nil || r.FromAddress != nil || r.Subject != nil {
				t.Errorf("%s keeps identifiers: %+v", r.InquiryID, r)
			}
		} else if r.CallerNumber == nil || *r.CallerNumber != "+46701234567" {
			t.Errorf("%s: another customer's row changed: %+v", r.InquiryID, r)
		}
	}
	slices.Sort(anon)
	if !slices.Equal(anon, []string{"e-call", "e-chat", "e-late", "e-mail"}) {
		t.Errorf("anonymised inquiries %v", anon)
	}
	chats, err := laketest.ReadRows[schema.ChatlogRow](h.lake, schema.DatasetChatlogs)
	if err != nil || len(chats) != 1 || !chats[0].Anonymised || chats[0].Messages[0].Name != nil ||
		chats[0].Messages[0].Text != "late hello" {
		t.Errorf("late chat log: %+v %v", chats, err)
	}
	survs, err := laketest.ReadRows[schema.SurveyRow](h.lake, schema.DatasetSurveys)
	if err != nil || len(survs) != 1 || !survs[0].Anonymised || survs[0].RespondentEmail != nil {
		t.Errorf("late survey: %+v %v", survs, err)
	}
	h.assertNoSecrets([]string{number, "0701119988", email, "late.person@example.se", "LATE.PERSON@example.SE", name})
	res, err := eng.Search(context.Background(), "acme", query.Filter{Number: number}, query.Page{})
	if err != nil || len(res.Rows) != 0 {
		t.Errorf("search by number after late arrivals: %v %v", res, err)
	}
}

// TestLateInquiryReanonymisesEarlierChatlog: a chat log stored before its
// inquiry (which alone shows the chatter to be an erased person) loses the
// chatter's name once that inquiry arrives and is flushed.
func TestLateInquiryReanonymisesEarlierChatlog(t *testing.T) {
	const (
		number = "+46701119977"
		name   = "Greta Early-Chatlog"
	)
	h := newHarness(t, testConfig)
	tp := h.cfg.Topics
	h.send(jsonMsg(tp.Inquiries, phone("g-call", "2026-11-20T09:00:00Z", map[string]any{"caller_number": number})))
	h.drain("early", nil)
	eng, err := query.Open(h.lake, h.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Anonymise(context.Background(), "acme", query.Access{Actor: "dpo"},
		query.Person{Numbers: []string{number}}, query.AnonymiseOptions{}); err != nil {
		t.Fatal(err)
	}

	// The chat log comes first and is flushed on its own: nothing in it
	// tells ingest whose it is.
	h.send(jsonMsg(tp.Chatlogs, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "g-chat",
		"inquiry_started_at": "2026-11-21T10:00:00Z", "chat_store_consent": true, "messages": []any{
			map[string]any{"at": "2026-11-21T10:00:07Z", "from": "chatter", "name": name, "text": "early hello"}}}))
	h.drain("early", nil)
	if found, _ := laketest.ScanForSecrets(h.lake, []string{name}); len(found) == 0 {
		t.Fatal("fixture: the early chat log should hold the name before its inquiry arrives")
	}
	h.send(jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "g-chat",
		"media_type": "chat", "started_at": "2026-11-21T10:00:00Z", "chatter_name": name,
		"chatter_number": number, "chat_store_consent": true}))
	h.drain("early", nil)

	chats, err := laketest.ReadRows[schema.ChatlogRow](h.lake, schema.DatasetChatlogs)
	if err != nil || len(chats) != 1 || !chats[0].Anonymised || chats[0].Messages[0].Name != nil ||
		chats[0].Messages[0].Text != "early hello" {
		t.Errorf("early chat log after its inquiry arrived: %+v %v", chats, err)
	}
	h.assertNoSecrets([]string{name, number})
	h.assertNoDebris()
}
