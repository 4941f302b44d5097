package sinks

import (
	"encoding/base64"
	"iter"
	"strings"

	"github.com/parquet-go/parquet-go/bloom"

	"github.com/arkiv-project/arkiv/schema"
)

// E-mail addresses are searched without regard to case, which the column
// bloom filters (over the stored bytes) cannot answer. Inquiry and survey
// files therefore carry, in their footer under MetaEmailBloom, a split-block
// bloom filter (xxHash64, as Parquet's) of their chatter_email and
// from_address (surveys: respondent_email) values in lower case, so a
// lookup can leave out the files that cannot hold the address.
//
// Lower case is only unambiguous for ASCII: Unicode case mapping can turn
// a non-ASCII letter into an ASCII one (the Kelvin sign lowers to "k").
// A file with any non-ASCII address says EmailBloomNonASCII instead of a
// filter, and readers keep it for every lookup.

// MetaEmailBloom is the footer key of the lower-case e-mail filter.
const MetaEmailBloom = "arkiv.email_bloom"

// EmailBloomNonASCII is MetaEmailBloom's value when the file holds an
// address that is not plain ASCII: no lookup can rule the file out.
const EmailBloomNonASCII = "non-ascii"

// emailBloomBitsPerValue sizes the filter: about 1% false positives.
const emailBloomBitsPerValue = 10

// EmailBloomKey is what the filter holds for an address, and what a lookup
// checks: the address in lower case. ok is false when the address is not
// plain ASCII.
func EmailBloomKey(addr string) (key []byte, ok bool) {
	for i := 0; i < len(addr); i++ {
		if addr[i] >= 0x80 {
			return nil, false
		}
	}
	return []byte(strings.ToLower(addr)), true
}

// emailBloomFor is the MetaEmailBloom value of a file's rows: of inquiry
// rows (chatter_email, from_address) and of survey rows (respondent_email);
// ok is false for the other datasets, whose files carry none.
func emailBloomFor(rows any) (value string, ok bool) {
	switch rows := rows.(type) {
	case []schema.InquiryRow:
		return emailBloomValue(func(yield func(*string) bool) {
			for i := range rows {
				if !yield(rows[i].ChatterEmail) || !yield(rows[i].FromAddress) {
					return
				}
			}
		}), true
	case []schema.SurveyRow:
		return emailBloomValue(func(yield func(*string) bool) {
			for i := range rows {
				if !yield(rows[i].RespondentEmail) {
					return
				}
			}
		}), true
	}
	return "", false
}

// emailBloomValue is the MetaEmailBloom value of addresses (nil ones are
// skipped).
func emailBloomValue(addrs iter.Seq[*string]) string {
	var keys [][]byte
	for addr := range addrs {
		if addr == nil {
			continue
		}
		key, ok := EmailBloomKey(*addr)
		if !ok {
			return EmailBloomNonASCII
		}
		keys = append(keys, key)
	}
	n := max(bloom.NumSplitBlocksOf(int64(len(keys)), emailBloomBitsPerValue), 1)
	filter := bloom.MakeSplitBlockFilter(make([]byte, n*bloom.BlockSize))
	for _, k := range keys {
		filter.Insert(bloom.XXH64{}.Sum64(k))
	}
	return base64.StdEncoding.EncodeToString(filter.Bytes())
}

// DecodeEmailBloom reads a MetaEmailBloom value. ok is false when the
// value rules nothing out (non-ASCII addresses, or not a filter).
func DecodeEmailBloom(value string) (filter bloom.SplitBlockFilter, ok bool) {
	if value == EmailBloomNonASCII {
		return nil, false
	}
	bits, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(bits) == 0 || len(bits)%bloom.BlockSize != 0 {
		return nil, false
	}
	return bloom.MakeSplitBlockFilter(bits), true
}
