package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// cmdLake makes a lake with two inquiries of tenant t01: q1 a call with a
// recording, q2 a chat with a chat log.
func cmdLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	day := schema.Day(at)
	m := schema.Meta{IngestedAt: at}
	pub := func(name string, write func(io.Writer) error) {
		if err := l.Publish(name, write); err != nil {
			t.Fatal(err)
		}
	}
	num := "+46701112233"
	pub(sinks.PartitionDir(schema.DatasetInquiries, "t01", day)+"/f1.parquet", func(w io.Writer) error {
		return sinks.WriteParquet(w, schema.DatasetInquiries, "f1", []schema.InquiryRow{
			{InquiryID: "q1", SessionID: "s1", MediaType: schema.MediaPhone, StartedAt: at, CallerNumber: &num, Meta: m},
			{InquiryID: "q2", SessionID: "s2", MediaType: schema.MediaChat, StartedAt: at, Meta: m}})
	})
	obj := sinks.MediaObject("t01", day, "q1", "r1")
	pub(sinks.PartitionDir(schema.DatasetRecordings, "t01", day)+"/f1.parquet", func(w io.Writer) error {
		return sinks.WriteParquet(w, schema.DatasetRecordings, "f1", []schema.RecordingRow{
			{InquiryID: "q1", RecordingID: "r1", InquiryStartedAt: at, ContentType: "audio/mpeg", Object: obj, Meta: m}})
	})
	pub(obj, func(w io.Writer) error { _, err := io.WriteString(w, "MP3 BYTES"); return err })
	pub(sinks.PartitionDir(schema.DatasetChatlogs, "t01", day)+"/f1.parquet", func(w io.Writer) error {
		return sinks.WriteParquet(w, schema.DatasetChatlogs, "f1", []schema.ChatlogRow{
			{InquiryID: "q2", InquiryStartedAt: at, Meta: m,
				Messages: []schema.ChatMessageRow{{At: at, From: schema.FromChatter, Text: "CHAT TEXT"}}}})
	})
	return dir
}

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExportAndDeleteCommands(t *testing.T) {
	lake := cmdLake(t)
	dir := t.TempDir()
	xlsx, zipFile := filepath.Join(dir, "x.xlsx"), filepath.Join(dir, "r.zip")
	if code, _, stderr := runCmd(t, "", "export", "--lake", lake, "--tenant", "t01", "--actor", "alice", "--xlsx", xlsx); code != 0 {
		t.Fatalf("export xlsx: %d %s", code, stderr)
	}
	if fi, err := os.Stat(xlsx); err != nil || fi.Size() == 0 {
		t.Errorf("xlsx: %v", err)
	}
	code, _, stderr := runCmd(t, "", "export", "--lake", lake, "--tenant", "t01", "--actor", "alice",
		"--number", "070-111 22 33", "--recordings-zip", zipFile)
	if code != 0 {
		t.Fatalf("export zip: %d %s", code, stderr)
	}
	zr, err := zip.OpenReader(zipFile)
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "q1/r1.mp3" {
		t.Fatalf("zip: %v", err)
	}
	zr.Close()
	if code, out, _ := runCmd(t, "", "search", "--lake", lake, "--tenant", "t01", "--format", "arrow"); code != 0 || len(out) == 0 {
		t.Errorf("search arrow: %d", code)
	}
	for name, args := range map[string][]string{
		"no --yes off a terminal": {"delete", "--lake", lake, "--tenant", "t01", "--actor", "a", "--what", "both", "--inquiry", "q1"},
		"no selection":            {"delete", "--lake", lake, "--tenant", "t01", "--actor", "a", "--what", "both", "--yes"},
		"both selections":         {"delete", "--lake", lake, "--tenant", "t01", "--actor", "a", "--what", "both", "--yes", "--inquiry", "q1", "--media", "chat"},
		"bad what":                {"delete", "--lake", lake, "--tenant", "t01", "--actor", "a", "--what", "all", "--yes", "--inquiry", "q1"},
		"no actor":                {"delete", "--lake", lake, "--tenant", "t01", "--what", "both", "--yes", "--inquiry", "q1"},
		"export two outputs":      {"export", "--lake", lake, "--tenant", "t01", "--actor", "a", "--xlsx", xlsx, "--recordings-zip", zipFile},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
	code, _, stderr = runCmd(t, "", "delete", "--lake", lake, "--tenant", "t01", "--actor", "alice", "--what", "chatlog",
		"--media", "chat", "--yes")
	if code != 0 || !strings.Contains(stderr, "1 chat logs") {
		t.Fatalf("delete by filter: %d %s", code, stderr)
	}
	code, _, stderr = runCmd(t, "", "delete", "--lake", lake, "--tenant", "t01", "--actor", "alice", "--what", "recording",
		"--inquiry", "q1", "--yes")
	if code != 0 || !strings.Contains(stderr, "1 recordings") {
		t.Fatalf("delete by id: %d %s", code, stderr)
	}
	_, out, _ := runCmd(t, "", "search", "--lake", lake, "--tenant", "t01", "--format", "json")
	if strings.Count(out, `"has_recording":false`) != 2 || strings.Count(out, `"has_chatlog":false`) != 2 {
		t.Errorf("after delete:\n%s", out)
	}
	_, out, _ = runCmd(t, "", "audit", "--lake", lake, "--tenant", "t01", "--format", "json")
	if n := strings.Count(out, "\n"); n != 3 { // zip download, chatlog.delete, recording.delete
		t.Errorf("audit:\n%s", out)
	}
}
