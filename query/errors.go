package query

import (
	"fmt"
	"regexp"
)

// quoted finds double-quoted text in a DuckDB error message that is not a
// path: DuckDB quotes the offending value in some errors ("value ... is not
// valid UTF8"), and a value may be chat text or a phone number, which must
// never reach an error message or a log.
var quoted = regexp.MustCompile(`"[^"/][^"]*"`)

// dbError wraps an error of DuckDB with the operation, values redacted.
func dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s", op, quoted.ReplaceAllString(err.Error(), `"…"`))
}
