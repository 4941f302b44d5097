package query

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Exports in chunks. One search query over a whole range sorts and
// de-duplicates every row of it at once: for a tenant's million inquiries
// DuckDB holds about a gigabyte. An export (EachInquiry) therefore runs the
// unchanged search query over consecutive runs of days, newest first, each
// reading the inquiry files of its days (and, for the joins, every
// recording, chat log and survey file of the range, and every media
// object): memory follows the chunk, not the export. The rows and their
// order are those of the one query, provided that each inquiry row lies in
// the partition of its start day and no inquiry has versions in two
// partitions; one cheap query checks both first, and the export runs as
// one query when either fails. When, as ingest writes them, the content
// rows and media objects lie in their inquiry's day too, a chunk reads
// only its own days' content files and binds only their media objects.

// defaultChunkBytes is how many bytes of inquiry files one chunk reads at
// most (about 25,000 rows; Engine.chunkBytes); a day is never split. DuckDB
// holds some 100 MB for a query of that size (its window, sort and joins),
// half again as much at twice the size.
const defaultChunkBytes = 2 << 20

// chunk is one query of an export: its time range, file lists and the
// media objects that count as present.
type chunk struct {
	f Filter
	s sources
	// days are the partition days whose content files it reads, when it
	// reads only those of its own days (nil: all of the range). Its media
	// objects are then those of these days too.
	days  map[string]bool
	media []string
}

// withMedia gives each chunk the media objects its recordings can name:
// those of its days when it has days, else all. Each query then binds a
// list of the size of its days, not of the whole range's.
func withMedia(chunks []chunk, media []string) []chunk {
	for i := range chunks {
		chunks[i].media = media
		if chunks[i].days != nil {
			chunks[i].media = append([]string{}, filesOfDays(media, chunks[i].days)...)
		}
	}
	return chunks
}

// exportChunks plans an export's queries, newest first.
func (e *Engine) exportChunks(ctx context.Context, s sources, f *Filter) ([]chunk, error) {
	days, err := daysOfFiles(s[schema.DatasetInquiries])
	if err != nil || len(days) < 2 {
		return []chunk{{f: *f, s: s}}, err
	}
	var total int64
	for _, d := range days {
		total += d.bytes
	}
	if total <= e.chunkBytes {
		return []chunk{{f: *f, s: s}}, nil
	}
	ok, contentToo, err := e.partitionedByDay(ctx, s, f)
	if err != nil || !ok {
		return []chunk{{f: *f, s: s}}, err
	}
	var out []chunk
	for i := 0; i < len(days); {
		j, size := i, int64(0)
		for j < len(days) && (j == i || size+days[j].bytes <= e.chunkBytes) {
			size += days[j].bytes
			j++
		}
		out = append(out, e.newChunk(s, f, days[i:j], contentToo))
		i = j
	}
	return out, nil
}

// dayFiles are the inquiry files of one partition day.
type dayFiles struct {
	day   time.Time
	files []string
	bytes int64
}

// daysOfFiles groups inquiry files by their date= folder, newest first.
// The empty placeholder file (no files in range) gives no day.
func daysOfFiles(files []string) ([]dayFiles, error) {
	byDay := map[string]*dayFiles{}
	for _, path := range files {
		name, ok := strings.CutPrefix(filepath.Base(filepath.Dir(path)), "date=")
		day, err := time.Parse(time.DateOnly, name)
		if !ok || err != nil {
			return nil, nil // not a lake file: no chunks
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err // vanished: the export retries on a fresh list
		}
		d := byDay[name]
		if d == nil {
			d = &dayFiles{day: day}
			byDay[name] = d
		}
		d.files = append(d.files, path)
		d.bytes += fi.Size()
	}
	out := make([]dayFiles, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b dayFiles) int { return b.day.Compare(a.day) })
	return out, nil
}

