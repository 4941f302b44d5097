package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/arkiv-project/arkiv/query"
)

// exportAll writes every match of the filters as xlsx or an Arrow IPC
// stream (arkiv search --format xlsx|arrow).
func exportAll(ctx context.Context, e *env, lf lakeFlags, tenant string, ff *filterFlags, format, out string) error {
	if out == "" && isTerminal(e.stdout) {
		return usageError("refusing to write %s to a terminal: use --out FILE or a pipe", format)
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
	export := eng.ExportXLSX
	if format == "arrow" {
		export = eng.ExportArrow
	}
	n, err := writeOutput(e, out, func(w io.Writer) (int, error) { return export(ctx, tenant, f, w) })
	if err != nil {
		return queryError(err)
	}
	if out != "" {
		fmt.Fprintf(e.stderr, "wrote %d inquiries to %s\n", n, out)
	}
	return nil
}

// writeOutput runs write into --out (complete or not at all) or stdout.
func writeOutput(e *env, out string, write func(w io.Writer) (int, error)) (int, error) {
	p := startProgress(e, "writing")
	defer p.end()
	if out == "" || out == "-" {
		return write(p.writer(e.stdout))
	}
	af, err := createAtomic(out)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(p.writer(af), 1<<20)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		af.abort()
		return n, err
	}
	return n, af.commit()
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags("export", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	ff := addFilterFlags(fs)
	af := addActorFlags(fs)
	xlsx := fs.String("xlsx", "", "write the general information of every match to this xlsx file")
	zipOut := fs.String("recordings-zip", "", "write the recordings of every match to this zip file (audited per inquiry)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return usageError("--tenant is required")
	}
	if (*xlsx == "") == (*zipOut == "") {
		return usageError("give exactly one of --xlsx FILE and --recordings-zip FILE")
	}
	acc, err := af.access(query.ActionDownloadRecording)
	if err != nil {
		return err
	}
	if *xlsx != "" {
		return exportAll(ctx, e, lf, *tenant, ff, "xlsx", *xlsx)
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
	var rep *query.ZipReport
	_, err = writeOutput(e, *zipOut, func(w io.Writer) (int, error) {
		var err error
		rep, err = eng.ExportRecordingsZip(ctx, *tenant, acc, query.Selection{Filter: f}, w)
		return 0, err
	})
	if err != nil {
		return queryError(err)
	}
	fmt.Fprintf(e.stderr, "wrote %d recordings of %d inquiries to %s (request id %s in the audit log)\n",
		rep.Recordings, rep.Inquiries, *zipOut, acc.RequestID)
	return nil
}

func runDelete(ctx context.Context, e *env, args []string) error {
	fs := newFlags("delete", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	what := fs.String("what", "", "content to delete: recording, chatlog or both (required)")
	var ids stringList
	fs.Var(&ids, "inquiry", "inquiry id; repeat (or comma-separate) for several; or select with the search filters")
	ff := addFilterFlagsNoInquiry(fs)
	af := addActorFlags(fs)
	yes := fs.Bool("yes", false, "do not ask for confirmation (required when stdin is not a terminal)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return usageError("--tenant is required")
	}
	kind, err := query.ParseContentKind(*what)
	if err != nil {
		return queryError(err)
	}
	if len(ids) > 0 && ff.anySet() {
		return usageError("give either --inquiry ids or search filters, not both")
	}
	if len(ids) == 0 && !ff.anySet() {
		return usageError("select the inquiries: --inquiry ID or search filters (refusing to delete a whole tenant's content)")
	}
	acc, err := af.access(query.ActionDeleteRecording)
	if err != nil {
		return err
	}
	if acc.RequestID == "" {
		acc.RequestID = query.NewRequestID()
	}
	if !*yes && !isTerminalReader(e.stdin) {
		return usageError("stdin is not a terminal: pass --yes to delete without confirmation")
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	if len(ids) == 0 {
		if ids, err = selectIDs(ctx, eng, *tenant, ff, kind); err != nil {
			return queryError(err)
		}
		if len(ids) == 0 {
			fmt.Fprintln(e.stderr, "no inquiry matches: nothing deleted")
			return nil
		}
	}
	if !*yes && !confirm(e, fmt.Sprintf("Delete the %s of %d inquiries of tenant %s? This cannot be undone. Type yes: ",
		*what, len(ids), *tenant)) {
		return fmt.Errorf("not confirmed: nothing deleted")
	}
	rep, err := withProgress(e, "deleting", func() (*query.DeleteReport, error) {
		return eng.DeleteContent(ctx, *tenant, acc, ids, kind)
	})
	if err != nil {
		return queryError(err)
	}
	fmt.Fprintf(e.stderr, "deleted: %d recordings, %d chat logs (%d files rewritten) of %d inquiries (request id %s)\n",
		rep.MediaObjects, rep.ChatlogsRemoved, rep.ChatlogFiles, rep.Inquiries, acc.RequestID)
	return nil
}

// selectIDs lists the inquiries the filters match that have the content to
// delete.
func selectIDs(ctx context.Context, eng *query.Engine, tenant string, ff *filterFlags, kind query.ContentKind) ([]string, error) {
	f, err := ff.filter()
	if err != nil {
		return nil, err
	}
	yes := true
	switch kind {
	case query.ContentRecording:
		if f.HasRecording == nil {
			f.HasRecording = &yes
		}
	case query.ContentChatlog:
		if f.HasChatlog == nil {
			f.HasChatlog = &yes
		}
	}
	var ids []string
	err = eng.EachInquiry(ctx, tenant, f, func(r *query.Inquiry) error {
		ids = append(ids, r.InquiryID)
		return nil
	})
	return ids, err
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// confirm asks on stderr and reads one line from stdin.
func confirm(e *env, prompt string) bool {
	fmt.Fprint(e.stderr, prompt)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(line), "yes")
}
