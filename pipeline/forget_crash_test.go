package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// SIGKILL crash safety of the commands that rewrite or drop lake files
// (issue 4, "Crash safety"): each command runs as a child process over a
// copy of one generated lake and is killed at a random moment; after
// recovery (what every command that opens the lake does: sinks.OpenDir and
// RecoverRewrites) the lake must be exactly the old or the new state, with
// no duplicates visible through the query engine, no debris, and never the
// anonymised person's identifiers once the anonymisation has returned or
// been rolled forward. sinks' fault-injection tests fail the i-th
// filesystem operation in process; these kill the real binary.

// The person anonymised in the crash fixture, and the forms their
// identifiers take in bytes.
const (
	fcTenant   = "acme"
	fcNumber   = "+46701112233"
	fcNational = "0701112233"
	fcEmail    = "petra.personsson@example.com"
	fcName     = "Petra Personsson"
	fcDays     = 24
)

var (
	fcFirstDay = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	fcSecrets  = []string{fcNumber, fcNational, fcEmail, strings.ToUpper(fcEmail), "Petra.Personsson@Example.com", fcName}
	// fcNow and fcConfig: expiry drops inquiries before 06-15, chat logs
	// before 06-18 and recordings before 06-20.
	fcNow    = "2026-06-25T12:00:00Z"
	fcConfig = `tenants:
  defaults:
    retention: {general: 10d, recordings: 5d, chatlogs: 7d}
    phone_region: SE
`
)

// fcCommand is one command under test: its arguments (after the lake) and
// how its states compare.
type fcCommand struct {
	name string
	args []string
	// whole: the lake is one old or new state; otherwise each partition
	// is (compaction and expiry commit partition by partition).
	whole bool
	// anonymise: the person's identifiers must be gone in the new state.
	anonymise bool
	// journal is the folder whose entries show the command mid-way.
	journal string
}

func fcCommands(cfgPath string) []fcCommand {
	anon := []string{"anonymise", "--config", cfgPath, "--tenant", fcTenant, "--actor", "dpo",
		"--number", "070-111 22 33", "--email", "PETRA.personsson@example.com"}
	del := []string{"delete", "--config", cfgPath, "--tenant", fcTenant, "--what", "both", "--yes", "--actor", "admin"}
	for d := range fcDays {
		del = append(del, "--inquiry", fcID("p-call", d), "--inquiry", fcID("o", d*3*fcRowsPerFile),
			"--inquiry", fcID("o", d*3*fcRowsPerFile+1))
		if d%2 == 0 {
			del = append(del, "--inquiry", fcID("p-chat", d))
		}
	}
	return []fcCommand{
		{name: "anonymise", args: anon, whole: true, anonymise: true, journal: sinks.RewriteDir},
		{name: "anonymise-delete-content", args: append(slices.Clone(anon), "--delete-content"), whole: true,
			anonymise: true, journal: sinks.RewriteDir},
		{name: "delete", args: del, whole: true, journal: sinks.RewriteDir},
		{name: "compact", args: []string{"compact", "--tenant", fcTenant, "--min-files", "2"}, journal: sinks.RewriteDir},
		{name: "expire", args: []string{"expire", "--config", cfgPath, "--now", fcNow}, journal: sinks.TrashDir},
	}
}

