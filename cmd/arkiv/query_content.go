package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/arkiv-project/arkiv/query"
)

// actorFlags are the flags of an audited content action.
type actorFlags struct {
	actor, requestID *string
	support          *bool
}

func addActorFlags(fs interface {
	String(string, string, string) *string
	Bool(string, bool, string) *bool
}) actorFlags {
	return actorFlags{
		actor:     fs.String("actor", "", "who is acting, as written into the audit log (required)"),
		support:   fs.Bool("support", false, "the actor is the operator's support staff, not the tenant's administrator"),
		requestID: fs.String("request-id", "", "request id for the audit entry (default: a random one)"),
	}
}

func (a actorFlags) access(action query.Action) (query.Access, error) {
	if strings.TrimSpace(*a.actor) == "" {
		return query.Access{}, usageError("--actor is required: content access is audited")
	}
	return query.Access{Actor: *a.actor, Support: *a.support, Action: action, RequestID: *a.requestID}, nil
}

func runRecording(ctx context.Context, e *env, args []string) error {
	fs := newFlags("recording", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	inquiry := fs.String("inquiry", "", "inquiry id (required)")
	recording := fs.String("recording", "", "recording id (default: the inquiry's first recording)")
	out := fs.String("out", "", "write the mp3 to this file (default: stdout)")
	af := addActorFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *inquiry == "" {
		return usageError("--tenant and --inquiry are required")
	}
	acc, err := af.access(query.ActionDownloadRecording)
	if err != nil {
		return err
	}
	if *out == "" && isTerminal(e.stdout) {
		return usageError("refusing to write mp3 bytes to a terminal: use --out FILE or a pipe")
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	m, err := eng.Recording(ctx, *tenant, *inquiry, *recording, acc)
	if err != nil {
		return queryError(err)
	}
	defer m.Close()
	w, closeOut, err := output(e, *out)
	if err != nil {
		return err
	}
	n, err := io.Copy(w, m)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		if *out != "" {
			_ = os.Remove(*out)
		}
		return fmt.Errorf("write recording: %w", err)
	}
	if *out != "" {
		fmt.Fprintf(e.stderr, "wrote %d bytes (%s) to %s\n", n, m.ContentType, *out)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func runChatlog(ctx context.Context, e *env, args []string) error {
	fs := newFlags("chatlog", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	inquiry := fs.String("inquiry", "", "inquiry id (required)")
	format := fs.String("format", "xml", "xml (download; schema/chatlog.xsd) or text (copy)")
	out := fs.String("out", "", "write to this file (default: stdout)")
	af := addActorFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *inquiry == "" {
		return usageError("--tenant and --inquiry are required")
	}
	if err := checkFormat(*format, "xml", "text"); err != nil {
		return err
	}
	action := query.ActionDownloadChatlog
	if *format == "text" {
		action = query.ActionCopyChatlog
	}
	acc, err := af.access(action)
	if err != nil {
		return err
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	log, err := eng.ChatLog(ctx, *tenant, *inquiry, acc)
	if err != nil {
		return queryError(err)
	}
	w, closeOut, err := output(e, *out)
	if err != nil {
		return err
	}
	if *format == "text" {
		err = log.WriteText(w)
	} else {
		err = log.WriteXML(w)
	}
	return errors.Join(err, closeOut())
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlags("audit", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	inquiry := fs.String("inquiry", "", "only entries about this inquiry")
	actor := fs.String("actor", "", "only entries by this actor")
	from := fs.String("from", "", "entries at or after (2026-11-28 or RFC 3339)")
	to := fs.String("to", "", "entries before (2026-11-28 or RFC 3339)")
	format := fs.String("format", "table", "output: table or json (one object per line)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return usageError("--tenant is required")
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}
	f := query.AuditFilter{InquiryID: *inquiry, Actor: *actor}
	var err error
	if f.From, err = parseTime("from", *from); err != nil {
		return err
	}
	if f.To, err = parseTime("to", *to); err != nil {
		return err
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	rows, err := eng.Audit(ctx, *tenant, f)
	if err != nil {
		return queryError(err)
	}
	if *format == "json" {
		return writeJSONLines(e.stdout, rows)
	}
	table := make([][]any, len(rows))
	for i, r := range rows {
		table[i] = []any{r.Time, r.Actor, r.ActorKind, r.Action, r.InquiryID, r.RequestID}
	}
	return writeTable(e.stdout, []string{"TIME", "ACTOR", "KIND", "ACTION", "INQUIRY", "REQUEST"}, table)
}

func runSQL(ctx context.Context, e *env, args []string) error {
	fs := newFlags("sql", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "only this tenant's data (default: every tenant)")
	command := fs.String("c", "", "SQL to run (default: read from stdin)")
	printViews := fs.Bool("print-views", false, "print CREATE VIEW statements for your own DuckDB and exit")
	format := fs.String("format", "table", "output: table, csv or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format, "table", "csv", "json"); err != nil {
		return err
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	if *printViews {
		views, err := eng.PrintableViews(*tenant)
		if err != nil {
			return queryError(err)
		}
		_, err = fmt.Fprintln(e.stdout, strings.Join(views, "\n"))
		return err
	}
	text := *command
	if text == "" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return err
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		return usageError("no SQL: give -c 'SQL' or SQL on stdin")
	}
	conn, err := eng.SQL(ctx, *tenant)
	if err != nil {
		return queryError(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, text)
	if err != nil {
		return err
	}
	defer rows.Close()
	return printRows(e, rows, *format)
}

// printRows prints an SQL result.
func printRows(e *env, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var table [][]any
	var objects []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if format == "json" {
			obj := make(map[string]any, len(cols))
			for i, c := range cols {
				obj[c] = vals[i]
			}
			objects = append(objects, obj)
			continue
		}
		table = append(table, vals)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	switch format {
	case "json":
		return writeJSONLines(e.stdout, objects)
	case "csv":
		return writeCSV(e.stdout, cols, table)
	}
	return writeTable(e.stdout, cols, table)
}
