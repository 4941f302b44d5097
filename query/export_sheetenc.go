package query

// Cell text and numbers as excelize (v2.11) writes them. formatCellFloat
// and bstrMarshal are excelize's (formatCellFloat, bstrMarshal in cell.go
// and lib.go), copied: excelize does not export them. Copyright (c)
// 2016-2026 The excelize Authors, BSD 3-Clause License.

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendEscaped appends s as xml.EscapeText writes it, except that a new
// line stays a new line (excelize turns "&#xA;" back into one).
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"':
				b = append(b, "&#34;"...)
			case c == '\'':
				b = append(b, "&#39;"...)
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '\t':
				b = append(b, "&#x9;"...)
			case c == '\r':
				b = append(b, "&#xD;"...)
			case c == '\n' || c >= 0x20:
				b = append(b, c)
			default: // not an XML character
				b = append(b, "\uFFFD"...)
			}
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 || !xmlChar(r) { // xmlChar: chatxml.go
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+w]...)
		}
		i += w
	}
	return b
}

// truncateUTF16 cuts s after max UTF-16 units (a rune beyond 0xFFFF takes
// two), as excelize cuts cell text.
func truncateUTF16(s string, max int) string {
	n := 0
	for i, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		if n > max {
			return s[:i]
		}
	}
	return s
}

var (
	bstrExp       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapeExp = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// bstrMarshal escapes what reads as an escaped character (_xHHHH_).
func bstrMarshal(s string) (result string) {
	matches, l, cursor := bstrExp.FindAllStringSubmatchIndex(s, -1), len(s), 0
	for _, match := range matches {
		result += s[cursor:match[0]]
		subStr := s[match[0]:match[1]]
		if subStr == "_x005F_" {
			cursor = match[1]
			if match[1]+6 <= l && bstrEscapeExp.MatchString(s[match[1]:match[1]+6]) {
				_, err := strconv.Unquote(`"\u` + s[match[1]+1:match[1]+5] + `"`)
				if err == nil {
					result += subStr + "x005F" + subStr
					continue
				}
			}
			result += subStr + "x005F_"
			continue
		}
		if bstrExp.MatchString(subStr) {
			cursor = match[1]
			if _, err := strconv.Unquote(`"\u` + s[match[0]+2:match[1]-1] + `"`); err == nil {
				result += "_x005F" + subStr
				continue
			}
		}
	}
	if cursor < l {
		result += s[cursor:]
	}
	return result
}

// formatCellFloat formats a number as excelize's SetRow does: as many
// decimals as it takes, cut (not rounded) to Excel's 15 significant
// digits.
func formatCellFloat(value float64) string {
	str := strconv.FormatFloat(value, 'f', -1, 64)
	if math.Abs(value) == math.MaxFloat64 {
		return str
	}
	const maxPrec = 15
	decimal := strings.IndexByte(str, '.')
	significant := 0
	for idx := range str {
		if str[idx] < '0' || str[idx] > '9' || significant == 0 && str[idx] == '0' {
			continue
		}
		significant++
		if significant <= maxPrec {
			continue
		}
		if decimal >= 0 && idx > decimal {
			return strings.TrimSuffix(str[:idx], ".")
		}
		if decimal < 0 {
			decimal = len(str)
		}
		truncated := []byte(str[:decimal])
		for ; idx < len(truncated); idx++ {
			truncated[idx] = '0'
		}
		return string(truncated)
	}
	return str
}
