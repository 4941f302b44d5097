package pipeline_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/schema"
)

const testConfig = `
tenants:
  defaults:
    retention: {general: 180d, recordings: 14d, chatlogs: 30d}
    masked_ivr_modules: []
    phone_region: SE
  acme:
    masked_ivr_modules: [enter_card]
ingest:
  flush_interval: 200ms
  chunk_timeout: 1s
`

// Secrets that must never reach the lake, the logs or the dead-letter topic.
const (
	secretPNR        = "198501019999"
	secretCard       = "4111222233334444"
	secretBody       = "SECRET-EMAIL-BODY-Zq81"
	secretAttachment = "SECRET-ATTACHMENT-Kx55"
	secretSocial     = "SECRET-SOCIAL-POST-Mm20"
	secretChat       = "SECRET-REFUSED-CHAT-Rr44"
	secretAudio      = "SECRET-DENIED-AUDIO-Pp09"
	secretDLQDigits  = "777766665555"
	secretBadJSON    = "888877776666"
)

func phone(id, started string, extra map[string]any) map[string]any {
	m := map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": id, "session_id": "s-" + id,
		"media_type": "phone", "started_at": started, "queue": "support_se", "agent_id": "a-1",
		"agent_name": "Anna Berg", "wait_seconds": 12.5, "talk_seconds": 300.0, "caller_number": "+46701234567",
		"recording": map[string]any{"forced": true, "deny_recording": false}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestIngestEndToEnd(t *testing.T) {
	h := newHarness(t, testConfig)
	tp := h.cfg.Topics
	audio := bytes.Repeat([]byte("ID3-audio-frames-"), 5000) // ~85 KB
	denied := append([]byte("ID3"), bytes.Repeat([]byte(secretAudio), 100)...)
	chunks := recordingChunks(tp.Recordings, "acme", "c-phone", "r1", "2026-11-28T09:14:03Z", audio, 20000, false, true)
	// out of order and duplicated: 1, 0, 0, 3, 2, 4
	disordered := []produce.Message{chunks[1], chunks[0], chunks[0], chunks[3], chunks[2], chunks[4]}

	var msgs []produce.Message
	msgs = append(msgs, disordered...) // content before its inquiry
	msgs = append(msgs,
		jsonMsg(tp.Inquiries, phone("c-phone", "2026-11-28T09:14:03Z", map[string]any{"ivr_inputs": []any{
			map[string]any{"module": "enter_pnr", "digits": secretPNR, "masked": true},
			map[string]any{"module": "enter_card", "digits": secretCard, "masked": false},
			map[string]any{"module": "main_menu", "digits": "2", "masked": false}}})),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "c-mail",
			"media_type": "email", "started_at": "2026-11-27T23:30:00-02:00", "queue": "mail", "from_address": "Kund@Example.se",
			"subject": "Faktura", "item_url": "https://mail.example/1", "body": secretBody,
			"attachments": []any{map[string]any{"name": "a.pdf", "content": secretAttachment}}}),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "c-social",
			"media_type": "social", "started_at": "2026-11-28T10:00:00Z", "body": secretSocial}),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "beta", "inquiry_id": "c-chat",
			"media_type": "chat", "started_at": "2026-11-28T11:00:00Z", "chatter_name": "Åsa Öberg",
			"chatter_email": "asa@example.se", "chat_store_consent": true}),
		jsonMsg(tp.Chatlogs, map[string]any{"schema_version": 1, "tenant_id": "beta", "inquiry_id": "c-chat",
			"inquiry_started_at": "2026-11-28T11:00:00Z", "chat_store_consent": true, "messages": []any{
				map[string]any{"at": "2026-11-28T11:00:07Z", "from": "chatter", "name": "Åsa", "text": "Hej! <&> 😀"}}}),
		jsonMsg(tp.Chatlogs, map[string]any{"schema_version": 1, "tenant_id": "beta", "inquiry_id": "c-chat2",
			"inquiry_started_at": "2026-11-28T11:05:00Z", "chat_store_consent": false, "messages": []any{
				map[string]any{"at": "2026-11-28T11:05:07Z", "from": "chatter", "name": "X", "text": secretChat}}}),
		jsonMsg(tp.Surveys, map[string]any{"schema_version": 1, "tenant_id": "acme", "survey_id": "s-1", "survey_type": "sms",
			"session_id": "s-c-phone", "inquiry_id": "c-phone", "inquiry_started_at": "2026-11-28T09:14:03Z", "score": 9,
			"comment": "Snabb hjälp", "respondent_number": "+46701234567"}),
		// bad records
		jsonMsg(tp.Surveys, map[string]any{"schema_version": 1, "tenant_id": "acme", "survey_id": "s-2", "survey_type": "sms",
			"inquiry_id": "c-phone", "inquiry_started_at": "2026-11-28T09:14:03Z", "score": 11}),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": "c-noconsent",
			"media_type": "phone", "started_at": "2026-11-28T09:00:00Z", "body": secretBody,
			"ivr_inputs": []any{map[string]any{"module": "enter_pnr", "digits": secretDLQDigits, "masked": true}}}),
		jsonMsg(tp.Inquiries, map[string]any{"schema_version": 2, "tenant_id": "acme", "inquiry_id": "c-v2"}),
		produce.Message{Topic: tp.Inquiries, Key: []byte("acme/c-broken"),
			Value: []byte(`{"schema_version":1,"tenant_id":"acme","ivr_inputs":[{"digits":"` + secretBadJSON + `"`)},
	)
	msgs = append(msgs, recordingChunks(tp.Recordings, "acme", "c-phone2", "r1", "2026-11-28T09:30:00Z", denied, 100, true, true)...)
	msgs = append(msgs, recordingChunks(tp.Recordings, "acme", "c-phone3", "r1", "2026-11-28T09:40:00Z", audio, 30000, false, true)[:1]...)
	bad := recordingChunks(tp.Recordings, "acme", "c-phone4", "r1", "2026-11-28T09:50:00Z", audio, 50000, false, true)
	bad[0].Value = append([]byte("X"), bad[0].Value[1:]...) // checksum mismatch
	msgs = append(msgs, bad...)
	h.send(msgs...)
	// The incomplete recording is dead-lettered once its partition is caught
	// up and its last chunk is older than chunk_timeout.
	time.Sleep(1100 * time.Millisecond)

	m := pipeline.NewMetrics(nil)
	h.drain("e2e", m)

	t.Run("inquiries archived once, masked", func(t *testing.T) {
		rows, err := laketest.ReadRows[schema.InquiryRow](h.lake, schema.DatasetInquiries)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.InquiryID)
		}
		sort.Strings(ids)
		if want := []string{"c-chat", "c-mail", "c-phone", "c-social"}; !slices.Equal(ids, want) {
			t.Fatalf("inquiries %v, want %v", ids, want)
		}
		for _, r := range rows {
			if r.InquiryID != "c-phone" {
				continue
			}
			if len(r.IVRInputs) != 3 || r.IVRInputs[0].Digits != nil || r.IVRInputs[1].Digits != nil || !r.IVRInputs[1].Masked {
				t.Errorf("IVR inputs not masked: %+v", r.IVRInputs)
			}
			if r.IVRInputs[2].Digits == nil || *r.IVRInputs[2].Digits != "2" {
				t.Errorf("unmasked IVR input lost: %+v", r.IVRInputs[2])
			}
		}
	})
	t.Run("email partitioned by its UTC day", func(t *testing.T) {
		matches, _ := filepath.Glob(filepath.Join(h.lake, "inquiries/tenant=acme/date=2026-11-28/*.parquet"))
		if len(matches) != 1 {
			t.Fatalf("want one file for acme 2026-11-28 (the e-mail started 23:30-02:00 = 01:30Z), got %v", matches)
		}
	})
	t.Run("only consented chat logs", func(t *testing.T) {
		rows, err := laketest.ReadRows[schema.ChatlogRow](h.lake, schema.DatasetChatlogs)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].InquiryID != "c-chat" || rows[0].Messages[0].Text != "Hej! <&> 😀" {
			t.Fatalf("chat logs %+v", rows)
		}
	})
	t.Run("recording byte-identical, refused and broken ones absent", func(t *testing.T) {
		rows, err := laketest.ReadRows[schema.RecordingRow](h.lake, schema.DatasetRecordings)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].InquiryID != "c-phone" || rows[0].Chunks != 5 {
			t.Fatalf("recordings %+v", rows)
		}
		got, err := os.ReadFile(filepath.Join(h.lake, rows[0].Object))
		if err != nil || !bytes.Equal(got, audio) {
			t.Fatalf("media object differs from what was sent (err %v, %d vs %d bytes)", err, len(got), len(audio))
		}
		media, _ := filepath.Glob(filepath.Join(h.lake, "media/*/*/*.mp3"))
		if len(media) != 1 {
			t.Errorf("media objects %v, want only c-phone's", media)
		}
	})
	t.Run("surveys", func(t *testing.T) {
		rows, err := laketest.ReadRows[schema.SurveyRow](h.lake, schema.DatasetSurveys)
		if err != nil || len(rows) != 1 || rows[0].Score != 9 {
			t.Fatalf("surveys %+v %v", rows, err)
		}
	})
	t.Run("dead letters with reasons, redacted", func(t *testing.T) {
		dlq := h.deadLetters()
		var reasons []string
		for _, d := range dlq {
			reasons = append(reasons, header(d, pipeline.HeaderReason))
			if header(d, pipeline.HeaderSourceTopic) == "" || header(d, pipeline.HeaderSourceOffset) == "" {
				t.Errorf("dead letter without source headers: %v", d.Headers)
			}
			for _, s := range []string{secretDLQDigits, secretBody, secretBadJSON} {
				if bytes.Contains(d.Value, []byte(s)) {
					t.Errorf("dead letter %s carries secret %q", header(d, pipeline.HeaderReason), s)
				}
			}
			if len(d.Value) > 4096 {
				t.Errorf("dead letter of %d bytes: recordings must go by reference", len(d.Value))
			}
		}
		sort.Strings(reasons)
		want := []string{"checksum_mismatch", "incomplete_recording", "malformed", "missing_consent", "out_of_range", "unsupported_schema_version"}
		if !slices.Equal(reasons, want) {
			t.Fatalf("dead-letter reasons %v, want %v", reasons, want)
		}
	})
	t.Run("no secret anywhere on disk or in logs", func(t *testing.T) {
		h.assertNoSecrets([]string{secretPNR, secretCard, secretBody, secretAttachment, secretSocial, secretChat,
			secretAudio, secretDLQDigits, secretBadJSON})
		h.assertNoDebris()
		// The scan must be able to see through compressed Parquet pages: a
		// value that is stored has to be found.
		if found, err := laketest.ScanForSecrets(h.lake, []string{"Snabb hjälp", "Hej! <&> 😀"}); err != nil || len(found) != 2 {
			t.Fatalf("control scan found %v (err %v): the scan cannot see stored values", found, err)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		checks := map[string]float64{
			"masked by flag":       testutil.ToFloat64(m.MaskedInputs.WithLabelValues("flag")),
			"masked by list":       testutil.ToFloat64(m.MaskedInputs.WithLabelValues("tenant_list")),
			"chat refused":         testutil.ToFloat64(m.ConsentDropped.WithLabelValues("chatlog")),
			"body never stored":    testutil.ToFloat64(m.NeverStored.WithLabelValues("body")),
			"inquiries archived":   testutil.ToFloat64(m.Archived.WithLabelValues("inquiries")),
			"recordings archived":  testutil.ToFloat64(m.Archived.WithLabelValues("recordings")),
			"dead-lettered schema": testutil.ToFloat64(m.DeadLettered.WithLabelValues("unsupported_schema_version")),
		}
		want := map[string]float64{"masked by flag": 1, "masked by list": 1, "chat refused": 1, "body never stored": 2,
			"inquiries archived": 4, "recordings archived": 1, "dead-lettered schema": 1}
		for k, v := range want {
			if checks[k] != v {
				t.Errorf("%s = %v, want %v", k, checks[k], v)
			}
		}
		for _, topic := range []string{tp.Inquiries, tp.Chatlogs, tp.Recordings} {
			var sent float64
			for _, end := range partitionEnds(t, h.brokers, topic) {
				sent += float64(end)
			}
			if got := testutil.ToFloat64(m.Consumed.WithLabelValues(topic)); got != sent || sent == 0 {
				t.Errorf("%s: %v records consumed, %v sent", topic, got, sent)
			}
		}
	})
	t.Run("a second drain adds nothing", func(t *testing.T) {
		before := listFiles(t, h.lake)
		h.drain("e2e", nil)
		if after := listFiles(t, h.lake); !slices.Equal(before, after) {
			t.Fatalf("files changed on a second drain:\nbefore %v\nafter  %v", before, after)
		}
	})
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !bytes.Contains([]byte(p), []byte("_arkiv")) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}
