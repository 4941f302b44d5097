package sinks

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// FS is the small filesystem the lake is written through. Names are slash
// separated and relative to the lake's root. Tests wrap it to inject faults.
type FS interface {
	// Create makes a new file for writing, truncating any old one.
	Create(name string) (File, error)
	// Open opens a file for reading.
	Open(name string) (ReadFile, error)
	// OpenSync opens an existing file so that it can be synced.
	OpenSync(name string) (File, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Remove deletes a file or an empty directory.
	Remove(name string) error
	// RemoveAll deletes a tree; a missing tree is not an error.
	RemoveAll(name string) error
	// MkdirAll makes a directory and its parents.
	MkdirAll(name string) error
	// ReadDir lists a directory, sorted by name.
	ReadDir(name string) ([]fs.DirEntry, error)
	// Stat describes a file.
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes the entries of a directory durable.
	SyncDir(name string) error
	// SyncAll makes every write to the filesystem durable.
	SyncAll() error
	// TryLock takes an exclusive inter-process lock on a lock file, or
	// fails at once with ErrLocked. A dead process holds no lock.
	TryLock(name string) (release func() error, err error)
	// Lock takes the lock, waiting for it.
	Lock(name string) (release func() error, err error)
}

// File is a file being written.
type File interface {
	io.Writer
	io.Closer
	Sync() error
}

// ReadFile is a file being read.
type ReadFile interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	Stat() (fs.FileInfo, error)
}

// DirFS is the local filesystem below Root.
type DirFS struct{ Root string }

func (d DirFS) path(name string) string { return filepath.Join(d.Root, filepath.FromSlash(name)) }

// Create implements FS.
func (d DirFS) Create(name string) (File, error) { return os.Create(d.path(name)) }

// Open implements FS.
func (d DirFS) Open(name string) (ReadFile, error) { return os.Open(d.path(name)) }

// OpenSync implements FS.
func (d DirFS) OpenSync(name string) (File, error) { return os.OpenFile(d.path(name), os.O_RDWR, 0) }

// Rename implements FS.
func (d DirFS) Rename(o, n string) error { return os.Rename(d.path(o), d.path(n)) }

// Remove implements FS.
func (d DirFS) Remove(name string) error { return os.Remove(d.path(name)) }

// RemoveAll implements FS.
func (d DirFS) RemoveAll(name string) error { return os.RemoveAll(d.path(name)) }

// MkdirAll implements FS.
func (d DirFS) MkdirAll(name string) error { return os.MkdirAll(d.path(name), 0o755) }

// ReadDir implements FS.
func (d DirFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(d.path(name)) }

// Stat implements FS.
func (d DirFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(d.path(name)) }

// SyncDir implements FS.
func (d DirFS) SyncDir(name string) error {
	f, err := os.Open(d.path(name))
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// SyncAll implements FS with syncfs(2) on the lake's filesystem.
func (d DirFS) SyncAll() error {
	f, err := os.Open(d.Root)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// IsNotExist reports whether err says a file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