// newChunk is the query of days (newest first): the filter's range cut to
// them, their inquiry files, and every file of the other datasets, or
// (byDay) only those of the same days.
func (e *Engine) newChunk(s sources, f *Filter, days []dayFiles, byDay bool) chunk {
	c := chunk{f: *f, s: sources{}}
	in := map[string]bool{}
	for _, d := range days {
		in[d.day.Format(time.DateOnly)] = true
	}
	if byDay {
		c.days = in
	}
	for ds, files := range s {
		c.s[ds] = files
		if ds == schema.DatasetInquiries || byDay {
			if c.s[ds] = filesOfDays(files, in); len(c.s[ds]) == 0 {
				c.s[ds] = []string{e.emptyFile(ds)}
			}
		}
	}
	from, to := days[len(days)-1].day, days[0].day.AddDate(0, 0, 1)
	if from.After(c.f.From) {
		c.f.From = from
	}
	if c.f.To.IsZero() || to.Before(c.f.To) {
		c.f.To = to
	}
	return c
}

// filesOfDays keeps the files in the date= folders of the days.
func filesOfDays(files []string, days map[string]bool) []string {
	var out []string
	for _, path := range files {
		if d, ok := strings.CutPrefix(filepath.Base(filepath.Dir(path)), "date="); ok && days[d] {
			out = append(out, path)
		}
	}
	return out
}

// partitionedByDay checks what chunking relies on, over the rows of the
// range: every inquiry row lies in the partition of its start's UTC day,
// and no inquiry has rows in two partitions (ok); and every recording, chat
// log and survey row of those inquiries lies in its inquiry's partition,
// and every recording's object in the media folder of its row's day
// (contentToo), so that a chunk need not read the other days' content nor
// bind the other days' media objects. The checks stream or join against
// the (small) content: they do not hold the range's rows. Inquiries are
// told apart by a hash of their id, a fraction of the memory of the ids: a
// collision can only fail a check (the export then runs as one query, or
// reads all content), never pass one wrongly.
func (e *Engine) partitionedByDay(ctx context.Context, s sources, f *Filter) (ok, contentToo bool, err error) {
	const src = "read_parquet(?::VARCHAR[], " + hiveOptions + ")"
	inq := s[schema.DatasetInquiries]
	own := &sqlBuilder{}
	own.add(`SELECT count(*) FILTER (WHERE misplaced > 0 OR first <> last) FROM (SELECT hash(inquiry_id) AS h,
	min(date) AS first, max(date) AS last,
	count(*) FILTER (WHERE date <> CAST(timezone('UTC', started_at) AS DATE)) AS misplaced
	FROM `+src+` WHERE true`, inq)
	content := &sqlBuilder{}
	content.add(`SELECT count(*) FROM (SELECT hash(inquiry_id) AS h, date AS day FROM `+src+` UNION ALL
	SELECT hash(inquiry_id), date FROM `+src+` UNION ALL SELECT hash(inquiry_id), date FROM `+src+`) c
	JOIN (SELECT hash(inquiry_id) AS h, date, started_at FROM `+src+`) i USING (h) WHERE c.day <> i.date`,
		s[schema.DatasetRecordings], s[schema.DatasetChatlogs], s[schema.DatasetSurveys], inq)
	for _, b := range []*sqlBuilder{own, content} {
		b.add(" AND started_at >= ?::TIMESTAMPTZ", f.From.UTC())
		if !f.To.IsZero() {
			b.add(" AND started_at < ?::TIMESTAMPTZ", f.To.UTC())
		}
	}
	own.add(" GROUP BY h)")
	media := &sqlBuilder{}
	media.add(`SELECT count(*) FROM `+src+` WHERE NOT starts_with(object,
	'`+sinks.MediaDataset+`/tenant=' || tenant || '/date=' || CAST(date AS VARCHAR) || '/')`, s[schema.DatasetRecordings])
	var n [3]int64
	for i, b := range []*sqlBuilder{own, content, media} {
		if err := e.db.QueryRowContext(ctx, b.sb.String(), b.args...).Scan(&n[i]); err != nil {
			return false, false, dbError("export: check partitions", err)
		}
		if i == 0 && n[0] > 0 {
			return false, false, nil
		}
	}
	return true, n[1]+n[2] == 0, nil
}
