package sinks

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
)

// The spool holds the chunks of recordings that are still arriving, so that
// memory stays bounded however large a recording is, and so that a crash
// loses none of the chunks before the checkpoint: the checkpoint of the
// recordings topic-partition lists its open streams, and spool files not
// listed there are removed by RecoverSpool.

// SpoolStreamID returns the spool folder name of a recording: a hash, so
// that no id from upstream becomes a path and the folder name says nothing.
func SpoolStreamID(tenant, inquiryID, recordingID string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + inquiryID + "\x00" + recordingID))
	return hex.EncodeToString(h[:16])
}

// SpoolStreamDir is the folder of one stream's chunks.
func SpoolStreamDir(tp TopicPartition, streamID string) string {
	return SpoolDir + "/" + tp.Topic + "/" + strconv.Itoa(tp.Partition) + "/" + streamID
}

func spoolChunkPath(tp TopicPartition, streamID string, chunk int) string {
	return SpoolStreamDir(tp, streamID) + "/" + strconv.Itoa(chunk) + ".part"
}

// SpoolChunk stores one chunk of a recording, not yet durably: most
// recordings complete within one flush and are read back from the page
// cache, so only the chunks of streams still open at a checkpoint are
// synced (SyncSpoolStream) before the checkpoint lists them. A chunk file
// not listed in a checkpoint is removed by RecoverSpool after a crash.
func (l *Lake) SpoolChunk(tp TopicPartition, streamID string, chunk int, data []byte) error {
	if err := tp.check(); err != nil {
		return err
	}
	dir := SpoolStreamDir(tp, streamID)
	if err := l.fs.MkdirAll(dir); err != nil {
		return fmt.Errorf("spool chunk: %w", err)
	}
	f, err := l.fs.Create(spoolChunkPath(tp, streamID, chunk))
	if err != nil {
		return fmt.Errorf("spool chunk: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool chunk: %w", err)
	}
	return nil
}

// SyncSpoolStream makes a stream's chunks and folders durable. When it
// returns nil, a checkpoint may list the stream.
func (l *Lake) SyncSpoolStream(tp TopicPartition, s SpoolStream) error {
	for _, c := range s.Chunks {
		if err := l.syncFile(spoolChunkPath(tp, s.ID, c)); err != nil {
			return fmt.Errorf("sync spooled chunk: %w", err)
		}
	}
	dir := SpoolStreamDir(tp, s.ID)
	for _, d := range []string{dir, path.Dir(dir), path.Dir(path.Dir(dir)), SpoolDir} {
		if err := l.fs.SyncDir(d); err != nil {
			return fmt.Errorf("sync spool folder: %w", err)
		}
	}
	return nil
}

func (l *Lake) syncFile(name string) error {
	f, err := l.fs.OpenSync(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

// CopySpooled writes the chunks of a stream in order to w and returns the
// hex SHA-256 and size of what it wrote.
func (l *Lake) CopySpooled(w io.Writer, tp TopicPartition, s SpoolStream) (sum string, size int64, err error) {
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	for _, c := range s.Chunks {
		n, err := l.copyChunk(mw, spoolChunkPath(tp, s.ID, c))
		if err != nil {
			return "", 0, err
		}
		size += n
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

func (l *Lake) copyChunk(w io.Writer, name string) (int64, error) {
	f, err := l.fs.Open(name)
	if err != nil {
		return 0, fmt.Errorf("open spooled chunk: %w", err)
	}
	defer f.Close()
	return io.Copy(w, f)
}

// RemoveSpoolStream deletes a stream's chunks.
func (l *Lake) RemoveSpoolStream(tp TopicPartition, streamID string) error {
	return l.fs.RemoveAll(SpoolStreamDir(tp, streamID))
}

// RecoverSpool makes a topic-partition's spool match its checkpoint: streams
// and chunks the checkpoint does not list were spooled after it and are
// removed (Kafka delivers them again).
func (l *Lake) RecoverSpool(cp Checkpoint) error {
	dir := SpoolDir + "/" + cp.Topic + "/" + strconv.Itoa(cp.Partition)
	entries, err := l.fs.ReadDir(dir)
	if IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list spool: %w", err)
	}
	open := map[string]SpoolStream{}
	for _, s := range cp.Open {
		open[s.ID] = s
	}
	for _, e := range entries {
		s, ok := open[e.Name()]
		if !ok {
			if err := l.fs.RemoveAll(dir + "/" + e.Name()); err != nil {
				return fmt.Errorf("remove stale spool: %w", err)
			}
			continue
		}
		if err := l.trimSpoolStream(cp.TopicPartition, s); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lake) trimSpoolStream(tp TopicPartition, s SpoolStream) error {
	dir := SpoolStreamDir(tp, s.ID)
	entries, err := l.fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list spool stream: %w", err)
	}
	keep := map[string]bool{}
	for _, c := range s.Chunks {
		keep[strconv.Itoa(c)+".part"] = true
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := l.fs.Remove(dir + "/" + e.Name()); err != nil {
				return fmt.Errorf("remove stale chunk: %w", err)
			}
		}
	}
	return nil
}