func TestCrashForgetCommands(t *testing.T) {
	skipUnderRace(t)
	if testing.Short() {
		t.Skip("kills child processes many times")
	}
	if os.Getenv("ARKIV_KAFKA_BROKERS") != "" {
		t.Skip("uses no Kafka: make processes runs it")
	}
	const kills = 10
	bin := arkivBinary(t)
	started := time.Now()
	template := fcBuildLake(t)
	cfgPath := filepath.Join(t.TempDir(), "arkiv.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fcConfig), 0o644))
	cfg, err := config.Load(cfgPath)
	must(t, err)
	t.Logf("built the lake in %s", time.Since(started).Round(time.Millisecond))
	old := fcState(t, template)
	for _, c := range fcCommands(cfgPath) {
		t.Run(c.name, func(t *testing.T) {
			fcRunKills(t, bin, template, cfg, old, c, kills)
		})
	}
	t.Logf("all commands in %s", time.Since(started).Round(time.Millisecond))
}

// fcRunKills runs c once cleanly (the new state and when it is mid-way),
// then kills it kills times and checks each outcome.
func fcRunKills(t *testing.T, bin, template string, cfg *config.Config, old map[string]string, c fcCommand, kills int) {
	ref := fcCopy(t, template)
	total, first, last := fcTimedRun(t, bin, ref, c)
	news := fcState(t, ref)
	if fcEqual(news, old) {
		t.Fatal("a clean run changed nothing")
	}
	if c.anonymise {
		fcAssertNoSecrets(t, ref, "clean run")
	}
	t.Logf("clean run %s; journal seen from %s to %s", total.Round(time.Millisecond),
		first.Round(time.Millisecond), last.Round(time.Millisecond))
	rng := rand.New(rand.NewPCG(uint64(len(c.name)), 42))
	var outcome [4]int // finished, old, new, mixed
	mid := 0
	lo, hi := first, last // where aimed kills go: narrowed as kills land too early or too late
	for i := 0; i < kills || (mid == 0 && i < 3*kills); i++ {
		delay := time.Duration(rng.Int64N(int64(total + total/5)))
		aimed := i%2 == 0 && hi > lo
		if aimed {
			delay = lo + time.Duration(rng.Int64N(int64(hi-lo)))
		}
		finished, midway, result := fcKillAndCheck(t, bin, template, cfg, c, old, news, delay)
		if t.Failed() {
			t.Fatalf("kill %d after %s (finished %v, mid-way %v)", i, delay, finished, midway)
		}
		outcome[result]++
		if midway {
			mid++
		}
		if aimed {
			lo, hi = fcAim(lo, hi, delay, finished, !midway && result == 1)
		}
	}
	t.Logf("finished before the kill %d, old state %d, new state %d, partly (per partition) %d; %d kills mid-way",
		outcome[0], outcome[1], outcome[2], outcome[3], mid)
	if mid == 0 {
		t.Errorf("no kill landed while the command was mid-way (journal or trash present)")
	}
}

// fcKillAndCheck runs c on a copy of the template, kills it after delay,
// recovers and checks the lake (fcCheck gives result).
func fcKillAndCheck(t *testing.T, bin, template string, cfg *config.Config, c fcCommand, old, news map[string]string,
	delay time.Duration) (finished, midway bool, result int) {
	t.Helper()
	dir := fcCopy(t, template)
	defer os.RemoveAll(dir)
	finished, midway = fcKill(t, bin, dir, c, delay)
	return finished, midway, fcCheck(t, bin, dir, cfg, c, old, news, finished)
}

// fcAim narrows the window of aimed kills: a kill after which the command
// had finished was too late, one that found no journal and the old state
// too early (the machine may be faster or slower than in the clean run). A
// window narrowed to nothing is widened again around where it was.
func fcAim(lo, hi, delay time.Duration, late, early bool) (time.Duration, time.Duration) {
	switch {
	case late:
		hi = delay
	case early:
		lo = delay
	}
	if hi-lo < 5*time.Millisecond {
		lo, hi = lo*3/4, hi*5/4+20*time.Millisecond
	}
	return lo, hi
}

// fcTimedRun runs the command to its end, watching when its journal folder
// has entries, relative to the start.
func fcTimedRun(t *testing.T, bin, dir string, c fcCommand) (total, first, last time.Duration) {
	t.Helper()
	cmd, out := fcStart(t, bin, dir, c)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	journal := filepath.Join(dir, c.journal)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v\n%s", c.name, err, out.Bytes())
			}
			return time.Since(start), first, last
		default:
		}
		if entries, _ := os.ReadDir(journal); len(entries) > 0 {
			if first == 0 {
				first = time.Since(start)
			}
			last = time.Since(start)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

func fcStart(t *testing.T, bin, dir string, c fcCommand) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	args := append([]string{c.args[0], "--lake", dir}, c.args[1:]...)
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	return cmd, &out
}

