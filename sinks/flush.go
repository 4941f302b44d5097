package sinks

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Flush journal states.
const (
	FlushPending   = "pending"
	FlushCommitted = "committed"
)

// ErrFenced is returned when another ingest process has taken over a
// topic-partition that a flush was about to commit: the flush is rolled back
// and the new owner re-reads those records.
var ErrFenced = errors.New("topic-partition is owned by another ingest process")

// FlushRecord is the journal entry of one flush. A flush adds files that
// hold records of several topic-partitions; the journal makes the whole of
// it one atomic step:
//
//  1. Begin: the record is written with State pending and the list of
//     files it will publish.
//  2. The files are published (each atomically).
//  3. Commit: the record is rewritten with State committed. This rename is
//     the commit point of the flush.
//  4. Each topic-partition's checkpoint moves to its new state; spool
//     folders of completed recordings are removed; the record is removed.
//
// Recovery after a crash rolls a pending record back (its files are removed)
// and rolls a committed one forward (step 4 is redone). Either way each
// record ends up in the lake exactly once.
type FlushRecord struct {
	ID          string       `json:"id"`
	State       string       `json:"state"`
	Files       []string     `json:"files"`
	Checkpoints []Checkpoint `json:"checkpoints"`
	// DoneSpools are spool folders (relative to the lake) to remove once the
	// flush is committed: their recordings are now media objects.
	DoneSpools []string  `json:"done_spools,omitempty"`
	Begun      time.Time `json:"begun"`
}

// NewFlushID returns a fresh, sortable flush id.
func NewFlushID() string {
	return time.Now().UTC().Format("20060102T150405.000000000") + "-" + randomID()[:8]
}

// BeginFlush journals a flush as pending. Call it before publishing any of
// rec.Files.
func (l *Lake) BeginFlush(rec *FlushRecord) error {
	if strings.ContainsAny(rec.ID, "/\\") || rec.ID == "" {
		return fmt.Errorf("flush id %q: %w", rec.ID, ErrBadPath)
	}
	for _, f := range rec.Files {
		if err := checkLakePath(f); err != nil {
			return err
		}
	}
	for _, cp := range rec.Checkpoints {
		if err := cp.check(); err != nil {
			return err
		}
	}
	rec.State = FlushPending
	rec.Begun = time.Now().UTC()
	return l.writeFlushRecord(rec)
}

// CommitFlush makes a begun flush durable and moves the checkpoints. owner,
// when not empty, must still own every topic-partition of the flush;
// otherwise the flush is rolled back and ErrFenced returned.
func (l *Lake) CommitFlush(rec *FlushRecord, owner string) error {
	if owner != "" {
		if err := l.checkOwner(rec, owner); err != nil {
			return errors.Join(err, l.rollback(rec))
		}
	}
	rec.State = FlushCommitted
	if err := l.writeFlushRecord(rec); err != nil {
		return fmt.Errorf("commit flush %s: %w", rec.ID, err)
	}
	return l.rollForward(rec, nil)
}

// AbortFlush rolls back a begun flush that failed before its commit.
func (l *Lake) AbortFlush(rec *FlushRecord) error { return l.rollback(rec) }

func (l *Lake) checkOwner(rec *FlushRecord, owner string) error {
	for _, cp := range rec.Checkpoints {
		cur, err := l.ReadCheckpoint(cp.TopicPartition)
		if err != nil {
			return err
		}
		if cur.Owner != "" && cur.Owner != owner {
			return fmt.Errorf("commit flush %s: %s: %w", rec.ID, cp.TopicPartition, ErrFenced)
		}
	}
	return nil
}

func (l *Lake) writeFlushRecord(rec *FlushRecord) error { return flushJournal.write(l, rec.ID, rec) }

// rollback removes a pending flush's files, then its record.
func (l *Lake) rollback(rec *FlushRecord) error {
	if err := flushJournal.remove(l, "roll back", rec.ID, rec.Files); err != nil {
		return err
	}
	l.log.Info("rolled back uncommitted flush", "flush", rec.ID, "files", len(rec.Files))
	return nil
}

// rollForward moves the checkpoints of a committed flush (only those in
// owned, when owned is not nil) and removes the record once every
// topic-partition has moved. Checkpoints only ever move forward.
func (l *Lake) rollForward(rec *FlushRecord, owned []TopicPartition) error {
	pending := 0
	for _, target := range rec.Checkpoints {
		if owned != nil && !slices.Contains(owned, target.TopicPartition) {
			cur, err := l.ReadCheckpoint(target.TopicPartition)
			if err != nil {
				return err
			}
			if cur.Next < target.Next {
				pending++
			}
			continue
		}
		if err := l.advanceCheckpoint(target); err != nil {
			return fmt.Errorf("roll forward flush %s: %w", rec.ID, err)
		}
	}
	if pending > 0 {
		return nil // the other owners finish it
	}
	for _, dir := range rec.DoneSpools {
		if err := l.fs.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove spool %s: %w", dir, err)
		}
	}
	return flushJournal.remove(l, "finish", rec.ID, nil)
}

func (l *Lake) advanceCheckpoint(target Checkpoint) error {
	cur, err := l.ReadCheckpoint(target.TopicPartition)
	if err != nil {
		return err
	}
	if cur.Next > target.Next {
		return nil
	}
	if target.Owner == "" {
		target.Owner = cur.Owner
	}
	return l.WriteCheckpoint(target)
}

// RecoverFlushes finishes every journaled flush that touches one of the
// owned topic-partitions: pending ones are rolled back, committed ones
// rolled forward. Ingest calls it when it is assigned partitions, before it
// reads their checkpoints. It returns how many flushes it rolled back.
func (l *Lake) RecoverFlushes(owned []TopicPartition) (rolledBack int, err error) {
	recs, err := l.ListFlushes()
	if err != nil {
		return 0, err
	}
	for _, rec := range recs {
		if !touches(rec, owned) {
			continue
		}
		switch rec.State {
		case FlushCommitted:
			err = l.rollForward(rec, owned)
		default:
			err = l.rollback(rec)
			rolledBack++
		}
		if err != nil {
			return rolledBack, err
		}
	}
	return rolledBack, nil
}

// ListFlushes returns the journaled flushes, oldest first.
func (l *Lake) ListFlushes() ([]*FlushRecord, error) {
	return readJournal[FlushRecord](l, flushJournal, nil)
}

func touches(rec *FlushRecord, owned []TopicPartition) bool {
	for _, cp := range rec.Checkpoints {
		if slices.Contains(owned, cp.TopicPartition) {
			return true
		}
	}
	return false
}
