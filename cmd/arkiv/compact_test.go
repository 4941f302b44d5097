package main

import (
	"encoding/json"
	"testing"
)

func TestCompactCommand(t *testing.T) {
	dir := cmdLake(t)
	code, out, errOut := runCmd(t, "", "compact", "--lake", dir, "--min-files", "2")
	if code != 0 {
		t.Fatalf("compact: %d %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep["partitions_compacted"] != float64(0) {
		t.Errorf("report %q: %v", out, err)
	}
	for _, args := range [][]string{{"compact"}, {"compact", "--lake", dir, "--min-files", "1"},
		{"compact", "--lake", dir, "--tenant", "../x"}} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}
