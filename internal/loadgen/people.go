package loadgen

import (
	"github.com/arkiv-project/arkiv/internal/synth"

	"fmt"
	"strings"
)

// person is a customer. People are not stored: each is derived from the
// seed, the tenant and its place in the tenant's pool, so the same person
// comes back with the same number and address without costing memory.
type person struct {
	first, last string
	number      string // +4670xxxxxxx
	email       string // lower case
	handle      string // social media handle
}

// person picks a customer of the tenant. Low places in the pool are picked
// far more often: some people call again and again.
func (g *Generator) person(t *tenant) person {
	u := g.rng.Float64()
	k := int(float64(t.people) * u * u)
	h := synth.Mix(g.seed ^ uint64(t.index)<<40 ^ uint64(k))
	h2 := synth.Mix(h)
	p := person{
		first:  synth.FirstNames[h%uint64(len(synth.FirstNames))],
		last:   synth.LastNames[(h>>16)%uint64(len(synth.LastNames))],
		number: fmt.Sprintf("+4670%07d", (h>>32)%10_000_000),
	}
	first, last := synth.ASCII(p.first), synth.ASCII(p.last)
	domain := synth.Domains[h2%uint64(len(synth.Domains))]
	switch (h2 >> 8) % 4 {
	case 0:
		p.email = first + "." + last + "@" + domain
	case 1:
		p.email = fmt.Sprintf("%s%s%02d@%s", first, last, (h2>>16)%100, domain)
	case 2:
		p.email = first[:1] + "." + last + "@" + domain
	default:
		p.email = first + "_" + last + "@" + domain
	}
	p.handle = fmt.Sprintf("%s_%s%d", first, last, (h2>>24)%100)
	return p
}

// agent is a contact-centre agent of a tenant: a pool of 30 per tenant.
type agent struct{ id, name string }

func (g *Generator) agent(t *tenant) agent {
	k := g.rng.IntN(30)
	h := synth.Mix(g.seed ^ 0xa6e47 ^ uint64(t.index)<<40 ^ uint64(k))
	return agent{
		id:   "a-" + pad(k+1, 3),
		name: synth.FirstNames[h%uint64(len(synth.FirstNames))] + " " + synth.LastNames[(h>>16)%uint64(len(synth.LastNames))],
	}
}

// mixCase sends some addresses as people type them: capitalised parts or
// all upper case. arkiv must still find them case-insensitively.
func (g *Generator) mixCase(email string) string {
	if !g.chance(shareMixedCase) {
		return email
	}
	if g.chance(0.3) {
		return strings.ToUpper(email)
	}
	return synth.Capitalise(email)
}

// The word lists below are read-only.

var bodies = []string{
	"Hej!\n\nJag har fått en faktura som jag inte känner igen. Kan ni förklara vad den gäller?",
	"Hej,\n\nmin leverans skulle ha kommit i tisdags men jag har fortfarande inte fått något.",
	"Hej\n\nJag vill säga upp mitt abonnemang från och med nästa månad.",
	"Hej!\n\nVi har flyttat och behöver ändra adressen på kontot. Ny adress: Storgatan 12, 114 55 Stockholm.",
	"Hej,\n\nbeloppet på senaste räkningen stämmer inte med avtalet. Jag bifogar kvittot.",
}

var socialPosts = []string{
	"Tredje gången jag försöker nå er kundtjänst, ingen svarar!",
	"Varför har mitt paket fastnat i Jönköping i en vecka?",
	"Tack till Anna i kundtjänsten som löste mitt problem på två minuter 👏",
	"Er app loggar ut mig hela tiden, går det att fixa?",
}

var chatterOpenings = []string{
	"Hej!", "Hej, jag har en fråga.", "Hallå?", "Hej, behöver hjälp med min order",
	"God morgon!",
}
