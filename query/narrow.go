package query

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go/bloom"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Narrowing a selective search. The search query reads every inquiry,
// recording, chat log and survey file of the tenant's range; over 180 day
// files per dataset, opening them is what a lookup costs. When the filter
// is selective (a number, e-mail address, name, session or inquiry id),
// Search first finds the ids of the inquiries with a row that matches it
// (the query's own candidates, read from the inquiry files that can hold a
// match at all), then runs the unchanged search query over only the files
// that can hold a row of one of those ids, with the media objects those
// rows name. The answer is the same: the search query uses no other rows.

// maxNarrowed is the most candidates a search is narrowed to: beyond it,
// checking every file for them costs more than reading the files.
const maxNarrowed = 2000

// selective reports whether a filter is worth narrowing.
func selective(f *Filter) bool {
	return strings.TrimSpace(f.Number) != "" || strings.TrimSpace(f.Email) != "" ||
		strings.TrimSpace(f.Name) != "" || f.Session != "" || f.Inquiry != ""
}

// narrowed is a search's file lists cut down to its candidates.
type narrowed struct {
	s     sources
	media []string // the candidates' media objects that exist
}

// narrow returns the sources of a selective search cut down to the files
// that can hold rows of its candidates; nil when the search is not
// narrowed (not selective, or too many candidates).
func (e *Engine) narrow(ctx context.Context, tenant string, days dayRange, s sources, f *Filter,
	rf *rowFilter) (*narrowed, error) {
	if !selective(f) {
		return nil, nil
	}
	files, err := e.matchable(tenant, s[schema.DatasetInquiries], f)
	if err != nil {
		return nil, err
	}
	ids, err := e.candidateIDs(ctx, files, f, rf)
	if err != nil || len(ids) > maxNarrowed {
		return nil, err
	}
	n := &narrowed{s: sources{}, media: []string{}}
	held := newProbe("inquiry_id", ids)
	for ds, files := range s {
		kept := []string{}
		if len(ids) > 0 {
			if kept, err = e.mayHoldAny(files, held); err != nil {
				return nil, err
			}
		}
		if len(kept) == 0 {
			kept = []string{e.emptyFile(ds)}
		}
		n.s[ds] = kept
	}
	if recs := n.s[schema.DatasetRecordings]; len(ids) > 0 && recs[0] != e.emptyFile(schema.DatasetRecordings) {
		n.media, err = e.candidateMedia(tenant, days, recs, ids)
	}
	return n, err
}

// matchable keeps the inquiry files that can hold a row matching the
// filter's exact conditions (number, e-mail, session, inquiry id), by their
// statistics and bloom filters, and e-mail addresses by the files' lower-case
// e-mail filters. Names match as substrings: they prune nothing.
func (e *Engine) matchable(tenant string, files []string, f *Filter) ([]string, error) {
	var err error
	if s := strings.TrimSpace(f.Number); s != "" {
		variants, verr := NumberVariants(s, e.cfg.Policy(tenant).PhoneRegion)
		if verr != nil {
			return nil, verr
		}
		files, err = e.mayHoldAny(files, newProbe("caller_number", variants), newProbe("chatter_number", variants))
	}
	if s := strings.TrimSpace(f.Email); err == nil && s != "" {
		files, err = e.mayHoldEmail(files, s)
	}
	if err == nil && f.Session != "" {
		files, err = e.mayHoldAny(files, newProbe("session_id", []string{f.Session}))
	}
	if err == nil && f.Inquiry != "" {
		files, err = e.mayHoldAny(files, newProbe("inquiry_id", []string{f.Inquiry}))
	}
	return files, err
}

