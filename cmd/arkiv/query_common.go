package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
)

// lakeFlags are the flags every query command takes.
type lakeFlags struct {
	lake, config *string
}

func addLakeFlags(fs *flag.FlagSet) lakeFlags {
	return lakeFlags{
		lake:   fs.String("lake", os.Getenv("ARKIV_LAKE"), "lake folder (required; default $ARKIV_LAKE)"),
		config: fs.String("config", "", "configuration file (YAML; default: built-in defaults)"),
	}
}

// open opens a query engine over the lake; close it when done.
func (l lakeFlags) open(e *env) (*query.Engine, error) {
	if *l.lake == "" {
		return nil, usageError("--lake is required")
	}
	cfg, err := config.Load(*l.config)
	if err != nil {
		return nil, err
	}
	return query.Open(*l.lake, cfg, e.log)
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
