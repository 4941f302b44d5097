package sinks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// TryLock implements FS with an advisory flock on a lock file, created if
// missing. The lock is released by the returned function or when the
// process dies, so a dead process never keeps it.
func (d DirFS) TryLock(name string) (release func() error, err error) {
	return d.lock(name, syscall.LOCK_EX|syscall.LOCK_NB)
}

// Lock implements FS: like TryLock, but waits for the lock.
func (d DirFS) Lock(name string) (release func() error, err error) {
	return d.lock(name, syscall.LOCK_EX)
}

func (d DirFS) lock(name string, how int) (func() error, error) {
	p := d.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", name, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() error {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return errors.Join(err, f.Close())
	}, nil
}

// instanceLock is the file that marks an instance's tmp folder as alive. It
// only ever appears already locked: it is locked under another name and
// renamed (the lock follows the open file), so a sweeper that can lock it
// knows its owner is dead.
const instanceLock = ".alive"

// sweepGrace protects a tmp folder that has no lock file yet: its owner may
// be creating it right now.
const sweepGrace = time.Minute

// claimTmp makes this process's own tmp folder and holds its lock, then
// removes the tmp folders of processes that died (their lock is free).
func (l *Lake) claimTmp() error {
	l.tmp = TmpDir + "/" + randomID()
	pending := l.tmp + "/" + instanceLock + ".new"
	release, err := l.fs.TryLock(pending)
	if err != nil {
		return fmt.Errorf("claim tmp folder: %w", err)
	}
	if err := l.fs.Rename(pending, l.tmp+"/"+instanceLock); err != nil {
		release()
		return fmt.Errorf("claim tmp folder: %w", err)
	}
	l.releaseTmp = release
	return l.SweepDeadTmp()
}

// SweepDeadTmp removes the tmp folders of processes that died while writing.
// Open calls it; long-running processes call it now and then.
func (l *Lake) SweepDeadTmp() error { return l.sweepDeadTmp() }

func (l *Lake) sweepDeadTmp() error {
	entries, err := l.fs.ReadDir(TmpDir)
	if err != nil {
		return fmt.Errorf("list tmp: %w", err)
	}
	for _, e := range entries {
		dir := TmpDir + "/" + e.Name()
		if dir == l.tmp {
			continue
		}
		if err := l.sweepIfDead(dir, e.IsDir()); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lake) sweepIfDead(dir string, isDir bool) error {
	if !isDir { // a stray file from an older layout
		return l.fs.RemoveAll(dir)
	}
	lockPath := dir + "/" + instanceLock
	if _, err := l.fs.Stat(lockPath); IsNotExist(err) {
		fi, err := l.fs.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < sweepGrace {
			return nil // being created, or already gone
		}
		l.log.Info("removing an unclaimed tmp folder", "folder", dir)
		return l.fs.RemoveAll(dir)
	}
	release, err := l.fs.TryLock(lockPath)
	if errors.Is(err, ErrLocked) {
		return nil // its process is alive
	}
	if err != nil {
		return fmt.Errorf("check tmp folder %s: %w", dir, err)
	}
	defer release()
	l.log.Info("removing temporary files of a process that died", "folder", dir)
	return l.fs.RemoveAll(dir)
}

// Close releases the lake: this process's tmp folder is removed.
func (l *Lake) Close() error {
	if l.releaseTmp == nil {
		return nil
	}
	err := l.fs.RemoveAll(l.tmp)
	return errors.Join(err, l.releaseTmp())
}
