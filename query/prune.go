package query

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go/bloom"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/arkiv-project/arkiv/sinks"
)

// File pruning: before a file list goes to DuckDB, files that cannot hold
// a row with one of the values sought are left out, by the Parquet
// statistics (min/max) and split-block bloom filters of their row groups.
// DuckDB would prune them too, but only after opening each file, which is
// what dominates a lookup over a tenant's many day files. Pruning is exact:
// a file is left out only when its own metadata proves that no row of it
// has any of the values (statistics and bloom filters have no false
// negatives); whatever cannot be checked is kept.

// fileFacts is what pruning knows of one Parquet file: per row group, the
// statistics and bloom filter location of the columns it looks at.
type fileFacts struct {
	size   int64
	mtime  time.Time
	groups []map[string]chunkFacts
	// emails is the footer's lower-case e-mail filter (sinks/emailbloom.go);
	// nil when the file has none that can rule an address out.
	emails bloom.SplitBlockFilter
}

// chunkFacts describes one column chunk.
type chunkFacts struct {
	min, max []byte // PLAIN-encoded statistics (byte arrays: the bytes); nil: none
	allNull  bool   // no non-null value at all
	bloomOff int64  // header and bitset of the bloom filter; 0: none
	bloomLen int64
	// bloom is the chunk's bloom filter when the cache holds it (nil: read
	// it from the file), and noBloom that the file's filter is of a kind
	// that cannot be checked here.
	bloom   bloom.SplitBlockFilter
	noBloom bool
}

// prunedColumns are the flat columns whose facts are kept.
var prunedColumns = map[string]bool{"inquiry_id": true, "caller_number": true, "chatter_number": true,
	"session_id": true, "respondent_number": true}

// maxCachedFacts bounds the facts cache; past it the cache starts afresh.
const maxCachedFacts = 400_000

// maxCachedBlooms bounds the bytes of bloom filters the facts cache holds
// (10 bits a value: about 1.25 bytes per row and filtered column, some 60
// MB for a lake of 10M inquiries). Past it, filters are read from their
// files at each check, as they are for files read before the budget ran
// out.
const maxCachedBlooms = 256 << 20

// factCache keeps the facts of files already read, by absolute path. Lake
// files are immutable and never reuse a name; size and modification time
// are checked anyway.
type factCache struct {
	mu          sync.Mutex
	m           map[string]*fileFacts
	blooms      int64 // bytes of bloom filters held by the facts in m
	bloomBudget int64 // the most blooms may be
}

func newFactCache() *factCache {
	return &factCache{m: map[string]*fileFacts{}, bloomBudget: maxCachedBlooms}
}

// reserveBlooms reports whether n more bytes of bloom filters may be
// cached, and counts them if so.
func (c *factCache) reserveBlooms(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blooms+n > c.bloomBudget {
		return false
	}
	c.blooms += n
	return true
}

func (c *factCache) get(path string, fi os.FileInfo) *fileFacts {
	c.mu.Lock()
	defer c.mu.Unlock()
	ff := c.m[path]
	if ff == nil || ff.size != fi.Size() || !ff.mtime.Equal(fi.ModTime()) {
		return nil
	}
	return ff
}

func (c *factCache) put(path string, ff *fileFacts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedFacts {
		clear(c.m)
		c.blooms = 0
	}
	c.m[path] = ff
}