// fcKill starts the command and SIGKILLs it after delay. It reports whether
// the command had finished (successfully) first, and whether it was killed
// mid-way: its journal (or trash) has entries.
func fcKill(t *testing.T, bin, dir string, c fcCommand, delay time.Duration) (finished, midway bool) {
	t.Helper()
	cmd, out := fcStart(t, bin, dir, c)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s failed: %v\n%s", c.name, err, out.Bytes())
		}
		return true, false
	case <-time.After(delay):
	}
	// The command may end between the timer and the signal: Wait has then
	// reaped it and Signal reports os.ErrProcessDone.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill %s: %v", c.name, err)
	}
	if err := <-done; err == nil {
		return true, false // it won the race
	}
	entries, _ := os.ReadDir(filepath.Join(dir, c.journal))
	return false, len(entries) > 0
}

// fcCheck recovers the lake and checks it; it returns 0 when the command
// had finished, 1 for the old state, 2 for the new, 3 for partitions of
// both (commands that commit partition by partition).
func fcCheck(t *testing.T, bin, dir string, cfg *config.Config, c fcCommand, old, news map[string]string, finished bool) int {
	t.Helper()
	l, err := sinks.OpenDir(dir, nil)
	must(t, err)
	must(t, l.RecoverRewrites())
	must(t, l.Close())
	fcAssertNoDebris(t, dir)
	got := fcState(t, dir)
	fcAssertNoDuplicates(t, dir, cfg)
	result := 3
	switch {
	case fcEqual(got, news):
		result = 2
	case fcEqual(got, old):
		result = 1
	case c.whole:
		t.Errorf("the lake is neither the old nor the new state:\n%s", fcDiff(got, old, news))
	default:
		if d := fcPartitionDiff(got, old, news); d != "" {
			t.Errorf("partitions are neither old nor new:\n%s", d)
		}
	}
	if finished && result != 2 {
		t.Errorf("the command returned but the lake is not in the new state (%d)", result)
	}
	if finished {
		result = 0
	}
	if !c.anonymise {
		return result
	}
	if result != 1 {
		fcAssertNoSecrets(t, dir, "after recovery")
	} else {
		// Rolled back: the identifiers are in the ledger already; running
		// the command again completes it.
		cmd, out := fcStart(t, bin, dir, c)
		if err := cmd.Wait(); err != nil {
			t.Errorf("rerun of %s: %v\n%s", c.name, err, out.Bytes())
		}
		fcAssertNoDebris(t, dir)
		if !fcEqual(fcState(t, dir), news) {
			t.Errorf("a rerun did not complete the anonymisation:\n%s", out.Bytes())
		}
		fcAssertNoSecrets(t, dir, "after a rerun")
	}
	return result
}

// fcAssertNoSecrets scans every file of the person's tenant and the lake's
// own files (ledger, journals) for the person's identifiers (the other
// tenants never held them).
func fcAssertNoSecrets(t *testing.T, dir, when string) {
	t.Helper()
	roots := []string{filepath.Join(dir, sinks.MetaDir)}
	for _, ds := range []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings,
		schema.DatasetSurveys, sinks.MediaDataset, schema.DatasetAudit} {
		roots = append(roots, filepath.Join(dir, ds, "tenant="+fcTenant))
	}
	for _, root := range roots {
		if _, err := os.Stat(root); os.IsNotExist(err) {
			continue
		}
		found, err := laketest.ScanForSecrets(root, fcSecrets)
		must(t, err)
		for _, f := range found {
			t.Errorf("%s: the person's identifier %s", when, f)
		}
	}
}

// fcAssertNoDebris: no temporary files, journals or trash left.
func fcAssertNoDebris(t *testing.T, dir string) {
	t.Helper()
	debris, err := laketest.Debris(dir)
	must(t, err)
	for _, d := range []string{sinks.RewriteDir, sinks.TrashDir} {
		entries, _ := os.ReadDir(filepath.Join(dir, d))
		for _, e := range entries {
			debris = append(debris, d+"/"+e.Name())
		}
	}
	if len(debris) > 0 {
		t.Errorf("debris after recovery: %v", debris)
	}
}

