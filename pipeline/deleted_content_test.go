package pipeline_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

// TestDeletedContentNotStoredAgain: content an administrator deleted stays
// deleted when upstream sends it again (a replay, a resend): the chat log
// and the recording chunks of those inquiries are dropped at ingest through
// the tenant's erasure ledger, while other inquiries' content is stored.
func TestDeletedContentNotStoredAgain(t *testing.T) {
	const chatText = "resent chat text 4417"
	audio := bytes.Repeat([]byte("AUDIO-SECRET-9931 "), 400)
	h := newHarness(t, testConfig)
	tp := h.cfg.Topics
	chatlog := func(id, text string) map[string]any {
		return map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": id,
			"inquiry_started_at": "2026-11-21T10:00:00Z", "chat_store_consent": true, "messages": []any{
				map[string]any{"at": "2026-11-21T10:00:07Z", "from": "chatter", "name": "Kim", "text": text}}}
	}
	chatInquiry := func(id string) map[string]any {
		return map[string]any{"schema_version": 1, "tenant_id": "acme", "inquiry_id": id,
			"media_type": "chat", "started_at": "2026-11-21T10:00:00Z", "chat_store_consent": true}
	}
	chunks := recordingChunks(tp.Recordings, "acme", "d-call", "r1", "2026-11-20T09:00:00Z", audio, 1000, false, true)
	h.send(jsonMsg(tp.Inquiries, phone("d-call", "2026-11-20T09:00:00Z", nil)),
		jsonMsg(tp.Inquiries, chatInquiry("d-chat")), jsonMsg(tp.Chatlogs, chatlog("d-chat", chatText)))
	h.send(chunks...)
	h.drain("deleted", nil)

	eng, err := query.Open(h.lake, h.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.DeleteContent(context.Background(), "acme", query.Access{Actor: "admin"},
		[]string{"d-call", "d-chat"}, query.ContentBoth); err != nil {
		t.Fatal(err)
	}
	h.assertNoSecrets([]string{chatText, "AUDIO-SECRET-9931"})

	// Upstream sends both again, with another inquiry's chat log.
	h.send(jsonMsg(tp.Inquiries, chatInquiry("k-chat")), jsonMsg(tp.Chatlogs, chatlog("d-chat", chatText)),
		jsonMsg(tp.Chatlogs, chatlog("k-chat", "kept text")))
	h.send(chunks...)
	m := pipeline.NewMetrics(nil)
	h.drain("deleted", m)

	chats, err := laketest.ReadRows[schema.ChatlogRow](h.lake, schema.DatasetChatlogs)
	if err != nil {
		t.Fatal(err)
	}
	if len(chats) != 1 || chats[0].InquiryID != "k-chat" {
		t.Errorf("chat logs after the resend: %+v", chats)
	}
	h.assertNoSecrets([]string{chatText, "AUDIO-SECRET-9931"})
	h.assertNoDebris()
	if got := testutil.ToFloat64(m.DeletedDropped.WithLabelValues("chatlog")); got != 1 {
		t.Errorf("deleted chat logs dropped = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.DeletedDropped.WithLabelValues("recording_chunk")); got != float64(len(chunks)) {
		t.Errorf("deleted recording chunks dropped = %v, want %d", got, len(chunks))
	}
	if got := testutil.ToFloat64(m.ConsentDropped.WithLabelValues("recording")); got != 0 {
		t.Errorf("a deleted recording was counted as refused consent: %v", got)
	}
	d, err := eng.Show(context.Background(), "acme", "d-chat")
	if err != nil || d == nil {
		t.Fatalf("the inquiry must still be found: %v", err)
	}
}
