package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// withTimeout bounds a request that does not stream.
func withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), requestTimeout)
}

// withCtx keeps why a request's context ended in its error: the query
// package redacts error texts and so drops their chain.
func withCtx(ctx context.Context, err error) error {
	if cerr := ctx.Err(); err != nil && cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// streaming lifts the server's write deadline for a response that streams
// content of any size; the client's pace bounds it instead.
func streaming(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
}

// SearchResponse is the body of GET /api/v1/search.
type SearchResponse struct {
	Results    []query.Inquiry `json:"results"`
	NextCursor string          `json:"next_cursor"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, err := params(r, append(slices.Clone(filterParams), "limit", "cursor")...)
	if err != nil {
		return err
	}
	f, err := filterFromQuery(v)
	if err != nil {
		return err
	}
	limit := query.DefaultLimit
	if l := v.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > MaxSearchLimit {
			return badParam("limit: want a number from 1 to " + strconv.Itoa(MaxSearchLimit))
		}
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	res, err := s.eng.Search(ctx, p.tenant, f, query.Page{Limit: limit, After: v.Get("cursor")})
	if errors.Is(err, query.ErrUnknownTenant) {
		res, err = &query.Result{}, nil // a tenant without data has no results
	}
	if err != nil {
		return withCtx(ctx, err)
	}
	out := SearchResponse{Results: res.Rows, NextCursor: res.Next}
	if out.Results == nil {
		out.Results = []query.Inquiry{}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) show(w http.ResponseWriter, r *http.Request, p *principal) error {
	if _, err := params(r); err != nil {
		return err
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	d, err := s.eng.Show(ctx, p.tenant, r.PathValue("id"))
	if err != nil {
		return withCtx(ctx, err)
	}
	if d.Recordings == nil {
		d.Recordings = []query.RecordingInfo{}
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) recording(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, err := params(r, "recording_id", "download")
	if err != nil {
		return err
	}
	action := query.ActionPlayRecording
	download, err := parseBool("download", v.Get("download"))
	if err != nil {
		return err
	}
	if download != nil && *download {
		action = query.ActionDownloadRecording
	}
	id, recID := r.PathValue("id"), v.Get("recording_id")
	if !schema.ValidID(id) || (recID != "" && !schema.ValidID(recID)) {
		return errNotFound
	}
	// A Range header is checked before the audit entry is written: a
	// request that cannot be served is not an access.
	if err := checkRange(r.Header.Get("Range")); err != nil {
		return err
	}
	m, err := s.eng.Recording(r.Context(), p.tenant, id, recID, p.access(r, action))
	if err != nil {
		return err
	}
	defer m.Close()
	streaming(w)
	h := w.Header()
	h.Set("Content-Type", "audio/mpeg")
	disp := "inline"
	if action == query.ActionDownloadRecording {
		disp = "attachment"
	}
	h.Set("Content-Disposition", disp+`; filename="`+id+"-"+m.RecordingID+`.mp3"`)
	// The recording's content hash is its ETag: If-Range works across
	// the many requests of a player.
	if m.SHA256 != "" {
		h.Set("ETag", `"`+m.SHA256+`"`)
	}
	http.ServeContent(w, r, "", time.Time{}, m)
	return nil
}

// maxRanges bounds the ranges of one request (a player asks for one).
const maxRanges = 8

// checkRange refuses a Range header that is not "bytes=" and up to
// maxRanges well-formed specs; satisfiability is http.ServeContent's.
func checkRange(h string) error {
	if h == "" {
		return nil
	}
	bad := errorf(http.StatusRequestedRangeNotSatisfiable, CodeRangeNotSatisfiable,
		"the Range header is malformed; send one like bytes=0-1023")
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || len(h) > 256 {
		return bad
	}
	parts := strings.Split(spec, ",")
	if len(parts) > maxRanges {
		return bad
	}
	for _, part := range parts {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok || (a == "" && b == "") || !digits(a) || !digits(b) {
			return bad
		}
		if a != "" && b != "" {
			x, err1 := strconv.ParseInt(a, 10, 64)
			y, err2 := strconv.ParseInt(b, 10, 64)
			if err1 != nil || err2 != nil || y < x {
				return bad
			}
		} else if _, err := strconv.ParseInt(a+b, 10, 64); err != nil {
			return bad
		}
	}
	return nil
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) <= 18
}

func (s *Server) chatlog(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, err := params(r, "format")
	if err != nil {
		return err
	}
	format := v.Get("format")
	var action query.Action
	switch format {
	case "", "json":
		action = query.ActionViewChatlog
	case "xml":
		action = query.ActionDownloadChatlog
	case "text":
		action = query.ActionCopyChatlog
	default:
		return badParam("format: want xml, text or json")
	}
	id := r.PathValue("id")
	if !schema.ValidID(id) {
		return errNotFound
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	log, err := s.eng.ChatLog(ctx, p.tenant, id, p.access(r, action))
	if err != nil {
		return withCtx(ctx, err)
	}
	switch format {
	case "xml":
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="chatlog-`+id+`.xml"`)
		return log.WriteXML(w)
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		return log.WriteText(w)
	}
	return writeJSON(w, http.StatusOK, log)
}