// fcAssertNoDuplicates: the engine shows every inquiry of the tenant once,
// and as many as the files hold distinct ids.
func fcAssertNoDuplicates(t *testing.T, dir string, cfg *config.Config) {
	t.Helper()
	rows, err := laketest.ReadTenantRows[schema.InquiryRow](dir, schema.DatasetInquiries)
	must(t, err)
	distinct := map[string]bool{}
	for _, r := range rows[fcTenant] {
		distinct[r.InquiryID] = true
	}
	eng, err := query.Open(dir, cfg, nil)
	must(t, err)
	defer eng.Close()
	seen := map[string]int{}
	must(t, eng.EachInquiry(context.Background(), fcTenant, query.Filter{From: fcFirstDay.AddDate(-1, 0, 0)},
		func(r *query.Inquiry) error {
			seen[r.InquiryID]++
			return nil
		}))
	for id, n := range seen {
		if n > 1 {
			t.Errorf("inquiry %s shown %d times", id, n)
		}
	}
	if len(seen) != len(distinct) {
		t.Errorf("the engine shows %d inquiries; the files hold %d", len(seen), len(distinct))
	}
}

// fcState is the lake's content by partition (dataset/tenant/day): the
// sorted rows of its Parquet files as JSON, or the names and hashes of its
// other files (media, audit logs). Audit partitions are left out unless
// they were in the fixture (the commands append entries to them).
func fcState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ds := range []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings,
		schema.DatasetSurveys, sinks.MediaDataset, schema.DatasetAudit} {
		tenants, _ := os.ReadDir(filepath.Join(dir, ds))
		for _, te := range tenants {
			days, _ := os.ReadDir(filepath.Join(dir, ds, te.Name()))
			for _, d := range days {
				part := ds + "/" + te.Name() + "/" + d.Name()
				out[part] = fcPartition(t, filepath.Join(dir, part), ds)
			}
		}
	}
	return out
}

func fcPartition(t *testing.T, dir, ds string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var items []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case ds == schema.DatasetAudit:
			// The commands audit themselves and compaction seals the
			// logs: what counts is that the partition is there.
			return "audit"
		case strings.HasSuffix(e.Name(), sinks.ParquetSuffix):
			items = append(items, fcRows(t, p, ds)...)
		default:
			b, err := os.ReadFile(p)
			must(t, err)
			items = append(items, fmt.Sprintf("%s %x", e.Name(), sha256.Sum256(b)))
		}
	}
	slices.Sort(items)
	return strings.Join(items, "\n")
}

func fcRows(t *testing.T, path, ds string) []string {
	t.Helper()
	var rows []any
	var err error
	switch ds {
	case schema.DatasetInquiries:
		rows, err = fcRead[schema.InquiryRow](path)
	case schema.DatasetChatlogs:
		rows, err = fcRead[schema.ChatlogRow](path)
	case schema.DatasetRecordings:
		rows, err = fcRead[schema.RecordingRow](path)
	case schema.DatasetSurveys:
		rows, err = fcRead[schema.SurveyRow](path)
	}
	must(t, err)
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		b, err := json.Marshal(r)
		must(t, err)
		out = append(out, string(b))
	}
	return out
}

func fcRead[T any](path string) ([]any, error) {
	rows, err := parquet.ReadFile[T](path)
	out := make([]any, len(rows))
	for i := range rows {
		out[i] = rows[i]
	}
	return out, err
}

func fcEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// fcPartitionDiff lists the partitions that are neither as old nor as new
// (a missing partition is "" and must be missing in one of them).
func fcPartitionDiff(got, old, news map[string]string) string {
	var bad []string
	for _, m := range []map[string]string{got, old, news} {
		for k := range m {
			g, okG := got[k]
			o, okO := old[k]
			n, okN := news[k]
			if !(okG == okO && g == o) && !(okG == okN && g == n) && !slices.Contains(bad, k) {
				bad = append(bad, k)
			}
		}
	}
	slices.Sort(bad)
	return strings.Join(bad[:min(len(bad), 10)], "\n")
}

func fcDiff(got, old, news map[string]string) string {
	var out []string
	for _, k := range fcKeys(got, old, news) {
		if got[k] != old[k] || got[k] != news[k] {
			out = append(out, fmt.Sprintf("%s: old %v new %v", k, got[k] == old[k], got[k] == news[k]))
		}
	}
	return strings.Join(out[:min(len(out), 20)], "\n")
}

