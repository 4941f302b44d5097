package lakegen_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/lakegen"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// now is the instant the test lakes are "as of".
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// generated is one generated lake shared by the tests that only read it.
type generated struct {
	dir string
	sum *lakegen.Summary
}

func generate(t *testing.T, o lakegen.Options) generated {
	t.Helper()
	dir := t.TempDir()
	sum, err := lakegen.Generate(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return generated{dir, sum}
}

// retention40 keeps general information 40 days, recordings 14 and chat
// logs 30 (the defaults).
func retention40(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Decode(strings.NewReader("tenants:\n  defaults:\n    retention:\n      general: 40d\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mainOptions(t *testing.T) lakegen.Options {
	return lakegen.Options{Inquiries: 20_000, Tenants: 5, Days: 40, Seed: 7, Now: now, Config: retention40(t)}
}

func TestGeneratedLake(t *testing.T) {
	g := generate(t, mainOptions(t))
	t.Run("summary", func(t *testing.T) { checkSummary(t, g) })
	t.Run("engine finds each planted person", func(t *testing.T) { checkEngine(t, g) })
	t.Run("plain duckdb reads the lake", func(t *testing.T) { checkDuckDB(t, g) })
	t.Run("shares", func(t *testing.T) { checkShares(t, g) })
	t.Run("media objects match their rows", func(t *testing.T) { checkMedia(t, g) })
	t.Run("retention: one day of each class expires two days later", func(t *testing.T) { checkExpiry(t, g) })
}

func checkSummary(t *testing.T, g generated) {
	s := g.sum
	total := 0
	for _, n := range s.TenantInquiries {
		total += n
	}
	if total != 20_000 || s.Rows[schema.DatasetInquiries] != 20_000 {
		t.Errorf("inquiries: tenants add up to %d, rows %d; want 20000", total, s.Rows[schema.DatasetInquiries])
	}
	if s.TenantInquiries["t0001"] <= s.TenantInquiries["t0005"] {
		t.Errorf("tenant sizes not skewed: %v", s.TenantInquiries)
	}
	if s.FirstDay != "2026-10-20" || s.LastDay != "2026-11-28" {
		t.Errorf("days %s..%s, want 2026-10-20..2026-11-28", s.FirstDay, s.LastDay)
	}
	if s.RecordingsFrom != "2026-11-15" || s.ChatlogsFrom != "2026-10-30" {
		t.Errorf("content from %s (recordings), %s (chat logs); want 2026-11-15, 2026-10-30", s.RecordingsFrom, s.ChatlogsFrom)
	}
	if len(s.Planted) != 5 {
		t.Fatalf("%d planted people, want 5", len(s.Planted))
	}
	for _, p := range s.Planted {
		if len(p.Inquiries) != lakegen.PlantedInquiries || p.ByNumber != 15 || p.ByEmail != 11 {
			t.Errorf("%s: %d inquiries, %d by number, %d by e-mail; want 20, 15, 11", p.Tenant, len(p.Inquiries), p.ByNumber, p.ByEmail)
		}
		days := map[string]bool{}
		for _, pi := range p.Inquiries {
			days[pi.Day] = true
		}
		if len(days) < 15 || !days[s.FirstDay] || !days[s.LastDay] {
			t.Errorf("%s: planted inquiries on %d days (first and last: %v, %v); want spread over all", p.Tenant,
				len(days), days[s.FirstDay], days[s.LastDay])
		}
	}
}

func checkEngine(t *testing.T, g generated) {
	e, err := query.Open(g.dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	from := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	for _, p := range g.sum.Planted {
		byNumber := search(t, e, p.Tenant, query.Filter{From: from, Number: p.Typed})
		byEmail := search(t, e, p.Tenant, query.Filter{From: from, Email: strings.ToUpper(p.Email)})
		var want, wantNumber, wantEmail []string
		for _, pi := range p.Inquiries {
			want = append(want, pi.ID)
			if pi.Media != schema.MediaEmail {
				wantNumber = append(wantNumber, pi.ID)
			}
			if pi.Media != schema.MediaPhone {
				wantEmail = append(wantEmail, pi.ID)
			}
		}
		union := append(slices.Clone(byNumber), byEmail...)
		slices.Sort(union)
		union = slices.Compact(union)
		slices.Sort(want)
		slices.Sort(wantNumber)
		slices.Sort(wantEmail)
		if !slices.Equal(union, want) || !slices.Equal(byNumber, wantNumber) || !slices.Equal(byEmail, wantEmail) {
			t.Errorf("%s: number finds %v, e-mail %v; want %v and %v (all: %v)", p.Tenant, byNumber, byEmail,
				wantNumber, wantEmail, want)
		}
	}
	// The person's recent call has its recording and a chat its log.
	p := g.sum.Planted[0]
	res, err := e.Search(ctx, p.Tenant, query.Filter{From: from, Number: p.Number, HasRecording: ptr(true)}, query.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 {
		t.Errorf("%s: no recorded call of the planted person found", p.Tenant)
	}
}

func search(t *testing.T, e *query.Engine, tenant string, f query.Filter) []string {
	t.Helper()
	res, err := e.Search(context.Background(), tenant, f, query.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range res.Rows {
		out = append(out, r.InquiryID)
	}
	slices.Sort(out)
	return out
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func glob(dir, dataset string) string {
	return "read_parquet('" + filepath.Join(dir, dataset) + "/**/*.parquet', hive_partitioning = true, filename = true)"
}

func checkDuckDB(t *testing.T, g generated) {
	db := openDuckDB(t)
	perTenant := map[string]int{}
	rows, err := db.Query(`SELECT tenant, count(*) FROM ` + glob(g.dir, schema.DatasetInquiries) + ` GROUP BY tenant`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tenant string
		var n int
		if err := rows.Scan(&tenant, &n); err != nil {
			t.Fatal(err)
		}
		perTenant[tenant] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(perTenant, g.sum.TenantInquiries) {
		t.Errorf("inquiries per tenant %v, want %v", perTenant, g.sum.TenantInquiries)
	}
	var typ string
	if err := db.QueryRow(`SELECT typeof(started_at) FROM ` + glob(g.dir, schema.DatasetInquiries) + ` LIMIT 1`).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "TIMESTAMP WITH TIME ZONE" {
		t.Errorf("started_at is %s, want TIMESTAMP WITH TIME ZONE", typ)
	}
	for _, p := range g.sum.Planted {
		held := heldIn(t, db, g.dir, p)
		if !slices.Equal(held, p.HeldIn) {
			t.Errorf("%s: the person's rows are in %v, the summary says %v", p.Tenant, held, p.HeldIn)
		}
	}
}

// heldIn finds, with plain DuckDB, the files holding rows of the person:
// by identifier in inquiries and surveys, by inquiry id in chat logs.
func heldIn(t *testing.T, db *sql.DB, dir string, p lakegen.Person) []string {
	t.Helper()
	q := `SELECT filename FROM ` + glob(dir, schema.DatasetInquiries) + ` WHERE tenant = $1 AND
		(caller_number = $2 OR chatter_number = $2 OR lower(chatter_email) = $3 OR lower(from_address) = $3)
	UNION SELECT filename FROM ` + glob(dir, schema.DatasetSurveys) + ` WHERE tenant = $1 AND
		(respondent_number = $2 OR lower(respondent_email) = $3)
	UNION SELECT filename FROM ` + glob(dir, schema.DatasetChatlogs) + ` WHERE tenant = $1 AND inquiry_id IN (
		SELECT inquiry_id FROM ` + glob(dir, schema.DatasetInquiries) + ` WHERE tenant = $1 AND
		(chatter_number = $2 OR lower(chatter_email) = $3))`
	rows, err := db.Query(q, p.Tenant, p.Number, p.Email)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func checkShares(t *testing.T, g generated) {
	db := openDuckDB(t)
	want := map[string]float64{"phone": 0.55, "chat": 0.25, "email": 0.12, "etask": 0.05, "social": 0.03}
	rows, err := db.Query(`SELECT media_type, count(*) / 20000 FROM ` + glob(g.dir, schema.DatasetInquiries) + ` GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var media string
		var share float64
		if err := rows.Scan(&media, &share); err != nil {
			t.Fatal(err)
		}
		if w, ok := want[media]; !ok || share < w-0.015 || share > w+0.015 {
			t.Errorf("media %s: share %.3f, want %.2f ± 0.015", media, share, w)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var surveyShare, chatlogShare float64
	q := `SELECT (SELECT count(*) FROM ` + glob(g.dir, schema.DatasetSurveys) + `) /
		(SELECT count(*) FROM ` + glob(g.dir, schema.DatasetInquiries) + ` WHERE media_type IN ('phone', 'chat')),
		(SELECT count(*) FROM ` + glob(g.dir, schema.DatasetChatlogs) + `) /
		(SELECT count(*) FROM ` + glob(g.dir, schema.DatasetInquiries) + ` WHERE media_type = 'chat' AND date >= DATE '2026-10-30')`
	if err := db.QueryRow(q).Scan(&surveyShare, &chatlogShare); err != nil {
		t.Fatal(err)
	}
	if surveyShare < 0.27 || surveyShare > 0.32 {
		t.Errorf("surveys per call or chat: %.3f, want about 0.29", surveyShare)
	}
	if chatlogShare < 0.82 || chatlogShare > 0.88 {
		t.Errorf("chat logs per chat in their retention: %.3f, want about 0.85", chatlogShare)
	}
}

func checkMedia(t *testing.T, g generated) {
	db := openDuckDB(t)
	rows, err := db.Query(`SELECT object, size_bytes, sha256, date FROM ` + glob(g.dir, schema.DatasetRecordings))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var obj, sum string
		var size int64
		var day time.Time
		if err := rows.Scan(&obj, &size, &sum, &day); err != nil {
			t.Fatal(err)
		}
		n++
		if schema.Day(day) < g.sum.RecordingsFrom {
			t.Errorf("recording %s of %s is past its retention", obj, schema.Day(day))
		}
		b, err := os.ReadFile(filepath.Join(g.dir, obj))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		if int64(len(b)) != size || hex.EncodeToString(h[:]) != sum || !strings.HasPrefix(string(b), "ID3") {
			t.Fatalf("%s: %d bytes, sha %x; row says %d, %s", obj, len(b), h, size, sum)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != g.sum.Files[sinks.MediaDataset] {
		t.Errorf("%d recording rows, %d media objects", n, g.sum.Files[sinks.MediaDataset])
	}
}

func checkExpiry(t *testing.T, g generated) {
	lake, err := sinks.OpenDir(g.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	plan, err := lake.Expire(now.AddDate(0, 0, 2), retention40(t).Policy, false)
	if err != nil {
		t.Fatal(err)
	}
	dropped := map[string][]string{} // class -> days
	for _, te := range plan.Tenants {
		for _, ce := range te.Classes {
			for _, p := range ce.Partitions {
				if p.Dropped && !slices.Contains(dropped[ce.Class], p.Day) {
					dropped[ce.Class] = append(dropped[ce.Class], p.Day)
				}
			}
		}
	}
	want := map[string][]string{sinks.ClassGeneral: {g.sum.FirstDay}, sinks.ClassRecordings: {g.sum.RecordingsFrom},
		sinks.ClassChatlogs: {g.sum.ChatlogsFrom}}
	for c, days := range want {
		if !slices.Equal(dropped[c], days) {
			t.Errorf("class %s: dropped %v, want %v", c, dropped[c], days)
		}
	}
}

func TestDeterministic(t *testing.T) {
	o := lakegen.Options{Inquiries: 3000, Tenants: 3, Days: 20, Seed: 11, Now: now, Flushes: 3, Duplicates: 0.05}
	o.Workers = 1
	a := generate(t, o)
	o.Workers = 3
	b := generate(t, o)
	ta, tb := tree(t, a.dir), tree(t, b.dir)
	if len(ta) < 100 {
		t.Fatalf("only %d files", len(ta))
	}
	if !maps.Equal(ta, tb) {
		for name, sum := range ta {
			if tb[name] != sum {
				t.Errorf("%s differs (or is missing) between two runs", name)
			}
		}
		t.Fatalf("the same options made different lakes (%d and %d files)", len(ta), len(tb))
	}
	o.Seed = 12
	c := generate(t, o)
	if maps.Equal(ta, tree(t, c.dir)) {
		t.Error("another seed made the same lake")
	}
}

func TestFlushesAndDuplicates(t *testing.T) {
	g := generate(t, lakegen.Options{Inquiries: 3000, Tenants: 2, Days: 5, Seed: 3, Now: now, Flushes: 4, Duplicates: 0.1})
	if n := g.sum.Files[schema.DatasetInquiries]; n < 2*5*3 {
		t.Errorf("%d inquiry files for 2 tenants, 5 days and 4 flushes", n)
	}
	dups := g.sum.Rows[schema.DatasetInquiries] - 3000
	if dups < 200 || dups > 400 {
		t.Errorf("%d duplicate inquiry rows, want about 10%% of 3000", dups)
	}
	e, err := query.Open(g.dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	n := 0
	for _, tenant := range []string{"t0001", "t0002"} {
		err := e.EachInquiry(context.Background(), tenant, query.Filter{From: now.AddDate(0, 0, -10)},
			func(*query.Inquiry) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 3000 {
		t.Errorf("the engine sees %d inquiries, want 3000 (duplicates collapse)", n)
	}
}

func TestRefusesLakeWithData(t *testing.T) {
	g := generate(t, lakegen.Options{Inquiries: 50, Tenants: 1, Days: 2, Now: now, NoMedia: true})
	_, err := lakegen.Generate(context.Background(), g.dir, lakegen.Options{Inquiries: 50, Tenants: 1, Days: 2})
	if !errors.Is(err, lakegen.ErrNotEmpty) {
		t.Errorf("generating into a lake with data: %v, want ErrNotEmpty", err)
	}
	if _, err := os.Stat(filepath.Join(g.dir, sinks.MediaDataset)); !os.IsNotExist(err) {
		t.Errorf("NoMedia wrote media objects (%v)", err)
	}
	for _, o := range []lakegen.Options{{Inquiries: -1}, {Tenants: 10_000}, {Flushes: 100}, {Duplicates: 0.9}} {
		if _, err := lakegen.Generate(context.Background(), t.TempDir(), o); !errors.Is(err, lakegen.ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
}

// tree maps each file of a lake (but the summary, which holds timings) to
// the hash of its bytes.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, sinks.MetaDir) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// BenchmarkGenerate reports inquiries generated per second, per lake size.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				dir := b.TempDir()
				_, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: n, Tenants: 10,
					Days: 30, Now: now})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "inquiries/s")
		})
	}
}
