package sinks

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
)

// Folders under the lake's root.
const (
	MetaDir        = "_arkiv"
	TmpDir         = MetaDir + "/tmp"
	CheckpointDir  = MetaDir + "/checkpoints"
	FlushDir       = MetaDir + "/flushes"
	SpoolDir       = MetaDir + "/spool"
	MediaDataset   = "media"
	ParquetSuffix  = ".parquet"
	MediaSuffix    = ".mp3"
	tmpSuffix      = ".tmp"
	publishBufSize = 256 << 10
)

// Lake is an open lake: a filesystem and the rules for writing into it.
type Lake struct {
	fs         FS
	log        *slog.Logger
	tmp        string // this process's folder under _arkiv/tmp
	releaseTmp func() error
}

// Open opens (creating if needed) the lake on fsys, claims a tmp folder of
// its own and removes those of processes that died. It does not recover
// flushes: that happens per topic-partition when ingest takes one over
// (RecoverFlushes). Close the lake when done.
func Open(fsys FS, log *slog.Logger) (*Lake, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Lake{fs: fsys, log: log.With("component", "lake")}
	for _, dir := range []string{TmpDir, CheckpointDir, FlushDir, SpoolDir} {
		if err := fsys.MkdirAll(dir); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := l.claimTmp(); err != nil {
		return nil, err
	}
	if err := l.SweepTrash(); err != nil { // finish expiries that were interrupted
		return nil, err
	}
	return l, nil
}

// OpenDir opens the lake in a local directory.
func OpenDir(dir string, log *slog.Logger) (*Lake, error) { return Open(DirFS{Root: dir}, log) }

// FS returns the lake's filesystem.
func (l *Lake) FS() FS { return l.fs }

// PartitionDir is the folder of one dataset, tenant and day.
func PartitionDir(dataset, tenant, day string) string {
	return dataset + "/tenant=" + tenant + "/date=" + day
}

// MediaObject is the lake path of a recording's bytes.
func MediaObject(tenant, day, inquiryID, recordingID string) string {
	return PartitionDir(MediaDataset, tenant, day) + "/" + inquiryID + "-" + recordingID + MediaSuffix
}

// Publish writes a file atomically: the content goes to a temporary file
// under _arkiv/tmp, is fsynced and renamed to name, and name's directory is
// fsynced. If Publish returns nil the file is durable under its name; if it
// returns an error, name is unchanged and no temporary file is left behind
// (unless the process dies: the next Open removes the tmp folders of dead
// processes).
func (l *Lake) Publish(name string, write func(w io.Writer) error) error {
	if err := checkLakePath(name); err != nil {
		return err
	}
	tmp, err := l.writeTmp(write)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if err := l.moveIntoPlace(tmp, name); err != nil {
		_ = l.fs.Remove(tmp)
		return fmt.Errorf("publish %s: %w", name, err)
	}
	return nil
}

// PublishUnsynced writes a file like Publish and renames it into place, but
// does not fsync it: the caller makes a whole batch durable at once with
// SyncAll before anything refers to the files (the flush journal's commit).
// A crash before that leaves files that only a pending journal names, and
// recovery removes them.
func (l *Lake) PublishUnsynced(name string, write func(w io.Writer) error) error {
	return l.publishUnsynced(name, write, nil, l.tmp)
}

// publishUnsynced writes through buf (nil: a new buffer) into a temporary
// file in tmpDir, and renames it to name.
func (l *Lake) publishUnsynced(name string, write func(w io.Writer) error, buf *bufio.Writer, tmpDir string) error {
	if err := checkLakePath(name); err != nil {
		return err
	}
	tmp, err := l.writeTmpSync(write, false, buf, tmpDir)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if err := l.renameIntoDir(tmp, name); err != nil {
		_ = l.fs.Remove(tmp)
		return fmt.Errorf("publish %s: %w", name, err)
	}
	return nil
}

// Publisher publishes files as PublishUnsynced does, from one goroutine,
// reusing its write buffer and its Parquet writers (Parquet) from file to
// file: a flush that fans out into thousands of small files then allocates
// them once per publisher instead of once per file. Its temporary files go
// to a folder of its own inside the process's tmp folder: publishers
// creating files in one shared folder contended for its lock (on the
// reference machine 8 of them wrote a backfill's files in about half the
// time with a folder each). It is not safe for concurrent use; Close it
// when done.
type Publisher struct {
	lake    *Lake
	buf     *bufio.Writer
	parquet *ParquetWriters
	tmp     string // its temporary folder, made at the first publish
	made    bool
}

// NewPublisher returns a Publisher for one goroutine.
func (l *Lake) NewPublisher() *Publisher {
	return &Publisher{lake: l, buf: bufio.NewWriterSize(nil, publishBufSize), parquet: NewParquetWriters(),
		tmp: l.tmp + "/p-" + randomID()}
}

// Parquet is the publisher's set of reusable Parquet writers, for the write
// functions of the files it publishes (WriteParquetWith).
func (p *Publisher) Parquet() *ParquetWriters { return p.parquet }

// PublishUnsynced is Lake.PublishUnsynced with the publisher's buffer and
// temporary folder.
func (p *Publisher) PublishUnsynced(name string, write func(w io.Writer) error) error {
	if !p.made {
		if err := p.lake.fs.MkdirAll(p.tmp); err != nil {
			return fmt.Errorf("publish %s: create temporary folder: %w", name, err)
		}
		p.made = true
	}
	return p.lake.publishUnsynced(name, write, p.buf, p.tmp)
}

// Close removes the publisher's temporary folder, with any temporary file
// a failed publish could not remove. Should that fail, the lake's Close, or
// the next Open after a crash, removes it with the process's tmp folder.
func (p *Publisher) Close() error {
	if !p.made {
		return nil
	}
	p.made = false
	if err := p.lake.fs.RemoveAll(p.tmp); err != nil {
		return fmt.Errorf("remove temporary folder: %w", err)
	}
	return nil
}

// renameAttempts bounds renameIntoDir's retries.
const renameAttempts = 5

// renameIntoDir renames tmp to name, making name's folder first. Expiry may
// move the folder (a whole date= partition) into the trash between the two
// steps, when ingest writes a record of an expired day: the folder is made
// again and the rename retried, and the next expiry drops the file.
func (l *Lake) renameIntoDir(tmp, name string) error {
	for attempt := 1; ; attempt++ {
		if err := l.fs.MkdirAll(path.Dir(name)); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
		err := l.fs.Rename(tmp, name)
		if err == nil {
			return nil
		}
		if _, serr := l.fs.Stat(tmp); !IsNotExist(err) || serr != nil || attempt == renameAttempts {
			return fmt.Errorf("rename into place: %w", err)
		}
	}
}

// SyncAll makes everything written to the lake's filesystem durable (one
// syncfs instead of two fsyncs per file).
func (l *Lake) SyncAll() error {
	if err := l.fs.SyncAll(); err != nil {
		return fmt.Errorf("sync lake: %w", err)
	}
	return nil
}

func (l *Lake) writeTmp(write func(w io.Writer) error) (string, error) {
	return l.writeTmpSync(write, true, nil, l.tmp)
}

// writeTmpSync writes a temporary file in dir through buf (nil: a new
// buffer).
func (l *Lake) writeTmpSync(write func(w io.Writer) error, sync bool, buf *bufio.Writer, dir string) (string, error) {
	tmp := dir + "/" + randomID() + tmpSuffix
	f, err := l.fs.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	bw := buf
	if bw == nil {
		bw = bufio.NewWriterSize(f, publishBufSize)
	} else {
		bw.Reset(f)
		defer bw.Reset(nil) // holds no file between uses
	}
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = l.fs.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

func (l *Lake) moveIntoPlace(tmp, name string) error {
	if err := l.renameIntoDir(tmp, name); err != nil {
		return err
	}
	// A folder gone by now went to the trash with the file (expiry).
	if err := l.fs.SyncDir(path.Dir(name)); err != nil && !IsNotExist(err) {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// Remove deletes a file of the lake and makes the deletion durable. A file
// that is already gone is not an error.
func (l *Lake) Remove(name string) error {
	if err := checkLakePath(name); err != nil {
		return err
	}
	if err := l.fs.Remove(name); err != nil && !IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := l.fs.SyncDir(path.Dir(name)); err != nil && !IsNotExist(err) {
		return fmt.Errorf("sync directory of %s: %w", name, err)
	}
	return nil
}

// ReadAll reads a whole (small) file of the lake.
func (l *Lake) ReadAll(name string) ([]byte, error) {
	f, err := l.fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// checkLakePath refuses names that could leave the lake or hide as dot
// files: every name is built from validated ids, so this is a last guard.
func checkLakePath(name string) error {
	if name == "" || path.IsAbs(name) || path.Clean(name) != name || strings.HasPrefix(name, "../") || name == ".." {
		return fmt.Errorf("lake path %q: %w", name, ErrBadPath)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("lake path %q: %w", name, ErrBadPath)
		}
	}
	return nil
}

// ErrBadPath is returned for a lake path that is not a clean relative path.
var ErrBadPath = errors.New("not a clean path inside the lake")

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
