package schema

import "fmt"

// Reason is the machine-readable code of why a record was not archived. It
// travels in the arkiv-reason header of the dead-letter topic and as a metric
// label, so the set is small and fixed.
type Reason string

// The reasons a record can be rejected.
const (
	ReasonMalformed          Reason = "malformed"
	ReasonUnsupportedVersion Reason = "unsupported_schema_version"
	ReasonMissingField       Reason = "missing_field"
	ReasonInvalidTenant      Reason = "invalid_tenant_id"
	ReasonInvalidID          Reason = "invalid_id"
	ReasonInvalidValue       Reason = "invalid_value"
	ReasonOutOfRange         Reason = "out_of_range"
	ReasonMissingConsent     Reason = "missing_consent"
	ReasonChecksumMismatch   Reason = "checksum_mismatch"
	ReasonIncomplete         Reason = "incomplete_recording"
	ReasonTooLarge           Reason = "too_large"
)

// Reasons lists every Reason, so that metrics can pre-create their series.
func Reasons() []Reason {
	return []Reason{ReasonMalformed, ReasonUnsupportedVersion, ReasonMissingField,
		ReasonInvalidTenant, ReasonInvalidID, ReasonInvalidValue, ReasonOutOfRange,
		ReasonMissingConsent, ReasonChecksumMismatch, ReasonIncomplete, ReasonTooLarge}
}

// InvalidError is returned for a record that breaks the contract. Its text
// names the field and the rule, never the offending value: values may be
// personal data or masked digits.
type InvalidError struct {
	Reason Reason
	Field  string // contract field or header name; empty for the whole record
	Detail string // human text without personal data
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", e.Reason, e.Field, e.Detail)
}

func invalid(reason Reason, field, detail string) *InvalidError {
	return &InvalidError{Reason: reason, Field: field, Detail: detail}
}
