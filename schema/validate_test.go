package schema

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The byte loops of ValidTenantID and ValidID replaced tenantPattern and
// idPattern (the JSON Schema's patterns, which the contract test holds to
// the schema files): they must accept exactly what the patterns match.

// idCheckerCases are edge cases of both patterns and random strings over
// their alphabets and their neighbours.
func idCheckerCases() []string {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "az09AZ_-.:/ é\x00\n\xff`{@[~"
	cases := []string{"", "a", "-a", "_a", "A", "t01", "t-01_x", "a:b", "a.b", "é", "a\n", "\na", "a\x00",
		"\u212a", "K", "\xff", "a\xc3", strings.Repeat("a", 63), strings.Repeat("a", 64), "0" + strings.Repeat("-", 62),
		strings.Repeat("A", 128), strings.Repeat("A", 129), strings.Repeat("é", 40)}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(140) {
			if r.IntN(4) == 0 {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			} else {
				b.WriteByte("abcxyz0189-_ABZ.:"[r.IntN(17)])
			}
		}
		cases = append(cases, b.String())
	}
	return cases
}

// checkIDCheckers fails unless both checkers agree with their patterns on s.
func checkIDCheckers(t *testing.T, s string) {
	t.Helper()
	if got, want := ValidTenantID(s), tenantPattern.MatchString(s); got != want {
		t.Errorf("ValidTenantID(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := ValidID(s), idPattern.MatchString(s); got != want {
		t.Errorf("ValidID(%q) = %v, the pattern says %v", s, got, want)
	}
}

// TestIDCheckersMatchPatterns: ValidTenantID and ValidID accept exactly
// what tenantPattern and idPattern match.
func TestIDCheckersMatchPatterns(t *testing.T) {
	for _, s := range idCheckerCases() {
		checkIDCheckers(t, s)
	}
}

// FuzzIDCheckers holds the checkers to the patterns on any string. Seeds:
// the edge cases, and every string of the contract examples and of the
// decoders' fuzz corpora (keys, values, headers and whole inputs).
func FuzzIDCheckers(f *testing.F) {
	for _, s := range idCheckerCases()[:200] {
		f.Add(s)
	}
	for _, s := range seedStrings(f) {
		f.Add(s)
	}
	f.Fuzz(checkIDCheckers)
}

// seedStrings are the strings of the contract examples and the committed
// fuzz corpora: each input whole and every JSON string in it.
func seedStrings(f *testing.F) []string {
	var inputs []string
	examples, _ := filepath.Glob(filepath.Join(contractDir, "*", "*", "*.json"))
	for _, file := range examples {
		inputs = append(inputs, string(mustRead(f, file)))
	}
	corpus, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
	for _, file := range corpus {
		inputs = append(inputs, corpusValues(f, file)...)
	}
	if len(examples) == 0 || len(corpus) == 0 {
		f.Fatal("no contract examples or fuzz corpus found")
	}
	out := inputs
	for _, in := range inputs {
		out = append(out, jsonStrings([]byte(in))...)
	}
	return out
}

// corpusValues reads the string and []byte values of a corpus file
// ("go test fuzz v1", then one Go literal a line).
func corpusValues(f *testing.F, file string) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(mustRead(f, file)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, prefix := range []string{"string(", "[]byte("} {
			if lit, ok := strings.CutPrefix(line, prefix); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(lit, ")")); err == nil {
					out = append(out, s)
				}
			}
		}
	}
	return out
}
