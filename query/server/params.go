package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

// params checks a query string: only the allowed keys, each at most once,
// valid UTF-8 and at most MaxParamBytes long.
func params(r *http.Request, allowed ...string) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badParam("the query string is malformed; encode values with encodeURIComponent")
	}
	for k, vs := range v {
		if !slices.Contains(allowed, k) {
			return nil, errorf(http.StatusBadRequest, CodeUnknownParameter,
				"unknown parameter "+strconv.Quote(safeKey(k))+"; allowed: "+strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, badParam("parameter " + k + " is given more than once")
		}
		if len(vs[0]) > MaxParamBytes || !utf8.ValidString(vs[0]) || strings.ContainsRune(vs[0], 0) {
			return nil, badParam("parameter " + k + " is too long or not valid UTF-8 text")
		}
	}
	return v, nil
}

// safeKey shortens an unknown key for the message (it is the client's own
// text, echoed back, never logged).
func safeKey(k string) string {
	k = strings.ToValidUTF8(k, "?")
	if len(k) > 40 {
		k = k[:40]
	}
	return k
}

// parseTime reads an RFC 3339 time or a UTC date (YYYY-MM-DD).
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Year() >= 1970 && t.Year() < 3000 {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil && t.Year() >= 1970 && t.Year() < 3000 {
		return t, nil
	}
	return time.Time{}, badParam(name + ": want a date like 2026-11-28 or a time like 2026-11-28T14:03:00Z")
}

func parseBool(name, s string) (*bool, error) {
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, badParam(name + ": want true or false")
	}
	return &b, nil
}

func parseScore(name, s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 10 {
		return nil, badParam(name + ": want a survey score from 0 to 10")
	}
	return &n, nil
}

var mediaTypes = []string{schema.MediaPhone, schema.MediaChat, schema.MediaEmail, schema.MediaETask, schema.MediaSocial}

// filterParams are the search filters, as query parameters and as the keys
// of an export body.
var filterParams = []string{"number", "name", "email", "from", "to", "queue", "agent", "media",
	"has_recording", "has_chatlog", "min_score", "max_score", "session"}

// filterFields is the filter of a search or an export, as text.
type filterFields struct {
	Number, Name, Email, From, To, Queue, Agent, Media, Session string
	HasRecording, HasChatlog                                    *bool
	MinScore, MaxScore                                          *int
}

func (ff *filterFields) filter() (query.Filter, error) {
	var f query.Filter
	var err error
	if f.From, err = parseTime("from", ff.From); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", ff.To); err != nil {
		return f, err
	}
	if ff.Media != "" && !slices.Contains(mediaTypes, ff.Media) {
		return f, badParam("media: want one of " + strings.Join(mediaTypes, ", "))
	}
	for _, s := range []*int{ff.MinScore, ff.MaxScore} {
		if s != nil && (*s < 0 || *s > 10) {
			return f, badParam("min_score and max_score: want a survey score from 0 to 10")
		}
	}
	for _, s := range []string{ff.Number, ff.Name, ff.Email, ff.Queue, ff.Agent, ff.Session} {
		if len(s) > MaxParamBytes || strings.ContainsRune(s, 0) {
			return f, badParam("a filter value is too long; filters take at most 1024 bytes")
		}
	}
	f.Number, f.Name, f.Email, f.Queue, f.Agent = ff.Number, ff.Name, ff.Email, ff.Queue, ff.Agent
	f.Media, f.Session = ff.Media, ff.Session
	f.HasRecording, f.HasChatlog, f.MinScore, f.MaxScore = ff.HasRecording, ff.HasChatlog, ff.MinScore, ff.MaxScore
	return f, nil
}

func filterFromQuery(v url.Values) (query.Filter, error) {
	ff := filterFields{Number: v.Get("number"), Name: v.Get("name"), Email: v.Get("email"),
		From: v.Get("from"), To: v.Get("to"), Queue: v.Get("queue"), Agent: v.Get("agent"),
		Media: v.Get("media"), Session: v.Get("session")}
	var err error
	if ff.HasRecording, err = parseBool("has_recording", v.Get("has_recording")); err != nil {
		return query.Filter{}, err
	}
	if ff.HasChatlog, err = parseBool("has_chatlog", v.Get("has_chatlog")); err != nil {
		return query.Filter{}, err
	}
	if ff.MinScore, err = parseScore("min_score", v.Get("min_score")); err != nil {
		return query.Filter{}, err
	}
	if ff.MaxScore, err = parseScore("max_score", v.Get("max_score")); err != nil {
		return query.Filter{}, err
	}
	return ff.filter()
}

// selectionBody is the body of the exports: filters, or inquiry ids.
type selectionBody struct {
	InquiryIDs   []string `json:"inquiry_ids"`
	Number       string   `json:"number"`
	Name         string   `json:"name"`
	Email        string   `json:"email"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Queue        string   `json:"queue"`
	Agent        string   `json:"agent"`
	Media        string   `json:"media"`
	Session      string   `json:"session"`
	HasRecording *bool    `json:"has_recording"`
	HasChatlog   *bool    `json:"has_chatlog"`
	MinScore     *int     `json:"min_score"`
	MaxScore     *int     `json:"max_score"`
}

func (b *selectionBody) selection() (query.Selection, error) {
	ff := filterFields{Number: b.Number, Name: b.Name, Email: b.Email, From: b.From, To: b.To, Queue: b.Queue,
		Agent: b.Agent, Media: b.Media, Session: b.Session, HasRecording: b.HasRecording,
		HasChatlog: b.HasChatlog, MinScore: b.MinScore, MaxScore: b.MaxScore}
	f, err := ff.filter()
	if err != nil {
		return query.Selection{}, err
	}
	if b.InquiryIDs != nil {
		if ff != (filterFields{}) {
			return query.Selection{}, badParam("give either inquiry_ids or search filters, not both")
		}
		if err := checkIDs(b.InquiryIDs); err != nil {
			return query.Selection{}, err
		}
	}
	return query.Selection{Filter: f, InquiryIDs: b.InquiryIDs}, nil
}

func checkIDs(ids []string) error {
	switch {
	case len(ids) == 0:
		return badParam("inquiry_ids: give at least one inquiry id")
	case len(ids) > MaxInquiryIDs:
		return badParam("inquiry_ids: at most " + strconv.Itoa(MaxInquiryIDs) + " per request; split the selection")
	}
	for _, id := range ids {
		if !schema.ValidID(id) {
			// Not an id of this tenant: the same answer as an unknown id.
			return errNotFound
		}
	}
	return nil
}

// decodeBody reads a JSON body strictly: application/json, bounded, no
// unknown keys, one value.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.ContentLength != 0 || !allowEmpty {
		if err != nil || ct != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				"send the body as JSON with Content-Type: application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF) && allowEmpty:
			return nil
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body is not the JSON this endpoint takes: "+
			jsonProblem(err)+"; see /api/v1/openapi.json")
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing values.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return "key " + strconv.Quote(safeKey(te.Field)) + " has the wrong type"
	case errors.As(err, &se):
		return "malformed JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown key " + safeKey(strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return "malformed JSON"
}