func (s *Server) exportXLSX(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body selectionBody
	if err := decodeBody(w, r, &body, true); err != nil {
		return err
	}
	sel, err := body.selection()
	if err != nil {
		return err
	}
	streaming(w)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="inquiries.xlsx"`)
	if len(sel.InquiryIDs) == 0 {
		_, err = s.eng.ExportXLSX(r.Context(), p.tenant, sel.Filter, w)
	} else {
		err = s.xlsxOfIDs(r.Context(), w, p.tenant, sel.InquiryIDs)
	}
	return err
}

// xlsxOfIDs writes the general information of the given inquiries (those
// of the tenant within its retention; others are left out) as xlsx, in
// the layout of query.Engine.ExportXLSX.
func (s *Server) xlsxOfIDs(ctx context.Context, w http.ResponseWriter, tenant string, ids []string) error {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	book := excelize.NewFile()
	defer book.Close()
	if err := book.SetSheetName("Sheet1", "inquiries"); err != nil {
		return err
	}
	sw, err := book.NewStreamWriter("inquiries")
	if err != nil {
		return err
	}
	header := make([]any, len(query.Columns))
	for i, c := range query.Columns {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := 1
	err = s.eng.EachInquiry(ctx, tenant, query.Filter{}, func(q *query.Inquiry) error {
		if !want[q.InquiryID] {
			return nil
		}
		row++
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, query.XLSXValues(q))
	})
	if errors.Is(err, query.ErrUnknownTenant) {
		err = nil
	}
	if err == nil {
		err = sw.Flush()
	}
	if err == nil {
		_, err = book.WriteTo(w)
	}
	return err
}

func (s *Server) exportRecordings(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body selectionBody
	if err := decodeBody(w, r, &body, true); err != nil {
		return err
	}
	sel, err := body.selection()
	if err != nil {
		return err
	}
	streaming(w)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="recordings.zip"`)
	// The zip writer writes nothing before the first recording, which is
	// after its audit entry: an error before that is answered as JSON.
	_, err = s.eng.ExportRecordingsZip(r.Context(), p.tenant, p.access(r, query.ActionDownloadRecording), sel, w)
	if err != nil {
		return err
	}
	if rec, ok := w.(*recorder); ok && !rec.wrote {
		// Nothing matched: an empty zip, still a valid one.
		w.WriteHeader(http.StatusOK)
	}
	return nil
}

// DeleteRequest is the body of POST /api/v1/content/delete.
type DeleteRequest struct {
	InquiryIDs []string `json:"inquiry_ids"`
	What       string   `json:"what"`
}

