package lakegen

import (
	"github.com/arkiv-project/arkiv/internal/synth"

	"fmt"
	"strings"
)

// customer is a person of a tenant's pool, derived from the seed, the
// tenant and the place in the pool (so it costs no memory).
type customer struct {
	first, last string
	number      string // a Swedish mobile number, E.164
	email       string // lower case
	handle      string
}

func (g *dayGen) customer() customer {
	u := g.rng.Float64()
	k := int(float64(g.t.people) * u * u) // low places come back far more often
	h := synth.Mix(g.seed ^ uint64(g.t.index)<<40 ^ uint64(k))
	h2 := synth.Mix(h)
	c := customer{
		first:  synth.FirstNames[h%uint64(len(synth.FirstNames))],
		last:   synth.LastNames[(h>>16)%uint64(len(synth.LastNames))],
		number: poolNumber(h >> 32),
	}
	first, last := synth.ASCII(c.first), synth.ASCII(c.last)
	domain := synth.Domains[h2%uint64(len(synth.Domains))]
	switch (h2 >> 8) % 4 {
	case 0:
		c.email = first + "." + last + "@" + domain
	case 1:
		c.email = fmt.Sprintf("%s%s%02d@%s", first, last, (h2>>16)%100, domain)
	case 2:
		c.email = first[:1] + "." + last + "@" + domain
	default:
		c.email = first + "_" + last + "@" + domain
	}
	c.handle = fmt.Sprintf("%s_%s%d", first, last, (h2>>24)%100)
	return c
}

// agent is one of a tenant's 30 agents.
type agent struct{ id, name string }

func (g *dayGen) agent() agent {
	k := g.rng.IntN(30)
	h := synth.Mix(g.seed ^ 0xa6e47 ^ uint64(g.t.index)<<40 ^ uint64(k))
	return agent{id: fmt.Sprintf("a-%03d", k+1),
		name: synth.FirstNames[h%uint64(len(synth.FirstNames))] + " " + synth.LastNames[(h>>16)%uint64(len(synth.LastNames))]}
}

// mobilePrefixes are the Swedish mobile prefixes (07x) numbers are drawn
// from.
var mobilePrefixes = [...]int{0, 2, 3, 6, 9}

// reservedTail marks the numbers kept for planted people: a number whose
// last three digits are 424 is never drawn for anyone else.
const reservedTail = 424

// poolNumber is a customer's number, drawn from every mobile prefix.
func poolNumber(h uint64) string {
	prefix := mobilePrefixes[h%uint64(len(mobilePrefixes))]
	rest := (h / 8) % 10_000_000
	if rest%1000 == reservedTail {
		rest++
	}
	return fmt.Sprintf("+467%d%07d", prefix, rest)
}

// PlantedNumber is the phone number (E.164) of tenant n's planted person
// (n up to 9999). It looks like anyone's number and lies anywhere in the
// range of numbers, so that no file's statistics single it out, but it is
// never drawn for anyone else.
func PlantedNumber(n int) string {
	prefix := mobilePrefixes[n%len(mobilePrefixes)]
	lead := (n / len(mobilePrefixes) * 7919) % 10_000 // a bijection on 0..9999
	return fmt.Sprintf("+467%d%04d%03d", prefix, lead, reservedTail)
}

// PlantedEmail is the e-mail address (lower case) of tenant n's planted
// person.
func PlantedEmail(n int) string { return fmt.Sprintf("malin.malsson.%s@planted.example", TenantID(n)) }

// PlantedName is the planted people's name (as chatters give it).
const PlantedName = "Malin Målsson"

// plantedKind is what one planted inquiry is.
type plantedKind struct {
	media     string
	recorded  bool // calls: a forced, accepted recording
	survey    bool
	emailCase int // 0 lower, 1 capitalised, 2 upper
}

// plantedPattern: 9 calls, 6 chats, 5 e-mails, 7 surveys; the last ones
// (most recent) include a recorded call and chats, so that content within
// its retention belongs to the person too.
var plantedPattern = [PlantedInquiries]plantedKind{
	{media: "phone", recorded: true, survey: true},
	{media: "chat", survey: true, emailCase: 1},
	{media: "email"},
	{media: "phone"},
	{media: "phone", recorded: true},
	{media: "chat", emailCase: 2},
	{media: "email", emailCase: 1},
	{media: "phone", survey: true},
	{media: "email", emailCase: 2},
	{media: "phone", recorded: true},
	{media: "chat", survey: true},
	{media: "email"},
	{media: "phone"},
	{media: "phone", recorded: true, survey: true},
	{media: "email", emailCase: 1},
	{media: "phone"},
	{media: "chat", emailCase: 1},
	{media: "chat"},
	{media: "phone", recorded: true, survey: true},
	{media: "chat", survey: true, emailCase: 2},
}

func withCase(email string, c int) string {
	switch c {
	case 1:
		return synth.Capitalise(email)
	case 2:
		return strings.ToUpper(email)
	}
	return email
}

// mixCase sends 20% of addresses as people type them: capitalised parts
// or all upper case.
func (g *dayGen) mixCase(email string) string {
	if !g.chance(0.20) {
		return email
	}
	if g.chance(0.3) {
		return strings.ToUpper(email)
	}
	return synth.Capitalise(email)
}

// The word lists below are read-only.

var chatterOpenings = []string{
	"Hej!", "Hej, jag har en fråga.", "Hallå?", "Hej, behöver hjälp med min order", "God morgon!",
}
