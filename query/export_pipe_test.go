package query

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/lakegen"
)

// aheadLake is a generated lake with many more rows than testAhead holds.
func aheadLake(t *testing.T) (*Engine, Filter) {
	t.Helper()
	dir := t.TempDir()
	now := time.Now().UTC()
	if _, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: 2000,
		Tenants: 1, Days: 8, Seed: 5, Now: now}); err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.chunkBytes = 20 << 10 // several chunks
	return e, Filter{From: now.AddDate(0, 0, -10)}
}

// TestEachAheadIsEachInquiry: eachAhead hands over EachInquiry's rows, in
// order.
func TestEachAheadIsEachInquiry(t *testing.T) {
	e, f := aheadLake(t)
	testAhead := ahead{rows: 7, batches: 3} // far less than the rows
	want := exportRows(t, e, "t0001", f)
	if len(want) <= 10*testAhead.rows*testAhead.batches {
		t.Fatalf("%d rows: fewer than the read-ahead holds", len(want))
	}
	i := 0
	n, err := eachAhead(context.Background(), e, "t0001", f, testAhead, func(r *Inquiry) error {
		if i < len(want) && !reflect.DeepEqual(*r, want[i]) {
			t.Errorf("row %d: %+v, want %+v", i, *r, want[i])
		}
		i++
		return nil
	})
	if err != nil || n != len(want) || i != len(want) {
		t.Errorf("%d rows (%d calls), %v; want %d", n, i, err, len(want))
	}
}

// TestEachAheadStops: fn's error ends the reading too and is returned as
// is; so is the caller's cancellation.
func TestEachAheadStops(t *testing.T) {
	e, f := aheadLake(t)
	testAhead := ahead{rows: 7, batches: 3}
	stop := errors.New("stop")
	calls := 0
	n, err := eachAhead(context.Background(), e, "t0001", f, testAhead, func(*Inquiry) error {
		if calls++; calls == 5*testAhead.rows+3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 5*testAhead.rows+2 || calls != 5*testAhead.rows+3 {
		t.Errorf("fn error: %d rows, %d calls, %v", n, calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	_, err = eachAhead(ctx, e, "t0001", f, testAhead, func(*Inquiry) error {
		if calls++; calls == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v after %d rows", err, calls)
	}
}

// xlsxValuesOf is XLSXValues as Inquiry.Values defines it: the reference
// that xlsxCells, which lists the columns itself, must match.
func xlsxValuesOf(r *Inquiry) []any {
	vals := r.Values()
	for i, v := range vals {
		switch x := v.(type) {
		case time.Time:
			vals[i] = FormatTime(x)
		default:
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
				vals[i] = nil
				if !rv.IsNil() {
					vals[i] = rv.Elem().Interface()
				}
				if t, ok := vals[i].(time.Time); ok {
					vals[i] = FormatTime(t)
				}
			}
		}
	}
	return vals
}

// TestXLSXCellsFollowValues: every column in Values' order and type, for a
// row with every field set and one with none.
func TestXLSXCellsFollowValues(t *testing.T) {
	full := benchRows(1)[0]
	full.ChatterName, full.ChatterEmail, full.ChatterNumber = sp("n"), sp("e"), sp("+46")
	full.FromAddress, full.Subject, full.ItemURL, full.SurveyScore = sp("f"), sp("s"), sp("u"), ip(3)
	full.Anonymised, full.HasChatlog = true, true
	for _, r := range []Inquiry{full, {StartedAt: time.Unix(0, 1000).UTC()}} {
		want := xlsxValuesOf(&r)
		if len(want) != len(Columns) {
			t.Fatalf("Values has %d columns, Columns %d", len(want), len(Columns))
		}
		if got := XLSXValues(&r); !reflect.DeepEqual(got, want) {
			t.Errorf("cells %#v\nwant  %#v", got, want)
		}
	}
}