// readFacts reads a Parquet file's footer into its facts.
func readFacts(f io.ReaderAt, fi os.FileInfo) (*fileFacts, error) {
	size := fi.Size()
	if size < 12 {
		return nil, errors.New("not a Parquet file: too short")
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if string(tail[4:]) != "PAR1" {
		return nil, errors.New("not a Parquet file (or an encrypted one): no PAR1 footer")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > size-12 {
		return nil, errors.New("bad Parquet footer length")
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-8-n); err != nil {
		return nil, err
	}
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, footer, &md); err != nil {
		return nil, fmt.Errorf("decode Parquet footer: %w", err)
	}
	ff := &fileFacts{size: size, mtime: fi.ModTime(), groups: make([]map[string]chunkFacts, 0, len(md.RowGroups))}
	for _, kv := range md.KeyValueMetadata {
		if kv.Key == sinks.MetaEmailBloom {
			ff.emails, _ = sinks.DecodeEmailBloom(kv.Value)
		}
	}
	for _, rg := range md.RowGroups {
		cols := map[string]chunkFacts{}
		for _, cc := range rg.Columns {
			m := cc.MetaData
			if len(m.PathInSchema) != 1 || !prunedColumns[m.PathInSchema[0]] || cc.FilePath != "" {
				continue
			}
			cf := chunkFacts{allNull: m.NumValues == m.Statistics.NullCount}
			if m.Statistics.MinValue != nil && m.Statistics.MaxValue != nil {
				cf.min, cf.max = m.Statistics.MinValue, m.Statistics.MaxValue
			}
			if m.BloomFilterOffset > 0 && m.BloomFilterLength > 0 {
				cf.bloomOff, cf.bloomLen = m.BloomFilterOffset, int64(m.BloomFilterLength)
			}
			cols[m.PathInSchema[0]] = cf
		}
		ff.groups = append(ff.groups, cols)
	}
	return ff, nil
}

// probe is one column and the values sought in it.
type probe struct {
	column string
	values [][]byte
	hashes []uint64 // xxHash64 of each value, as Parquet bloom filters hash
}

func newProbe(column string, values []string) probe {
	p := probe{column: column}
	for _, v := range values {
		b := []byte(v)
		p.values = append(p.values, b)
		p.hashes = append(p.hashes, bloom.XXH64{}.Sum64(b))
	}
	return p
}

// mayHoldAny keeps the files that may hold a row in which one of the
// probes' columns has one of its values (probes are alternatives, as in
// "caller_number IN (...) OR chatter_number IN (...)"). The order of files
// is kept.
func (e *Engine) mayHoldAny(files []string, probes ...probe) ([]string, error) {
	var out []string
	for _, path := range files {
		ok, err := e.fileMayHold(path, probes)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, path)
		}
	}
	return out, nil
}

func (e *Engine) fileMayHold(path string, probes []probe) (bool, error) {
	ff, err := e.factsOf(path)
	if err != nil {
		return false, err
	}
	f := &lazyFile{path: path}
	defer f.close()
	for _, g := range ff.groups {
		for _, p := range probes {
			ok, err := chunkMayHold(f, g, p)
			if ok || err != nil {
				return ok, err
			}
		}
	}
	return false, nil
}

// mayHoldEmail keeps the inquiry files that may hold addr as chatter_email
// or from_address, in any case, by their footer's e-mail filter. Files
// without a usable filter are kept, and so is everything when addr is not
// plain ASCII.
func (e *Engine) mayHoldEmail(files []string, addr string) ([]string, error) {
	key, ok := sinks.EmailBloomKey(addr)
	if !ok {
		return files, nil
	}
	hash := bloom.XXH64{}.Sum64(key)
	var out []string
	for _, path := range files {
		ok, err := e.emailsMayBeIn(path, []uint64{hash})
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, path)
		}
	}
	return out, nil
}

// emailsMayBeIn reports whether a file may hold one of the lower-case
// e-mail keys whose hashes are given, by its footer's e-mail filter.
func (e *Engine) emailsMayBeIn(path string, hashes []uint64) (bool, error) {
	ff, err := e.factsOf(path)
	if err != nil || ff.emails == nil {
		return err == nil, err
	}
	for _, h := range hashes {
		if ff.emails.Check(h) {
			return true, nil
		}
	}
	return false, nil
}

// factsOf returns a file's facts, from the cache when it has them.
func (e *Engine) factsOf(path string) (*fileFacts, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // vanished: the caller's query retries on a fresh list
	}
	if ff := e.facts.get(path, fi); ff != nil {
		return ff, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	ff, err := readFacts(f, fi)
	if err == nil {
		err = e.facts.loadBlooms(f, ff)
	}
	if err != nil {
		return nil, fmt.Errorf("read the metadata of %s: %w", path, err)
	}
	e.facts.put(path, ff)
	return ff, nil
}

// loadBlooms reads the bloom filters of a file's facts into them, while
// the cache's budget lasts (one read: the filters sit together before the
// footer).
func (c *factCache) loadBlooms(f io.ReaderAt, ff *fileFacts) error {
	lo, hi := int64(-1), int64(0)
	for _, g := range ff.groups {
		for _, cf := range g {
			if cf.bloomOff > 0 {
				if lo < 0 || cf.bloomOff < lo {
					lo = cf.bloomOff
				}
				hi = max(hi, cf.bloomOff+cf.bloomLen)
			}
		}
	}
	if lo < 0 || hi-lo > maxBloomSpan || !c.reserveBlooms(hi-lo) {
		return nil
	}
	span := make([]byte, hi-lo)
	if _, err := f.ReadAt(span, lo); err != nil {
		return fmt.Errorf("read bloom filters: %w", err)
	}
	for _, g := range ff.groups {
		for col, cf := range g {
			if cf.bloomOff == 0 {
				continue
			}
			filter, err := readBloom(bytes.NewReader(span[cf.bloomOff-lo:]), chunkFacts{bloomLen: cf.bloomLen})
			if err != nil {
				return err
			}
			cf.bloom, cf.noBloom = filter, filter == nil
			g[col] = cf
		}
	}
	return nil
}