func (s *Server) deleteContent(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body DeleteRequest
	if err := decodeBody(w, r, &body, false); err != nil {
		return err
	}
	if err := checkIDs(body.InquiryIDs); err != nil {
		return err
	}
	if body.What != "recording" && body.What != "chatlog" && body.What != "both" {
		return badParam("what: want recording, chatlog or both")
	}
	what, err := query.ParseContentKind(body.What)
	if err != nil {
		return err
	}
	// A delete runs to its end even if the client goes away: it is
	// audited before it starts and must not stop half-way.
	ctx := context.WithoutCancel(r.Context())
	rep, err := s.eng.DeleteContent(ctx, p.tenant, p.access(r, ""), body.InquiryIDs, what)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// AnonymiseRequest is the body of POST /api/v1/anonymise.
type AnonymiseRequest struct {
	Numbers       []string `json:"numbers"`
	Emails        []string `json:"emails"`
	DeleteContent bool     `json:"delete_content"`
	// DryRun reports what would be anonymised and changes nothing.
	DryRun bool `json:"dry_run"`
}

func (s *Server) anonymiseHandler(w http.ResponseWriter, r *http.Request, p *principal) error {
	var body AnonymiseRequest
	if err := decodeBody(w, r, &body, false); err != nil {
		return err
	}
	if len(body.Numbers)+len(body.Emails) == 0 {
		return badParam("give at least one phone number or e-mail address")
	}
	if len(body.Numbers)+len(body.Emails) > 100 {
		return badParam("at most 100 numbers and addresses per request")
	}
	for _, s := range append(slices.Clone(body.Numbers), body.Emails...) {
		if strings.TrimSpace(s) == "" || len(s) > 320 {
			return badParam("numbers and emails: each a non-empty value of at most 320 bytes")
		}
	}
	// Like a delete, it runs to its end once started.
	receipt, err := s.eng.Anonymise(context.WithoutCancel(r.Context()), p.tenant, p.access(r, query.ActionAnonymise),
		query.Person{Numbers: body.Numbers, Emails: body.Emails},
		query.AnonymiseOptions{DeleteContent: body.DeleteContent, DryRun: body.DryRun})
	if errors.Is(err, query.ErrUnknownTenant) {
		err = nil
		receipt = &query.Receipt{Tenant: p.tenant, DryRun: body.DryRun, DeleteContent: body.DeleteContent}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, receipt)
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request, p *principal) error {
	v, err := params(r, "inquiry", "actor", "from", "to")
	if err != nil {
		return err
	}
	var f query.AuditFilter
	f.InquiryID, f.Actor = v.Get("inquiry"), v.Get("actor")
	if f.From, err = parseTime("from", v.Get("from")); err != nil {
		return err
	}
	if f.To, err = parseTime("to", v.Get("to")); err != nil {
		return err
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	rows, err := s.eng.Audit(ctx, p.tenant, f)
	if errors.Is(err, query.ErrUnknownTenant) {
		rows, err = nil, nil
	}
	if err != nil {
		return withCtx(ctx, err)
	}
	if rows == nil {
		rows = []schema.AuditRow{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": rows})
}

// RetentionPreview is the body of GET /api/v1/retention/preview.
type RetentionPreview struct {
	Tenant  string           `json:"tenant"`
	Now     time.Time        `json:"now"`
	Today   string           `json:"today"`
	Classes []RetentionClass `json:"classes"`
}

// RetentionClass is what expiry would drop of one class of content.
type RetentionClass struct {
	Class         string   `json:"class"`
	RetentionDays int      `json:"retention_days"`
	OldestKept    string   `json:"oldest_kept"`
	Days          []string `json:"days"`
	Partitions    int      `json:"partitions"`
	Files         int      `json:"files"`
	Bytes         int64    `json:"bytes"`
}

func (s *Server) retentionPreview(w http.ResponseWriter, r *http.Request, p *principal) error {
	if _, err := params(r); err != nil {
		return err
	}
	plan, err := sinks.PlanExpiryFS(sinks.DirFS{Root: s.eng.Dir()}, s.now(), s.cfg.Policy)
	if err != nil {
		return err
	}
	out := RetentionPreview{Tenant: p.tenant, Now: plan.Now.UTC(), Today: plan.Today, Classes: []RetentionClass{}}
	for _, te := range plan.Tenants {
		if te.Tenant != p.tenant {
			continue
		}
		for _, ce := range te.Classes {
			rc := RetentionClass{Class: ce.Class, RetentionDays: ce.Days, OldestKept: ce.OldestKept, Days: []string{}}
			for _, part := range ce.Partitions {
				if n := len(rc.Days); n == 0 || rc.Days[n-1] != part.Day {
					rc.Days = append(rc.Days, part.Day)
				}
				rc.Partitions++
				rc.Files += part.Files
				rc.Bytes += part.Bytes
			}
			out.Classes = append(out.Classes, rc)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
