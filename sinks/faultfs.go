package sinks

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
)

// ErrInjected is the error a FaultFS returns for an injected fault.
var ErrInjected = errors.New("injected fault")

// FaultFS wraps an FS for tests and fails its mutating operations on
// demand: every Create, OpenSync, Rename, Remove, RemoveAll, MkdirAll,
// SyncDir, SyncAll, Lock and TryLock, and every Write, Sync and Close of a
// file it opened, counts as one operation. Reads never fail.
//
// Armed with FailAt(i, crash), the i-th operation from then on (0-based)
// fails. With crash set every later one fails too, as if the process had
// died at that instant; Heal stops the failures.
type FaultFS struct {
	FS
	mu     sync.Mutex
	ops    int  // operations counted since armed
	failAt int  // -1: never
	crash  bool // fail every operation from failAt on
	armed  bool
}

// NewFaultFS wraps inner; it injects nothing until armed.
func NewFaultFS(inner FS) *FaultFS { return &FaultFS{FS: inner, failAt: -1} }

// FailAt arms the wrapper: the i-th mutating operation from now fails (and,
// with crash, every one after it). The count restarts at 0.
func (f *FaultFS) FailAt(i int, crash bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops, f.failAt, f.crash, f.armed = 0, i, crash, true
}

// Count arms the wrapper to count without failing (to learn how many
// operations a workload does).
func (f *FaultFS) Count() { f.FailAt(-1, false) }

// Heal stops injecting faults; Ops still reports the count.
func (f *FaultFS) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = false
}

// Ops is the number of mutating operations since armed.
func (f *FaultFS) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// step counts one operation and says whether it fails.
func (f *FaultFS) step(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return nil
	}
	i := f.ops
	f.ops++
	if f.failAt >= 0 && (i == f.failAt || (f.crash && i > f.failAt)) {
		return fmt.Errorf("%s %s (operation %d): %w", op, name, i, ErrInjected)
	}
	return nil
}

// Create implements FS.
func (f *FaultFS) Create(name string) (File, error) {
	if err := f.step("create", name); err != nil {
		return nil, err
	}
	file, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

// OpenSync implements FS.
func (f *FaultFS) OpenSync(name string) (File, error) {
	if err := f.step("open", name); err != nil {
		return nil, err
	}
	file, err := f.FS.OpenSync(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

// Rename implements FS.
func (f *FaultFS) Rename(o, n string) error {
	if err := f.step("rename", o); err != nil {
		return err
	}
	return f.FS.Rename(o, n)
}

// Remove implements FS.
func (f *FaultFS) Remove(name string) error {
	if err := f.step("remove", name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

// RemoveAll implements FS.
func (f *FaultFS) RemoveAll(name string) error {
	if err := f.step("remove all", name); err != nil {
		return err
	}
	return f.FS.RemoveAll(name)
}

// MkdirAll implements FS.
func (f *FaultFS) MkdirAll(name string) error {
	if err := f.step("mkdir", name); err != nil {
		return err
	}
	return f.FS.MkdirAll(name)
}

// SyncDir implements FS.
func (f *FaultFS) SyncDir(name string) error {
	if err := f.step("sync dir", name); err != nil {
		return err
	}
	return f.FS.SyncDir(name)
}

// SyncAll implements FS (when the wrapped FS has it).
func (f *FaultFS) SyncAll() error {
	if err := f.step("sync all", ""); err != nil {
		return err
	}
	if s, ok := f.FS.(interface{ SyncAll() error }); ok {
		return s.SyncAll()
	}
	return nil
}

// TryLock implements FS.
func (f *FaultFS) TryLock(name string) (func() error, error) {
	if err := f.step("trylock", name); err != nil {
		return nil, err
	}
	return f.FS.TryLock(name)
}

// Lock implements FS.
func (f *FaultFS) Lock(name string) (func() error, error) {
	if err := f.step("lock", name); err != nil {
		return nil, err
	}
	return f.FS.Lock(name)
}

// ReadDir implements FS (never fails by injection).
func (f *FaultFS) ReadDir(name string) ([]fs.DirEntry, error) { return f.FS.ReadDir(name) }

type faultFile struct {
	File
	fs   *FaultFS
	name string
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.step("write", f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.step("sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	if err := f.fs.step("close", f.name); err != nil {
		_ = f.File.Close() // the descriptor must not leak in tests
		return err
	}
	return f.File.Close()
}