// maxBloomSpan is the most bytes a file's bloom filters may span for the
// cache to hold them; the filters of a file past it are read one at a time
// at each check.
const maxBloomSpan = 4 << 20

// lazyFile opens its file on the first read: most checks are settled by
// cached facts and need no bloom filter from the file.
type lazyFile struct {
	path string
	f    *os.File
}

func (l *lazyFile) ReadAt(p []byte, off int64) (int, error) {
	if l.f == nil {
		f, err := os.Open(l.path)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	return l.f.ReadAt(p, off)
}

func (l *lazyFile) close() {
	if l.f != nil {
		l.f.Close()
	}
}

// chunkMayHold checks one probe against one row group's chunk: by its
// statistics, then by its bloom filter. A column without facts may hold
// anything.
func chunkMayHold(f io.ReaderAt, g map[string]chunkFacts, p probe) (bool, error) {
	cf, ok := g[p.column]
	if !ok {
		return true, nil
	}
	if cf.allNull {
		return false, nil
	}
	var inRange []int
	for i, v := range p.values {
		if cf.min == nil || (bytes.Compare(v, cf.min) >= 0 && bytes.Compare(v, cf.max) <= 0) {
			inRange = append(inRange, i)
		}
	}
	if len(inRange) == 0 {
		return false, nil
	}
	if cf.bloomOff == 0 || cf.noBloom {
		return true, nil
	}
	filter := cf.bloom
	if filter == nil {
		var err error
		if filter, err = readBloom(f, cf); err != nil || filter == nil {
			return true, err
		}
	}
	for _, i := range inRange {
		if filter.Check(p.hashes[i]) {
			return true, nil
		}
	}
	return false, nil
}

// readBloom reads a chunk's bloom filter; nil (and no error) when it is
// not a plain split-block xxHash filter, which cannot be checked here.
func readBloom(f io.ReaderAt, cf chunkFacts) (bloom.SplitBlockFilter, error) {
	buf := make([]byte, cf.bloomLen)
	if _, err := f.ReadAt(buf, cf.bloomOff); err != nil {
		return nil, fmt.Errorf("read bloom filter: %w", err)
	}
	r := (&thrift.CompactProtocol{}).NewReaderFromBytes(buf)
	var h format.BloomFilterHeader
	if err := thrift.NewDecoder(r).Decode(&h); err != nil {
		return nil, fmt.Errorf("decode bloom filter header: %w", err)
	}
	_, split := h.Algorithm.Value.(*format.SplitBlockAlgorithm)
	_, xx := h.Hash.Value.(*format.XxHash)
	_, plain := h.Compression.Value.(*format.BloomFilterUncompressed)
	start := int64(r.BytesRead())
	if !split || !xx || !plain || h.NumBytes <= 0 || h.NumBytes%32 != 0 || start+int64(h.NumBytes) > int64(len(buf)) {
		return nil, nil
	}
	bits := make([]byte, h.NumBytes) // aligned for the filter's words
	copy(bits, buf[start:])
	return bloom.MakeSplitBlockFilter(bits), nil
}

// WarmStats is what WarmPruning did.
type WarmStats struct {
	Tenants, Files int
	Took           time.Duration
}

// WarmPruning reads into the pruning cache the metadata of every file that
// a search of any tenant may prune, so that the first lookup of a tenant
// costs what later ones do (reading the footers of a tenant's 180 days of
// files costs more than the lookup itself). Files that vanish meanwhile are
// skipped; it stops when ctx ends. `arkiv serve` runs it in the background
// at start.
func (e *Engine) WarmPruning(ctx context.Context) (WarmStats, error) {
	start := time.Now()
	var st WarmStats
	tenants, err := e.Tenants()
	if err != nil {
		return st, err
	}
	for _, tenant := range tenants {
		for _, ds := range searchDatasets {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			files, err := e.files(ds, tenant, dayRange{}, sinks.ParquetSuffix)
			if err != nil {
				return st, err
			}
			if st.Files+len(files) > maxCachedFacts/2 {
				return st, fmt.Errorf("the lake has more files than the pruning cache keeps (%d): warmed %d", maxCachedFacts, st.Files)
			}
			for _, path := range files {
				if _, err := e.factsOf(path); err == nil {
					st.Files++
				} else if !errors.Is(err, fs.ErrNotExist) {
					e.log.Warn("warming the pruning cache: a file's metadata is unreadable", "error", err)
				}
			}
		}
		st.Tenants++
	}
	st.Took = time.Since(start)
	return st, nil
}
