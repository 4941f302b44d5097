package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/arkiv-project/arkiv/query"
)

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags("search", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	ff := addFilterFlags(fs)
	limit := fs.Int("limit", query.DefaultLimit, "results per page")
	after := fs.String("after", "", "cursor of the next page (printed after a full page)")
	format := fs.String("format", "table", "output: table, json (one object per line), csv, or xlsx / arrow "+
		"(these two write every match, streamed; --limit and --after do not apply)")
	out := fs.String("out", "", "write to this file instead of stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return usageError("--tenant is required")
	}
	if err := checkFormat(*format, "table", "json", "csv", "xlsx", "arrow"); err != nil {
		return err
	}
	if *format == "xlsx" || *format == "arrow" {
		return exportAll(ctx, e, lf, *tenant, ff, *format, *out)
	}
	if *limit < 1 || *limit > query.MaxLimit {
		return usageError("--limit: between 1 and %d", query.MaxLimit)
	}
	f, err := ff.filter()
	if err != nil {
		return err
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Search(ctx, *tenant, f, query.Page{Limit: *limit, After: *after})
	if err != nil {
		return queryError(err)
	}
	w, closeOut, err := output(e, *out)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		err = writeJSONLines(w, res.Rows)
	case "csv":
		rows := make([][]any, len(res.Rows))
		for i := range res.Rows {
			rows[i] = res.Rows[i].Values()
		}
		err = writeCSV(w, query.Columns, rows)
	default:
		err = writeTable(w, tableHeader, tableRows(res.Rows))
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if res.Next != "" {
		fmt.Fprintf(e.stderr, "more results: --after %s\n", res.Next)
	}
	return nil
}

var tableHeader = []string{"STARTED", "INQUIRY", "MEDIA", "QUEUE", "AGENT", "CUSTOMER", "WAIT", "TALK",
	"REC", "CHAT", "SCORE"}

func tableRows(rs []query.Inquiry) [][]any {
	rows := make([][]any, len(rs))
	for i, r := range rs {
		var who []string
		for _, p := range []*string{r.CallerNumber, r.ChatterName, r.ChatterEmail, r.ChatterNumber, r.FromAddress} {
			if p != nil && *p != "" {
				who = append(who, *p)
			}
		}
		if r.Anonymised {
			who = append(who, "(anonymised)")
		}
		rows[i] = []any{r.StartedAt, r.InquiryID, r.MediaType, r.Queue, r.AgentName, strings.Join(who, " "),
			r.WaitSeconds, r.TalkSeconds, yesNo(r.HasRecording), yesNo(r.HasChatlog), r.SurveyScore}
	}
	return rows
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}

func runShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags("show", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	inquiry := fs.String("inquiry", "", "inquiry id (required)")
	format := fs.String("format", "text", "output: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *inquiry == "" {
		return usageError("--tenant and --inquiry are required")
	}
	if err := checkFormat(*format, "text", "json"); err != nil {
		return err
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	d, err := eng.Show(ctx, *tenant, *inquiry)
	if err != nil {
		return queryError(err)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	var rows [][]any
	for i, v := range d.Values() {
		rows = append(rows, []any{query.Columns[i], v})
	}
	for _, r := range d.Recordings {
		avail := "available"
		if !r.Available {
			avail = "gone"
		}
		rows = append(rows, []any{"recording", fmt.Sprintf("%s %s %d bytes %s", r.RecordingID, r.ContentType,
			r.SizeBytes, avail)})
	}
	return writeTable(e.stdout, []string{"FIELD", "VALUE"}, rows)
}