func fcKeys(ms ...map[string]string) []string {
	var keys []string
	for _, m := range ms {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// fcNoSyncFS skips fsyncs while the fixture is written: thousands of them
// take long on a real disk, and the fixture's durability is not tested.
type fcNoSyncFS struct{ sinks.FS }

func (n fcNoSyncFS) Create(name string) (sinks.File, error) {
	f, err := n.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return fcNoSyncFile{f}, nil
}

func (fcNoSyncFS) SyncDir(string) error { return nil }
func (fcNoSyncFS) SyncAll() error       { return nil }

type fcNoSyncFile struct{ sinks.File }

func (fcNoSyncFile) Sync() error { return nil }

// fcCopy copies the template lake. Parquet files and media objects are
// hard-linked: the lake never changes them in place (a rewrite or expiry
// unlinks them). Everything else (audit logs are appended to, journals)
// is copied.
func fcCopy(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "lake")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if rel == filepath.FromSlash(sinks.TmpDir) {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if strings.HasSuffix(p, sinks.ParquetSuffix) || strings.HasSuffix(p, sinks.MediaSuffix) {
			return os.Link(p, target)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	must(t, err)
	return dst
}

// The fixture: tenant acme has fcDays days of inquiries in three flushes a
// day (with upstream duplicates across flushes, which compaction
// collapses), chat logs and surveys in two flushes, recordings with media
// and an audit log; the person calls every day, chats every other day,
// answers surveys and writes e-mails. Tenants o1..o8 have small
// partitions every day, so that expiry has many to drop.

const fcRowsPerFile = 60

func fcID(prefix string, n int) string { return fmt.Sprintf("%s-%05d", prefix, n) }

func fcBuildLake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := sinks.Open(fcNoSyncFS{sinks.DirFS{Root: dir}}, nil)
	must(t, err)
	b := &laketest.Builder{T: t, Dir: dir, Lake: l}
	for d := range fcDays {
		fcBuildDay(t, b, d)
	}
	for o := 1; o <= 4; o++ {
		tenant := fmt.Sprintf("o%d", o)
		for d := range fcDays {
			at := fcFirstDay.AddDate(0, 0, d).Add(9 * time.Hour)
			b.Inquiries(tenant, fcInquiry(fcID("x", d), at, fmt.Sprintf("+4670300%04d", d)))
			b.Chatlogs(tenant, fcChatlog(fcID("x", d), at, "Someone"))
			b.Recording(tenant, fcID("x", d), "rec-1", at, []byte("ID3 other tenant audio "+fcID("x", d)))
		}
	}
	must(t, b.Lake.Close())
	return b.Dir
}

func fcBuildDay(t *testing.T, b *laketest.Builder, d int) {
	t.Helper()
	day := fcFirstDay.AddDate(0, 0, d)
	at := func(i int) time.Time { return day.Add(7*time.Hour + time.Duration(i)*41*time.Second) }
	var flushes [3][]schema.InquiryRow
	var chats [2][]schema.ChatlogRow
	var surveys [2][]schema.SurveyRow
	for i := range 3 * fcRowsPerFile {
		n := d*3*fcRowsPerFile + i
		id := fcID("o", n)
		r := fcInquiry(id, at(i), fmt.Sprintf("+4670200%04d", n%10000))
		if i%4 == 0 {
			r = fcChat(id, at(i), fmt.Sprintf("Other Chatter %d", n), fmt.Sprintf("other%d@example.org", n), "")
			chats[i%2] = append(chats[i%2], fcChatlog(id, at(i), "Other"))
		}
		flushes[i%3] = append(flushes[i%3], r)
		if i%10 == 0 {
			surveys[i%2] = append(surveys[i%2], fcSurvey(fcID("s-o", n), id, at(i), nil, nil))
		}
	}
	// Upstream duplicates: rows of the first flush sent again later.
	for i := range 5 {
		dup := flushes[0][i]
		dup.IngestedAt = dup.IngestedAt.Add(time.Minute)
		flushes[2] = append(flushes[2], dup)
	}
	// The person.
	call := fcInquiry(fcID("p-call", d), at(3), fcNumber)
	if d%7 == 3 {
		call.CallerNumber = ptrTo(fcNational) // a legacy record
	}
	flushes[1] = append(flushes[1], call)
	surveys[0] = append(surveys[0], fcSurvey(fcID("s-p", d), call.InquiryID, call.StartedAt, ptrTo(fcNumber), nil))
	if d%2 == 0 {
		email := fcEmail
		if d%4 == 0 {
			email = "Petra.Personsson@Example.com"
		}
		chat := fcChat(fcID("p-chat", d), at(5), fcName, email, fcNumber)
		flushes[2] = append(flushes[2], chat)
		chats[1] = append(chats[1], fcChatlog(chat.InquiryID, chat.StartedAt, fcName))
		surveys[1] = append(surveys[1], fcSurvey(fcID("s-pc", d), chat.InquiryID, chat.StartedAt, nil, ptrTo(fcEmail)))
	}
	if d%5 == 0 {
		mail := fcInquiry(fcID("p-mail", d), at(7), "")
		mail.MediaType, mail.CallerNumber = schema.MediaEmail, nil
		mail.FromAddress, mail.Subject = ptrTo(strings.ToUpper(fcEmail)), ptrTo("From "+fcName)
		flushes[0] = append(flushes[0], mail)
	}
	for _, f := range flushes {
		b.Inquiries(fcTenant, f...)
	}
	for _, c := range chats {
		b.Chatlogs(fcTenant, c...)
	}
	for _, s := range surveys {
		b.Surveys(fcTenant, s...)
	}
	b.Recording(fcTenant, call.InquiryID, "rec-1", call.StartedAt, []byte("ID3 the person's call "+call.InquiryID))
	for i := range 3 {
		id := fcID("o", d*3*fcRowsPerFile+1+4*i)
		b.Recording(fcTenant, id, "rec-1", at(1+4*i), []byte("ID3 someone's call "+id))
	}
	audit := sinks.PartitionDir(schema.DatasetAudit, fcTenant, schema.Day(day)) + "/fixture.jsonl"
	must(t, b.Lake.Publish(audit, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(schema.AuditRow{Time: day, Tenant: fcTenant, Actor: "a", InquiryID: fcID("o", d)})
	}))
}

func ptrTo[T any](v T) *T { return &v }

func fcInquiry(id string, at time.Time, number string) schema.InquiryRow {
	talk := 95.5
	r := schema.InquiryRow{InquiryID: id, SessionID: "s-" + id, MediaType: schema.MediaPhone, StartedAt: at,
		Queue: "support", AgentID: "a-001", AgentName: "Anna Agent", TalkSeconds: &talk, Meta: laketest.Meta(at)}
	if number != "" {
		r.CallerNumber = &number
	}
	return r
}

func fcChat(id string, at time.Time, name, email, number string) schema.InquiryRow {
	r := fcInquiry(id, at, "")
	r.MediaType, r.Queue = schema.MediaChat, "chat"
	r.ChatterName, r.ChatterEmail = &name, &email
	if number != "" {
		r.ChatterNumber = &number
	}
	consent := true
	r.ChatStoreConsent = &consent
	return r
}

func fcChatlog(id string, at time.Time, name string) schema.ChatlogRow {
	return schema.ChatlogRow{InquiryID: id, InquiryStartedAt: at, Meta: laketest.Meta(at), Messages: []schema.ChatMessageRow{
		{At: at.Add(time.Minute), From: schema.FromChatter, Name: &name, Text: "hello, about order " + id},
		{At: at.Add(2 * time.Minute), From: schema.FromAgent, Name: ptrTo("Bo"), Text: "Hej!"}}}
}

func fcSurvey(id, inquiry string, at time.Time, number, email *string) schema.SurveyRow {
	comment := "kind agent"
	return schema.SurveyRow{SurveyID: id, SurveyType: schema.SurveySMS, SessionID: "s-" + inquiry, InquiryID: inquiry,
		InquiryStartedAt: at, Score: 8, Comment: &comment, RespondentNumber: number, RespondentEmail: email,
		Meta: laketest.Meta(at)}
}
