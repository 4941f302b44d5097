// Package synth holds what the synthetic generators (internal/loadgen,
// which produces into Kafka, and internal/lakegen, which writes a lake
// straight) share: the names, domains and subjects they draw from and the
// small helpers that shape them. The lists are read-only.
package synth

import (
	"strings"
	"unicode"
)

// Capitalise upper-cases the first letter of every part of an e-mail
// address (after '.', '@' and '_'), as some people type them.
func Capitalise(s string) string {
	b := []rune(s)
	up := true
	for i, r := range b {
		if up {
			b[i] = unicode.ToUpper(r)
		}
		up = r == '.' || r == '@' || r == '_'
	}
	return string(b)
}

// ASCII lower-cases a name and drops its diacritics, as e-mail local parts
// usually do.
func ASCII(s string) string {
	return strings.Map(func(r rune) rune {
		switch r = unicode.ToLower(r); r {
		case 'å', 'ä', 'á', 'à':
			return 'a'
		case 'ö', 'ø', 'ó':
			return 'o'
		case 'é', 'è':
			return 'e'
		case 'ü':
			return 'u'
		case ' ', '-':
			return -1
		}
		return r
	}, s)
}

// Mix is splitmix64's finaliser: a cheap, well-spread hash of x.
func Mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// FirstNames are Swedish and other first names, with å, ä and ö.
var FirstNames = []string{
	"Åsa", "Björn", "Märta", "Göran", "Örjan", "Håkan", "Linnéa", "Anna", "Lisa",
	"Erik", "Karin", "Lars", "Maria", "Johan", "Sofia", "Jörgen", "Ingrid", "Mikael",
	"Elin", "Per", "Kerstin", "Anders", "Maja", "Oskar", "Ebba", "Nils", "Sören",
	"Agneta", "Åke", "Ulla", "Hanna", "Mats", "Zlatan", "Amira", "Ahmed", "Fatima",
}

// LastNames are surnames.
var LastNames = []string{
	"Ström", "Åberg", "Söderberg", "Lindqvist", "Öberg", "Nyström", "Bäckström",
	"Johansson", "Andersson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Ek",
	"Holmström", "Sjöberg", "Wallén", "Berg", "Lundgren", "Hägg", "Björk", "Dahl",
	"Engström", "Forsberg", "Hedlund", "Åkesson", "Sandström", "Ali", "Yilmaz",
}

// Domains are e-mail domains.
var Domains = []string{
	"gmail.com", "hotmail.se", "telia.com", "outlook.com", "bredband.net",
	"foretaget.se", "icloud.com", "live.se",
}

// Subjects are e-mail subjects.
var Subjects = []string{
	"Fråga om faktura", "Ändra adress", "Återbetalning", "Reklamation av vara",
	"Uppsägning av abonnemang", "Leveransen har inte kommit", "Byte av betalningsdag",
	"Fel belopp på räkningen", "Kontakta mig angående min order", "Klagomål på bemötande",
}

// AgentGreetings are lines of the synthetic chats and e-mails.
var AgentGreetings = []string{
	"Hej %s, vad gäller det?", "Hej %s! Hur kan jag hjälpa dig?", "Välkommen %s, vad kan jag göra för dig?",
}

// ChatterLines are lines of the synthetic chats and e-mails.
var ChatterLines = []string{
	"Min faktura verkar vara fel.", "Paketet har inte kommit än.",
	"Kan jag ändra leveransadressen?", "Jag vill säga upp mitt abonnemang.",
	"Det står att betalningen misslyckades.", "Okej, tack!", "Hur lång tid tar det?",
	"Jag har redan provat att starta om.", "Perfekt, då förstår jag.",
}

// AgentLines are lines of the synthetic chats and e-mails.
var AgentLines = []string{
	"Jag ska kolla det åt dig, ett ögonblick.", "Tack, jag ser ärendet nu.",
	"Det ska vara åtgärdat inom två arbetsdagar.", "Jag har skickat en bekräftelse till din e-post.",
	"Kan du bekräfta ditt namn?", "Jag förstår, det är beklagligt.", "Då är det ordnat!",
}

// Comments are lines of the synthetic chats and e-mails.
var Comments = []string{
	"Snabb hjälp, tack!", "Lång väntetid men trevligt bemötande.", "Fick inget svar på min fråga.",
	"Mycket bra service 😊", "Agenten var kunnig och vänlig.", "För lång kö.",
	"Bäst i stan!", "Problemet är inte löst.",
}
