package schema

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
)

// Header is one Kafka record header, independent of any Kafka client.
type Header struct {
	Key   string
	Value []byte
}

// Recording header names (CONTRACT.md, arkiv.recordings).
const (
	HeaderSchemaVersion    = "schema-version"
	HeaderTenantID         = "tenant-id"
	HeaderInquiryID        = "inquiry-id"
	HeaderRecordingID      = "recording-id"
	HeaderInquiryStartedAt = "inquiry-started-at"
	HeaderDenyRecording    = "deny-recording"
	HeaderContentType      = "content-type"
	HeaderChunk            = "chunk"
	HeaderLastChunk        = "last-chunk"
	HeaderSHA256           = "sha256"
)

// MaxChunks bounds how many chunks one recording may have.
const MaxChunks = 1 << 16

// ContentTypeMP3 is the only recording content type the contract allows.
const ContentTypeMP3 = "audio/mpeg"

func headerValue(headers []Header, key string) (string, bool) {
	for _, h := range headers {
		if strings.EqualFold(h.Key, key) {
			return string(h.Value), true
		}
	}
	return "", false
}

// DecodeRecordingChunk reads one arkiv.recordings message: metadata from the
// headers, the audio bytes from the value. The returned chunk's Data aliases
// value.
func DecodeRecordingChunk(headers []Header, value []byte) (*RecordingChunk, error) {
	get := func(k string) string { v, _ := headerValue(headers, k); return v }
	if err := checkRepeatedHeaders(headers); err != nil {
		return nil, err
	}
	if v := get(HeaderSchemaVersion); v == "" {
		return nil, invalid(ReasonMissingField, HeaderSchemaVersion, "header is required")
	} else if v != strconv.Itoa(Version) {
		return nil, invalid(ReasonUnsupportedVersion, HeaderSchemaVersion, "this arkiv accepts schema-version 1")
	}
	c := &RecordingChunk{
		TenantID:    get(HeaderTenantID),
		InquiryID:   get(HeaderInquiryID),
		RecordingID: get(HeaderRecordingID),
		ContentType: get(HeaderContentType),
		Data:        value,
	}
	if err := firstError(
		checkTenant(HeaderTenantID, c.TenantID),
		checkID(HeaderInquiryID, c.InquiryID),
		checkID(HeaderRecordingID, c.RecordingID),
	); err != nil {
		return nil, err
	}
	if err := decodeChunkConsent(c, get(HeaderDenyRecording)); err != nil {
		return nil, err
	}
	if c.DenyRecording {
		return c, nil // discarded unseen: nothing else about it matters
	}
	if err := decodeChunkMetadata(c, get); err != nil {
		return nil, err
	}
	return c, nil
}

// checkRepeatedHeaders rejects a contract header that appears more than once
// with different values (header names match case-insensitively): taking one
// of them, deny-recording above all, would be a guess.
func checkRepeatedHeaders(headers []Header) error {
	for _, name := range []string{HeaderSchemaVersion, HeaderTenantID, HeaderInquiryID,
		HeaderRecordingID, HeaderInquiryStartedAt, HeaderDenyRecording, HeaderContentType,
		HeaderChunk, HeaderLastChunk, HeaderSHA256} {
		var first []byte
		seen := false
		for _, h := range headers {
			if !strings.EqualFold(h.Key, name) {
				continue
			}
			if seen && !bytes.Equal(h.Value, first) {
				return invalid(ReasonInvalidValue, name, "header appears more than once with different values")
			}
			first, seen = h.Value, true
		}
	}
	return nil
}

func decodeChunkConsent(c *RecordingChunk, deny string) error {
	switch deny {
	case "true":
		c.DenyRecording = true
	case "false":
	case "":
		return invalid(ReasonMissingConsent, HeaderDenyRecording, "header is required (true or false)")
	default:
		return invalid(ReasonInvalidValue, HeaderDenyRecording, "must be true or false")
	}
	return nil
}

func decodeChunkMetadata(c *RecordingChunk, get func(string) string) error {
	started, ok := parseTimestamp(get(HeaderInquiryStartedAt))
	if !ok {
		return invalid(ReasonInvalidValue, HeaderInquiryStartedAt, "must be RFC 3339 with a zone")
	}
	if err := checkTime(HeaderInquiryStartedAt, started); err != nil {
		return err
	}
	c.InquiryStartedAt = started.UTC()
	if c.ContentType != ContentTypeMP3 {
		return invalid(ReasonInvalidValue, HeaderContentType, "must be audio/mpeg")
	}
	n, err := strconv.Atoi(get(HeaderChunk))
	if err != nil || n < 0 || n >= MaxChunks || strconv.Itoa(n) != get(HeaderChunk) {
		return invalid(ReasonInvalidValue, HeaderChunk, "must be a chunk number from 0")
	}
	c.Chunk = n
	switch get(HeaderLastChunk) {
	case "true":
		c.LastChunk = true
	case "false", "":
	default:
		return invalid(ReasonInvalidValue, HeaderLastChunk, "must be true or false")
	}
	if sum := strings.ToLower(get(HeaderSHA256)); sum != "" {
		if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
			return invalid(ReasonInvalidValue, HeaderSHA256, "must be 64 hex digits")
		}
		c.SHA256 = sum
	}
	return nil
}
