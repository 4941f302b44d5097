package sinks

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// journal is a folder of records, one <id>.json per flush or rewrite in
// progress (see FlushRecord and RewriteRecord): each record is published
// atomically, and removed once what it names is rolled back or finished.
type journal struct {
	dir  string
	kind string // "flush" or "rewrite", in errors
	// lazy: the folder is made by the first record, not by Open, so it may
	// not exist yet.
	lazy bool
}

var (
	flushJournal   = journal{dir: FlushDir, kind: "flush"}
	rewriteJournal = journal{dir: RewriteDir, kind: "rewrite", lazy: true}
)

func (j journal) path(id string) string { return j.dir + "/" + id + ".json" }

// write publishes the record of id (a new one or a new state of it).
func (j journal) write(l *Lake, id string, rec any) error {
	if j.lazy {
		if err := l.fs.MkdirAll(j.dir); err != nil {
			return fmt.Errorf("create %s: %w", j.dir, err)
		}
	}
	return l.Publish(j.path(id), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(rec)
	})
}

// remove deletes files, then the record of id; op ("roll back", "finish")
// names the step in errors.
//
// The removals are made durable with one sync of the filesystem before the
// record goes, instead of a folder fsync each.
func (j journal) remove(l *Lake, op, id string, files []string) error {
	for _, name := range files {
		if err := checkLakePath(name); err != nil {
			return fmt.Errorf("%s %s %s: %w", op, j.kind, id, err)
		}
		if err := l.fs.Remove(name); err != nil && !IsNotExist(err) {
			return fmt.Errorf("%s %s %s: remove %s: %w", op, j.kind, id, name, err)
		}
	}
	if len(files) > 0 {
		if err := l.fs.SyncAll(); err != nil {
			return fmt.Errorf("%s %s %s: sync the removals: %w", op, j.kind, id, err)
		}
	}
	if err := l.Remove(j.path(id)); err != nil {
		return fmt.Errorf("%s %s %s: %w", op, j.kind, id, err)
	}
	return nil
}

// readJournal returns the records of j, oldest first (ids sort by time). A
// record removed while the folder is read (finished by another process) is
// skipped; one that does not parse is ErrCorrupt. check, when not nil, vets
// each record (file is its file name) and its error is returned as is.
func readJournal[R any](l *Lake, j journal, check func(file string, rec *R) error) ([]*R, error) {
	entries, err := l.fs.ReadDir(j.dir)
	if j.lazy && IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s journal: %w", j.kind, err)
	}
	var recs []*R
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := l.ReadAll(j.dir + "/" + e.Name())
		if IsNotExist(err) {
			continue // finished by another process meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read %s journal: %w", j.kind, err)
		}
		rec := new(R)
		if err := json.Unmarshal(data, rec); err != nil {
			return nil, fmt.Errorf("%s journal %s: %w", j.kind, e.Name(), ErrCorrupt)
		}
		if check != nil {
			if err := check(e.Name(), rec); err != nil {
				return nil, err
			}
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