// candidateIDs runs the search query's candidate step (the ids with a row
// in range that matches the row filter) over files, stopping past
// maxNarrowed.
func (e *Engine) candidateIDs(ctx context.Context, files []string, f *Filter, rf *rowFilter) ([]string, error) {
	if len(files) == 0 {
		return nil, nil
	}
	b := &sqlBuilder{}
	b.add(`SELECT DISTINCT inquiry_id FROM read_parquet(?::VARCHAR[], `+hiveOptions+`) WHERE started_at >= ?::TIMESTAMPTZ`,
		files, f.From.UTC())
	if !f.To.IsZero() {
		b.add(" AND started_at < ?::TIMESTAMPTZ", f.To.UTC())
	}
	rf.write(b)
	b.add(" LIMIT ?", int64(maxNarrowed+1))
	return e.queryStrings(ctx, "search", b)
}

// candidateMedia lists the media objects of the candidates ids, as
// mediaObjects would list them: those of the days of recFiles (the
// recording files that may hold a candidate's row) named after one of the
// ids (sinks.MediaObject). A recording row and its object are in the
// partition of the same day, the inquiry's. An id that is another's prefix
// up to a dash may add objects of other inquiries: the search query only
// joins the objects its candidates' rows name.
func (e *Engine) candidateMedia(tenant string, days dayRange, recFiles, ids []string) ([]string, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := []string{}
	seen := map[string]bool{}
	for _, path := range recFiles {
		day, ok := partitionDay(path)
		if !ok || seen[day] || !days.contains(day) {
			continue
		}
		seen[day] = true
		objects, err := e.mediaObjects(tenant, dayRange{from: day, to: day})
		if err != nil {
			return nil, err
		}
		for _, obj := range objects {
			if namedAfterOneOf(obj, want) {
				out = append(out, obj)
			}
		}
	}
	return out, nil
}

// namedAfterOneOf reports whether a media object's name is one of the
// inquiry ids followed by a dash.
func namedAfterOneOf(obj string, ids map[string]bool) bool {
	name := obj[strings.LastIndexByte(obj, '/')+1:]
	for i := range len(name) {
		if name[i] == '-' && ids[name[:i]] {
			return true
		}
	}
	return false
}

// partitionDay is the day of a data file's date= folder.
func partitionDay(path string) (string, bool) {
	day, ok := strings.CutPrefix(filepath.Base(filepath.Dir(path)), "date=")
	return day, ok && validDay(day)
}

// queryStrings runs a query whose rows are one string each.
func (e *Engine) queryStrings(ctx context.Context, op string, b *sqlBuilder) ([]string, error) {
	rows, err := e.db.QueryContext(ctx, b.sb.String(), b.args...)
	if err != nil {
		return nil, dbError(op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, dbError(op, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err)
	}
	return out, nil
}

// holding cuts a file list of dataset to the files that may hold a row of
// one of the inquiries ids (prune.go). Nothing left is the dataset's empty
// file: read_parquet of an empty list is an error.
func (e *Engine) holding(dataset string, files, ids []string) ([]string, error) {
	kept, err := e.mayHoldAny(files, newProbe("inquiry_id", ids))
	if err != nil || len(kept) > 0 {
		return kept, err
	}
	return []string{e.emptyFile(dataset)}, nil
}

// mayHoldPerson keeps the files that may hold a row with one of the
// person's numbers (in numberColumns) or e-mail addresses (by the files'
// lower-case e-mail filters).
func (e *Engine) mayHoldPerson(dataset string, files []string, p *person, numberColumns ...string) ([]string, error) {
	var probes []probe
	for _, c := range numberColumns {
		if len(p.numbers) > 0 {
			probes = append(probes, newProbe(c, p.numbers))
		}
	}
	var hashes []uint64
	for _, m := range p.emails {
		key, ok := sinks.EmailBloomKey(m)
		if !ok {
			return files, nil // not plain ASCII: no filter can rule it out
		}
		hashes = append(hashes, bloom.XXH64{}.Sum64(key))
	}
	var kept []string
	for _, path := range files {
		ok, err := e.fileMayHold(path, probes)
		if err == nil && !ok && len(hashes) > 0 {
			ok, err = e.emailsMayBeIn(path, hashes)
		}
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, path)
		}
	}
	if len(kept) == 0 {
		kept = []string{e.emptyFile(dataset)}
	}
	return kept, nil
}
