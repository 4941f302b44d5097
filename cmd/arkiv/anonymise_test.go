package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/arkiv-project/arkiv/internal/laketest"
)

func TestAnonymiseCommand(t *testing.T) {
	dir := cmdLake(t)
	args := []string{"anonymise", "--lake", dir, "--tenant", "t01", "--actor", "dpo", "--number", "070-111 22 33",
		"--delete-content"}
	code, out, errOut := runCmd(t, "", append(args, "--dry-run")...)
	if code != 0 {
		t.Fatalf("dry run: %d %s", code, errOut)
	}
	var rc struct {
		ReceiptID      string         `json:"receipt_id"`
		DryRun         bool           `json:"dry_run"`
		Inquiries      int            `json:"inquiries"`
		RowsAnonymised map[string]int `json:"rows_anonymised"`
		ContentDeleted map[string]int `json:"content_deleted"`
		FilesRewritten int            `json:"files_rewritten"`
	}
	if err := json.Unmarshal([]byte(out), &rc); err != nil || !rc.DryRun || rc.Inquiries != 1 {
		t.Fatalf("dry run receipt %q: %v", out, err)
	}
	if f, _ := laketest.ScanForSecrets(dir, []string{"+46701112233", "MP3 BYTES"}); len(f) != 2 {
		t.Fatalf("the dry run changed the lake: %v", f)
	}
	code, out, errOut = runCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("anonymise: %d %s", code, errOut)
	}
	rc.DryRun = true
	if err := json.Unmarshal([]byte(out), &rc); err != nil || rc.DryRun || rc.Inquiries != 1 ||
		rc.RowsAnonymised["inquiries"] != 1 || rc.ContentDeleted["recordings"] != 1 || rc.FilesRewritten != 1 {
		t.Fatalf("receipt %q: %v", out, err)
	}
	if f, _ := laketest.ScanForSecrets(dir, []string{"+46701112233", "MP3 BYTES"}); len(f) != 0 {
		t.Errorf("left in the lake: %v", f)
	}
	if strings.Contains(out+errOut, "+4670") || strings.Contains(out+errOut, "070-111") {
		t.Error("the command printed the number")
	}
	if code, _, _ := runCmd(t, "", "anonymise", "--lake", dir, "--tenant", "t01", "--actor", "dpo"); code != 2 {
		t.Errorf("no person: exit %d", code)
	}
}
