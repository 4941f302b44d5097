package sinks_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// BenchmarkEditParquet: anonymising a row in a hundred of a file of 3,000 inquiries
// (the size of a large tenant's day), by values (EditParquet) against the
// struct rewrite it replaced (every row read into a struct and written).
func BenchmarkEditParquet(b *testing.B) {
	path := os.Getenv("ARKIV_EDIT_FILE")
	if path == "" {
		path = writeLakeFile(b, schema.DatasetInquiries, mixedInquiries(3000, 1, false))
	}
	pick := func(r *schema.InquiryRow) bool { return strings.HasSuffix(r.InquiryID, "05") }
	b.Run("values", func(b *testing.B) {
		for b.Loop() {
			ed, err := sinks.EditParquet(path, schema.DatasetInquiries, "f", sinks.RowEdit[schema.InquiryRow]{
				Columns: []string{"inquiry_id"}, Edit: anonymise[schema.InquiryRow],
				Match: func(v []parquet.Value) bool { return strings.HasSuffix(str(v[0]), "05") }})
			if err != nil || ed.Data == nil {
				b.Fatal(err, ed.Matched)
			}
		}
	})
	b.Run("structs", func(b *testing.B) {
		for b.Loop() {
			rows, err := parquet.ReadFile[schema.InquiryRow](path)
			if err != nil {
				b.Fatal(err)
			}
			for i := range rows {
				if pick(&rows[i]) {
					sinks.AnonymiseRow(&rows[i], false)
				}
			}
			sinks.SortInquiries(rows)
			var buf bytes.Buffer
			if err := sinks.WriteParquet(&buf, schema.DatasetInquiries, "f", rows); err != nil {
				b.Fatal(err)
			}
		}
	})
}
