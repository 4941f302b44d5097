package schema

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestIDCheckersMatchPatterns: ValidTenantID and ValidID accept exactly
// what tenantPattern and idPattern (the JSON Schema's patterns) match.
func TestIDCheckersMatchPatterns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := "az09AZ_-.:/ é\x00\n"
	cases := []string{"", "a", "-a", "_a", "A", "t01", "t-01_x", "a:b", "a.b", "é", "a\n",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("A", 128), strings.Repeat("A", 129)}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(140) {
			if r.IntN(4) == 0 {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			} else {
				b.WriteByte("abcxyz0189-_ABZ"[r.IntN(15)])
			}
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := ValidTenantID(s), tenantPattern.MatchString(s); got != want {
			t.Errorf("ValidTenantID(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := ValidID(s), idPattern.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}
