package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NumberVariants returns the stored forms a typed phone number may have:
// the E.164 form first (what the contract asks upstream to send), then the
// national, 00-international and bare-country-code digit strings, and the
// typed digits themselves, for records upstream sent in another shape.
// "070-111 22 33", "0701112233", "+46 70 111 22 33" and "0046701112233" in
// region SE all give +46701112233 first.
func NumberVariants(typed, region string) ([]string, error) {
	typed = strings.TrimSpace(typed)
	var digits strings.Builder
	for i, r := range typed {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
			digits.WriteRune(r)
		case strings.ContainsRune(" -()./\u00a0", r):
		default:
			return nil, fmt.Errorf("%w: %q is not a phone number", ErrBadRequest, typed)
		}
	}
	raw := digits.String()
	if len(strings.TrimPrefix(raw, "+")) < 3 || len(raw) > 20 {
		return nil, fmt.Errorf("%w: %q is not a phone number", ErrBadRequest, typed)
	}
	var out []string
	add := func(s string) {
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	if pn, err := phonenumbers.Parse(raw, region); err == nil {
		cc := strconv.Itoa(int(pn.GetCountryCode()))
		nsn := phonenumbers.GetNationalSignificantNumber(pn)
		add(phonenumbers.Format(pn, phonenumbers.E164))
		national := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, phonenumbers.Format(pn, phonenumbers.NATIONAL))
		if national != "" {
			add(national)
		}
		add("00" + cc + nsn)
		add(cc + nsn)
	}
	add(raw)
	return out, nil
}
