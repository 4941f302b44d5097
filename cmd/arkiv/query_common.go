package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
)

// lakeFlags are the flags of every command that works on a lake: --lake
// and --config.
type lakeFlags struct {
	lake, config *string
}

func addLakeFlags(fs *flag.FlagSet) lakeFlags {
	return addLakeFlagsConfig(fs, "configuration file (YAML; default: built-in defaults)")
}

// addLakeFlagsConfig is addLakeFlags with the command's own help for
// --config.
func addLakeFlagsConfig(fs *flag.FlagSet, configUsage string) lakeFlags {
	return lakeFlags{
		lake:   fs.String("lake", os.Getenv("ARKIV_LAKE"), "lake folder (required; default $ARKIV_LAKE)"),
		config: fs.String("config", "", configUsage),
	}
}

// dir is the lake folder; --lake is required.
func (l lakeFlags) dir() (string, error) {
	if *l.lake == "" {
		return "", usageError("--lake is required")
	}
	return *l.lake, nil
}

// load returns the lake folder and the configuration (built-in defaults
// without --config).
func (l lakeFlags) load() (string, *config.Config, error) {
	dir, err := l.dir()
	if err != nil {
		return "", nil, err
	}
	cfg, err := config.Load(*l.config)
	if err != nil {
		return "", nil, err
	}
	return dir, cfg, nil
}

// open opens a query engine over the lake; close it when done.
func (l lakeFlags) open(e *env) (*query.Engine, error) {
	dir, cfg, err := l.load()
	if err != nil {
		return nil, err
	}
	return query.Open(dir, cfg, e.log)
}

// queryError turns the engine's request errors into usage errors (exit 2).
func queryError(err error) error {
	if errors.Is(err, query.ErrBadRequest) || errors.Is(err, query.ErrInvalidTenant) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return err
}

// parseTime reads an RFC 3339 time or a UTC date (YYYY-MM-DD).
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("--%s %q: want a date like 2026-11-28 or a time like 2026-11-28T14:03:00Z", name, s)
}

// triBool is an optional boolean flag: absent, --x (true) or --x=false.
type triBool struct{ v *bool }

func (b *triBool) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b *triBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.v = &v
	return nil
}

func (b *triBool) IsBoolFlag() bool { return true }

// optInt is an optional integer flag.
type optInt struct{ v *int }

func (o *optInt) String() string {
	if o == nil || o.v == nil {
		return ""
	}
	return strconv.Itoa(*o.v)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	o.v = &v
	return nil
}

// output opens --out (or stdout); close the returned closer when done.
func output(e *env, path string) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, func() error {
		err := f.Sync()
		return errors.Join(err, f.Close())
	}, nil
}

// cell formats one value for a table or CSV; nil is empty.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case *string:
		if x == nil {
			return ""
		}
		return *x
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case *int:
		if x == nil {
			return ""
		}
		return strconv.Itoa(*x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(x))
	}
	return fmt.Sprint(v)
}

// termSafe keeps a table cell on one line and free of terminal control
// sequences.
func termSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// writeTable writes rows as an aligned table.
func writeTable(w io.Writer, header []string, rows [][]any) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = termSafe(cell(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeCSV writes rows as CSV with a header line.
func writeCSV(w io.Writer, header []string, rows [][]any) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(v)
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSONLines writes one JSON object per line.
func writeJSONLines[T any](w io.Writer, rows []T) error {
	enc := json.NewEncoder(w)
	for i := range rows {
		if err := enc.Encode(&rows[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usageError("--format %q: want one of %s", format, strings.Join(allowed, ", "))
}

// filterFlags are the search filters as flags (arkiv search, export and
// delete share them).
type filterFlags struct {
	from, to, number, name, email, queue, agent, media, session, inquiry *string
	hasRecording, hasChatlog                                             triBool
	minScore, maxScore                                                   optInt
	fs                                                                   *flag.FlagSet
}

// filterFlagNames are the flags addFilterFlags defines.
var filterFlagNames = []string{"from", "to", "number", "name", "email", "queue", "agent", "media",
	"session", "inquiry", "has-recording", "has-chatlog", "min-score", "max-score"}

func addFilterFlags(fs *flag.FlagSet) *filterFlags {
	f := addFilterFlagsNoInquiry(fs)
	f.inquiry = fs.String("inquiry", "", "inquiry id")
	return f
}

// addFilterFlagsNoInquiry defines every filter flag but --inquiry, for a
// command whose --inquiry means something else (delete takes several).
func addFilterFlagsNoInquiry(fs *flag.FlagSet) *filterFlags {
	f := &filterFlags{
		fs:      fs,
		from:    fs.String("from", "", "started at or after (2026-11-28 or RFC 3339; default: the tenant's retention)"),
		to:      fs.String("to", "", "started before (2026-11-28 or RFC 3339)"),
		number:  fs.String("number", "", "caller or chatter phone number, typed any common way"),
		name:    fs.String("name", "", "chatter name (substring, case- and accent-insensitive)"),
		email:   fs.String("email", "", "chatter e-mail or from-address (case-insensitive)"),
		queue:   fs.String("queue", "", "queue"),
		agent:   fs.String("agent", "", "agent id or name"),
		media:   fs.String("media", "", "media type: phone, chat, email, etask, social"),
		session: fs.String("session", "", "session id"),
	}
	fs.Var(&f.hasRecording, "has-recording", "only inquiries with (or, =false, without) a recording")
	fs.Var(&f.hasChatlog, "has-chatlog", "only inquiries with (or, =false, without) a chat log")
	fs.Var(&f.minScore, "min-score", "survey score at least")
	fs.Var(&f.maxScore, "max-score", "survey score at most")
	return f
}

// anySet reports whether a filter flag was given on the command line.
func (f *filterFlags) anySet() bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) {
		if slices.Contains(filterFlagNames, fl.Name) && (fl.Name != "inquiry" || f.inquiry != nil) {
			set = true
		}
	})
	return set
}

func (f *filterFlags) filter() (query.Filter, error) {
	from, err := parseTime("from", *f.from)
	if err != nil {
		return query.Filter{}, err
	}
	to, err := parseTime("to", *f.to)
	if err != nil {
		return query.Filter{}, err
	}
	inquiry := ""
	if f.inquiry != nil {
		inquiry = *f.inquiry
	}
	return query.Filter{From: from, To: to, Number: *f.number, Name: *f.name, Email: *f.email,
		Queue: *f.queue, Agent: *f.agent, Media: *f.media, Session: *f.session, Inquiry: inquiry,
		HasRecording: f.hasRecording.v, HasChatlog: f.hasChatlog.v, MinScore: f.minScore.v,
		MaxScore: f.maxScore.v}, nil
}

// stringList is a repeatable flag; each value may also be a comma list.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, splitList(v)...)
	return nil
}

// atomicFile is an output file that appears under its name only when
// complete: written as NAME.partial, fsynced and renamed by commit; abort
// removes it.
type atomicFile struct {
	*os.File
	name string
}

func createAtomic(name string) (*atomicFile, error) {
	f, err := os.OpenFile(name+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	return &atomicFile{File: f, name: name}, nil
}

func (a *atomicFile) commit() error {
	err := a.Sync()
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.File.Name(), a.name)
	}
	if err != nil {
		_ = os.Remove(a.File.Name())
	}
	return err
}

func (a *atomicFile) abort() {
	_ = a.Close()
	_ = os.Remove(a.File.Name())
}
