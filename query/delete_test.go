package query

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

const (
	otherChat = "q6 says: keep me, my order is 4711"
	dupChat   = "a later copy of q2: PIN 98765"
	otherMP3  = "ID3 other recording bytes of q6 \xff\xfb"
)

// deleteFixture adds to the main fixture a file holding q6's chat log next
// to a second copy of q2's, and a recording of q6.
func deleteFixture(t *testing.T) (*laketest.Builder, *Engine) {
	t.Helper()
	l, e := fixture(t)
	q2, q6 := daysAgo(2, 9), daysAgo(1, 11)
	dup := meta(q2)
	dup.IngestedAt = dup.IngestedAt.Add(time.Minute)
	l.Chatlogs("t01",
		schema.ChatlogRow{InquiryID: "q2", InquiryStartedAt: q2, Meta: dup,
			Messages: []schema.ChatMessageRow{{At: q2, From: schema.FromChatter, Text: dupChat}}},
		schema.ChatlogRow{InquiryID: "q6", InquiryStartedAt: q6, Meta: meta(q6),
			Messages: []schema.ChatMessageRow{{At: q6, From: schema.FromChatter, Text: otherChat}}})
	l.Recording("t01", "q6", "r6", q6, []byte(otherMP3))
	return l, e
}

func TestDeleteContent(t *testing.T) {
	l, e := deleteFixture(t)
	ctx := context.Background()
	secrets := []string{"emoji 😀👍🏽", "Hur kan jag hjälpa", dupChat, "fake mp3 frames"}
	if found, err := laketest.ScanForSecrets(l.Dir, secrets); err != nil || len(found) != len(secrets) {
		// The fixture is what the test thinks it is.
		t.Fatalf("before: %v %v", found, err)
	}
	rep, err := e.DeleteContent(ctx, "t01", Access{Actor: "alice", RequestID: "del-1"}, []string{"q1", "q2", "q1"}, ContentBoth)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inquiries != 2 || rep.MediaObjects != 1 || rep.ChatlogFiles != 2 || rep.ChatlogsRemoved != 2 {
		t.Errorf("report %+v", rep)
	}
	found, err := laketest.ScanForSecrets(l.Dir, secrets)
	if err != nil || len(found) != 0 {
		t.Errorf("deleted content still in the lake: %v %v", found, err)
	}
	// The general information stays and says the content is gone.
	for _, id := range []string{"q1", "q2"} {
		d, err := e.Show(ctx, "t01", id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if d.HasRecording || d.HasChatlog {
			t.Errorf("%s still has content: %+v", id, d.Inquiry)
		}
		for _, r := range d.Recordings {
			if r.Available {
				t.Errorf("%s: recording %s still available", id, r.RecordingID)
			}
		}
	}
	if _, err := e.ChatLog(ctx, "t01", "q2", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted chat log: %v", err)
	}
	if _, err := e.Recording(ctx, "t01", "q1", "", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted recording: %v", err)
	}
	// The others' content is intact.
	c, err := e.ChatLog(ctx, "t01", "q6", admin)
	if err != nil || len(c.Messages) != 1 || c.Messages[0].Text != otherChat {
		t.Fatalf("q6 chat log: %+v %v", c, err)
	}
	m, err := e.Recording(ctx, "t01", "q6", "", admin)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	// One entry per inquiry and kind, before the deletes; then the two reads.
	rows, err := e.Audit(ctx, "t01", AuditFilter{Actor: "alice"})
	if err != nil || len(rows) != 4 {
		t.Fatalf("audit: %d %v", len(rows), err)
	}
	got := map[string]int{}
	for _, r := range rows {
		got[r.InquiryID+" "+r.Action]++
		if r.RequestID != "del-1" {
			t.Errorf("request id %q", r.RequestID)
		}
	}
	for _, k := range []string{"q1 recording.delete", "q1 chatlog.delete", "q2 recording.delete", "q2 chatlog.delete"} {
		if got[k] != 1 {
			t.Errorf("audit %s: %d", k, got[k])
		}
	}
	assertNoLakeDebris(t, l.Dir)
	// Deleting again is harmless.
	if _, err := e.DeleteContent(ctx, "t01", admin, []string{"q2"}, ContentChatlog); err != nil {
		t.Errorf("repeat: %v", err)
	}
}

func assertNoLakeDebris(t *testing.T, dir string) {
	t.Helper()
	debris, err := laketest.Debris(dir)
	if err != nil {
		t.Fatal(err)
	}
	rw, _ := os.ReadDir(filepath.Join(dir, sinks.RewriteDir))
	for _, e := range rw {
		debris = append(debris, e.Name())
	}
	for _, d := range debris {
		if filepath.Dir(d) == "_arkiv/tmp" {
			// Only the fixture lake's own (live) tmp folder may be there.
			if inner, _ := os.ReadDir(filepath.Join(dir, d)); len(inner) == 1 {
				continue
			}
		}
		t.Errorf("debris: %s", d)
	}
}

func TestDeleteContentRefusals(t *testing.T) {
	l, e := deleteFixture(t)
	ctx := context.Background()
	secrets := []string{"fake mp3 frames", "emoji 😀👍🏽"}
	for name, call := range map[string]func() error{
		"unknown inquiry": func() error {
			_, err := e.DeleteContent(ctx, "t01", admin, []string{"q1", "nope"}, ContentBoth)
			return wantErr(err, ErrNotFound)
		},
		"hostile id": func() error {
			_, err := e.DeleteContent(ctx, "t01", admin, []string{"q1", "../q2"}, ContentBoth)
			return wantErr(err, ErrNotFound)
		},
		"other tenant": func() error {
			_, err := e.DeleteContent(ctx, "t02", admin, []string{"q1"}, ContentBoth)
			return wantErr(err, ErrNotFound)
		},
		"no actor": func() error {
			_, err := e.DeleteContent(ctx, "t01", Access{}, []string{"q1"}, ContentBoth)
			return wantErr(err, ErrBadRequest)
		},
		"no ids": func() error {
			_, err := e.DeleteContent(ctx, "t01", admin, nil, ContentBoth)
			return wantErr(err, ErrBadRequest)
		},
		"no kind": func() error {
			_, err := e.DeleteContent(ctx, "t01", admin, []string{"q1"}, 0)
			return wantErr(err, ErrBadRequest)
		},
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := auditCount(t, e, "t01"); n != 0 {
		t.Errorf("refused deletes were audited: %d", n)
	}
	// Audit fails closed: nothing is deleted.
	if err := os.MkdirAll(filepath.Join(e.Dir(), "audit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.Dir(), "audit", "tenant=t01"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteContent(ctx, "t01", admin, []string{"q1", "q2"}, ContentBoth); !errors.Is(err, ErrAuditUnavailable) {
		t.Errorf("delete without audit: %v", err)
	}
	found, err := laketest.ScanForSecrets(l.Dir, secrets)
	if err != nil || len(found) < len(secrets) {
		t.Errorf("content deleted although the audit failed: %v %v", found, err)
	}
}

func wantErr(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	return errors.Join(errors.New("want "+want.Error()), err)
}
