package server

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestCanceledIsNotInternal: the query package's errors lose their chain
// (their text is redacted), so a search cut by its client or its deadline
// is classified by its context: not as an internal error.
func TestCanceledIsNotInternal(t *testing.T) {
	redacted := errors.New("search: context canceled")
	ctx, cancel := context.WithCancel(t.Context())
	if ae := classify(withCtx(ctx, redacted)); ae.code != CodeInternal {
		t.Errorf("live context: %s", ae.code)
	}
	cancel()
	if ae := classify(withCtx(ctx, redacted)); ae.status != StatusClientClosed || ae.code != CodeCanceled {
		t.Errorf("canceled: %d %s", ae.status, ae.code)
	}
	dctx, dcancel := context.WithTimeout(t.Context(), -time.Second)
	defer dcancel()
	if ae := classify(withCtx(dctx, redacted)); ae.status != http.StatusServiceUnavailable || ae.code != CodeTimeout {
		t.Errorf("deadline: %d %s", ae.status, ae.code)
	}
	bad := badParam("limit: want a number")
	if ae := classify(withCtx(ctx, bad)); ae != bad {
		t.Errorf("an API error of a canceled request: %v", ae)
	}
	if withCtx(ctx, nil) != nil {
		t.Error("no error, an error")
	}
}
