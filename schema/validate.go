package schema

import (
	"math"
	"regexp"
	"time"
	"unicode/utf8"
)

// Limits of the contract that are not spelled out field by field.
const (
	MaxStringLen      = 1024     // any plain or identifier string field
	MaxChatTextLen    = 64 << 10 // one chat message
	MaxChatMessages   = 20000    // one chat log
	MaxIVRInputs      = 256      // one inquiry
	MaxDurationSecond = 365 * 86400.0
	MaxSurveyScore    = 10
)

var (
	// These are compiled once and never written: constants in all but name.
	// tenantPattern and idPattern are the JSON Schema's patterns (the
	// contract test compares them); ValidTenantID and ValidID implement
	// them as byte loops, and validate_test.go holds the two to each other.
	tenantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	// timestampPattern is the shape of an RFC 3339 timestamp with a zone,
	// as the JSON Schema files spell it too.
	timestampPattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
)

// ValidTenantID reports whether s may be a tenant id. Tenant ids become
// directory names, so every boundary checks them with this function.
// It matches tenantPattern (a loop: ingest checks every record's ids, and
// the regular expression cost several percent of its CPU).
func ValidTenantID(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isLowerOrDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerOrDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ValidID reports whether s may be an inquiry, recording or survey id. It
// matches idPattern.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLowerOrDigit(c) && (c < 'A' || c > 'Z') && c != '.' && c != '_' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

func isLowerOrDigit(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

// earliest and latest bound every timestamp: anything outside is a unit or
// clock error upstream, not a real inquiry.
var (
	earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func checkVersion(v int) error {
	if v == 0 {
		return invalid(ReasonMissingField, "schema_version", "is required")
	}
	if v != Version {
		return invalid(ReasonUnsupportedVersion, "schema_version", "this arkiv accepts schema_version 1")
	}
	return nil
}

func checkTenant(field, s string) error {
	if s == "" {
		return invalid(ReasonMissingField, field, "is required")
	}
	if !ValidTenantID(s) {
		return invalid(ReasonInvalidTenant, field, "must match ^[a-z0-9][a-z0-9_-]{0,62}$")
	}
	return nil
}

func checkID(field, s string) error {
	if s == "" {
		return invalid(ReasonMissingField, field, "is required")
	}
	if !ValidID(s) {
		return invalid(ReasonInvalidID, field, "must be 1-128 characters of [A-Za-z0-9._:-]")
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return invalid(ReasonMissingField, field, "is required (RFC 3339 with a zone)")
	}
	if t.Before(earliest) || !t.Before(latest) {
		return invalid(ReasonOutOfRange, field, "must be between 2000-01-01 and 2200-01-01")
	}
	return nil
}

func checkOptionalTime(field string, t *time.Time) error {
	if t == nil {
		return nil
	}
	return checkTime(field, *t)
}

func checkString(field, s string, limit int) error {
	if len(s) > limit {
		return invalid(ReasonTooLarge, field, "is longer than the contract allows")
	}
	if !utf8.ValidString(s) {
		return invalid(ReasonInvalidValue, field, "is not valid UTF-8")
	}
	return nil
}

func checkOptionalString(field string, s *string) error {
	if s == nil {
		return nil
	}
	return checkString(field, *s, MaxStringLen)
}

func checkDuration(field string, v *float64) error {
	if v == nil {
		return nil
	}
	if math.IsNaN(*v) || *v < 0 || *v > MaxDurationSecond {
		return invalid(ReasonOutOfRange, field, "must be a number of seconds from 0 to one year")
	}
	return nil
}

func checkOneOf(field, s string, allowed ...string) error {
	if s == "" {
		return invalid(ReasonMissingField, field, "is required")
	}
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return invalid(ReasonInvalidValue, field, "is not one of the contract's values")
}

// firstError returns the first non-nil error, so validation reads as a list
// of rules.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
