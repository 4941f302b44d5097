package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/arkiv-project/arkiv/query"
)

// Error codes: stable, part of the API (openapi.json lists them).
const (
	CodeUnauthenticated        = "unauthenticated"
	CodeForbidden              = "forbidden"
	CodeSupportContextRequired = "support_context_required"
	CodeWrongTenant            = "wrong_tenant"
	CodeBadRequest             = "bad_request"
	CodeInvalidParameter       = "invalid_parameter"
	CodeUnknownParameter       = "unknown_parameter"
	CodeBadPath                = "bad_path"
	CodeNotFound               = "not_found"
	CodeMethodNotAllowed       = "method_not_allowed"
	CodeBodyTooLarge           = "body_too_large"
	CodeUnsupportedMediaType   = "unsupported_media_type"
	CodeRangeNotSatisfiable    = "range_not_satisfiable"
	CodeAuditUnavailable       = "audit_unavailable"
	CodeNotImplemented         = "not_implemented"
	CodeTimeout                = "timeout"
	CodeInternal               = "internal"
	// CodeCanceled: the client went away (or the server is shutting
	// down) before the answer; nobody reads it. Not in openapi.json.
	CodeCanceled = "canceled"
)

// StatusClientClosed is the status logged and counted for a request whose
// client went away first (nginx's 499); it is never received.
const StatusClientClosed = 499

// apiError is an error with its HTTP status and stable code. Its message
// is shown to the client and must say what to do; it is never logged
// (it may echo what the client typed).
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

func badParam(message string) *apiError {
	return errorf(http.StatusBadRequest, CodeInvalidParameter, message)
}

// notFoundMessage is the one body of every 404 about an inquiry: an id of
// another tenant answers exactly like an id that does not exist.
const notFoundMessage = "no inquiry with this id, or it has no such content; check the id (search finds it)"

var errNotFound = errorf(http.StatusNotFound, CodeNotFound, notFoundMessage)

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// classify turns any error into the API error the client sees.
func classify(err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the request body is too large; select fewer inquiries per request")
	case errors.Is(err, query.ErrNotFound), errors.Is(err, query.ErrUnknownTenant):
		return errNotFound
	case errors.Is(err, query.ErrInvalidTenant):
		return errorf(http.StatusBadRequest, CodeSupportContextRequired, "X-Arkiv-Tenant is not a tenant id")
	case errors.Is(err, query.ErrBadRequest):
		msg := strings.TrimPrefix(err.Error(), query.ErrBadRequest.Error()+": ")
		return errorf(http.StatusBadRequest, CodeBadRequest, msg)
	case errors.Is(err, query.ErrAuditUnavailable):
		return errorf(http.StatusServiceUnavailable, CodeAuditUnavailable,
			"the audit log cannot be written, so content is refused; try again later or ask the operator to check the lake's disk")
	case errors.Is(err, context.Canceled):
		return errorf(StatusClientClosed, CodeCanceled, "the request was canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, CodeTimeout, "the request took too long; narrow the search (a shorter time range)")
	}
	return errorf(http.StatusInternalServerError, CodeInternal,
		"internal error; give the operator the X-Request-Id of this response")
}

// writeError writes the error as JSON, replacing any headers a handler set
// for the body it meant to send.
func writeError(w http.ResponseWriter, ae *apiError) {
	h := w.Header()
	h.Del("Content-Disposition")
	h.Del("Content-Length")
	h.Del("Content-Range")
	h.Del("Accept-Ranges")
	h.Set("Content-Type", "application/json; charset=utf-8")
	if ae.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="arkiv"`)
	}
	w.WriteHeader(ae.status)
	var b errorBody
	b.Error.Code, b.Error.Message = ae.code, ae.message
	_ = json.NewEncoder(w).Encode(b)
}
