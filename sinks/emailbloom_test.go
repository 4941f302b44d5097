package sinks

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/bloom"

	"github.com/arkiv-project/arkiv/schema"
)

// footerEmailBloom writes rows as a file of dataset and returns its footer's
// MetaEmailBloom value.
func footerEmailBloom[T any](t *testing.T, dataset string, rows []T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteParquet(&buf, dataset, "f1", rows); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := f.Lookup(MetaEmailBloom)
	if !ok {
		t.Fatal("no e-mail filter in the footer")
	}
	return v
}

// TestEmailBloom: the footer filter holds every address in lower case;
// a file with a non-ASCII address says so instead; junk decodes to "rules
// nothing out".
func TestEmailBloom(t *testing.T) {
	addr := func(s string) *string { return &s }
	rows := []schema.InquiryRow{{InquiryID: "a", ChatterEmail: addr("Anna.Berg@Example.SE")},
		{InquiryID: "b", FromAddress: addr("BO@x.se")}, {InquiryID: "c"}}
	filter, ok := DecodeEmailBloom(footerEmailBloom(t, schema.DatasetInquiries, rows))
	if !ok {
		t.Fatal("an ASCII file's filter does not decode")
	}
	check := func(a string) bool {
		key, ok := EmailBloomKey(a)
		return ok && filter.Check(bloom.XXH64{}.Sum64(key))
	}
	for _, a := range []string{"anna.berg@example.se", "ANNA.BERG@EXAMPLE.SE", "bo@X.SE"} {
		if !check(a) {
			t.Errorf("%s: not in the filter", a)
		}
	}
	missed := 0
	for _, a := range []string{"anna@example.se", "berg@example.se", "bo@x.com", "x@x.se", "y@y.se"} {
		if !check(a) {
			missed++
		}
	}
	if missed == 0 {
		t.Error("the filter holds every address tried: it rules nothing out")
	}
	rows = append(rows, schema.InquiryRow{InquiryID: "d", FromAddress: addr("\u212Aalle@x.se")})
	if v := footerEmailBloom(t, schema.DatasetInquiries, rows); v != EmailBloomNonASCII {
		t.Errorf("a file with a non-ASCII address: footer says %.20q, want %q", v, EmailBloomNonASCII)
	}
	surveys := []schema.SurveyRow{{InquiryID: "a", RespondentEmail: addr("Sven@X.se")}, {InquiryID: "b"}}
	if f, ok := DecodeEmailBloom(footerEmailBloom(t, schema.DatasetSurveys, surveys)); !ok ||
		!f.Check(bloom.XXH64{}.Sum64([]byte("sven@x.se"))) {
		t.Error("a survey file's filter does not hold its respondent's address in lower case")
	}
	if _, ok := EmailBloomKey("åsa@x.se"); ok {
		t.Error("a non-ASCII address got a key")
	}
	for _, junk := range []string{"", EmailBloomNonASCII, "!!!", "AAAA"} {
		if _, ok := DecodeEmailBloom(junk); ok {
			t.Errorf("%q decodes to a filter", junk)
		}
	}
}
