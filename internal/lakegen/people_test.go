package lakegen

import (
	"github.com/arkiv-project/arkiv/internal/synth"

	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestPlantedNumbersAreUniqueAndNeverDrawn(t *testing.T) {
	seen := map[string]int{}
	for n := 1; n <= 9999; n++ {
		num := PlantedNumber(n)
		if m, ok := seen[num]; ok {
			t.Fatalf("tenants %d and %d share the planted number %s", m, n, num)
		}
		seen[num] = n
		if !strings.HasSuffix(num, "424") || len(num) != 12 {
			t.Fatalf("planted number %s is not +467xxxxxxxx ending in 424", num)
		}
	}
	for _, n := range []int{1, 2, 50, 100, 9999} {
		pn, err := phonenumbers.Parse(PlantedNumber(n), "SE")
		if err != nil || !phonenumbers.IsValidNumber(pn) || phonenumbers.GetNumberType(pn) != phonenumbers.MOBILE {
			t.Errorf("planted number %s is not a valid Swedish mobile number (%v)", PlantedNumber(n), err)
		}
		if got := typed(PlantedNumber(n)); strings.ReplaceAll(strings.ReplaceAll(got, "-", ""), " ", "") != "0"+PlantedNumber(n)[3:] {
			t.Errorf("typed %s = %q", PlantedNumber(n), got)
		}
	}
	prefixes := map[string]bool{}
	for h := range uint64(200_000) {
		num := poolNumber(synth.Mix(h))
		if _, planted := seen[num]; planted || strings.HasSuffix(num, "424") {
			t.Fatalf("the pool drew a reserved number %s", num)
		}
		prefixes[num[:5]] = true
	}
	if len(prefixes) != len(mobilePrefixes) {
		t.Errorf("pool numbers use prefixes %v, want all of %v", prefixes, mobilePrefixes)
	}
}
