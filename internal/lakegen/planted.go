package lakegen

import (
	"slices"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Person is a planted person of one tenant: who to look up, and what a
// correct archive holds of them.
type Person struct {
	Tenant string `json:"tenant"`
	// Number is the person's phone number as stored (E.164); Typed is the
	// same number as people type it ("072-000 00 01").
	Number string `json:"number"`
	Typed  string `json:"number_typed"`
	// Email is the address in lower case (stored in varying case).
	Email string `json:"email"`
	Name  string `json:"name"`
	// ByNumber and ByEmail are how many of the inquiries a search by the
	// number, and by the address, finds.
	ByNumber  int              `json:"by_number"`
	ByEmail   int              `json:"by_email"`
	Inquiries []PlantedInquiry `json:"inquiries"`
	// HeldIn lists (lake-relative, sorted) the Parquet files that hold a row
	// with the person's identifiers: inquiries, chat logs and surveys.
	HeldIn []string `json:"held_in"`
}

// PlantedInquiry is one inquiry of a planted person.
type PlantedInquiry struct {
	ID        string    `json:"inquiry_id"`
	Day       string    `json:"day"`
	StartedAt time.Time `json:"started_at"`
	Media     string    `json:"media_type"`
	Recording bool      `json:"recording"`
	Chatlog   bool      `json:"chatlog"`
	Survey    bool      `json:"survey"`
	files     []string
}

// plantedInquiry makes the k-th inquiry of the tenant's planted person.
func (g *dayGen) plantedInquiry(k int, id string, at time.Time) {
	kind := plantedPattern[k]
	row := g.base(id, at, profileOf(kind.media))
	n := g.t.index
	email := withCase(PlantedEmail(n), kind.emailCase)
	before := g.mark()
	pi := PlantedInquiry{ID: id, Day: g.dayStr, StartedAt: at, Media: kind.media}
	switch kind.media {
	case schema.MediaPhone:
		forced, deny := kind.recorded, false
		row.CallerNumber, row.RecordingForced, row.DenyRecording = ptr(PlantedNumber(n)), &forced, &deny
		row.IVRInputs = g.ivr(forced, false)
		if kind.recorded {
			g.recording(&row, "rec-1")
		}
		if kind.survey {
			g.survey(&row, schema.SurveySMS, row.CallerNumber, nil)
		}
	case schema.MediaChat:
		consent := true
		row.ChatterName, row.ChatterEmail = ptr(PlantedName), &email
		row.ChatterNumber, row.ChatStoreConsent = ptr(PlantedNumber(n)), &consent
		g.chatlog(&row, "Malin")
		if kind.survey {
			g.survey(&row, schema.SurveyChat, nil, row.ChatterEmail)
		}
	default:
		row.FromAddress = &email
		g.mail(&row)
	}
	g.addInquiry(row)
	after := g.mark()
	pi.Recording = after.recordings > before.recordings
	pi.Chatlog = after.chatlogs > before.chatlogs
	pi.Survey = after.surveys > before.surveys
	file := func(ds string) string {
		return sinks.PartitionDir(ds, g.t.id, g.dayStr) + "/" + g.flushIDs[g.flush] + sinks.ParquetSuffix
	}
	pi.files = append(pi.files, file(schema.DatasetInquiries))
	if pi.Chatlog {
		pi.files = append(pi.files, file(schema.DatasetChatlogs))
	}
	if pi.Survey {
		pi.files = append(pi.files, file(schema.DatasetSurveys))
	}
	g.out.planted = append(g.out.planted, pi)
}

// people assembles the planted people from their inquiries.
func people(p *lakePlan, planted map[string][]PlantedInquiry) []Person {
	var out []Person
	for _, t := range p.tenants {
		inq := planted[t.id]
		if len(inq) == 0 {
			continue
		}
		slices.SortFunc(inq, func(a, b PlantedInquiry) int { return a.StartedAt.Compare(b.StartedAt) })
		ps := Person{Tenant: t.id, Number: PlantedNumber(t.index), Typed: typed(PlantedNumber(t.index)),
			Email: PlantedEmail(t.index), Name: PlantedName, Inquiries: inq}
		for _, pi := range inq {
			switch pi.Media {
			case schema.MediaPhone:
				ps.ByNumber++
			case schema.MediaChat:
				ps.ByNumber++
				ps.ByEmail++
			default:
				ps.ByEmail++
			}
			for _, f := range pi.files {
				if !slices.Contains(ps.HeldIn, f) {
					ps.HeldIn = append(ps.HeldIn, f)
				}
			}
		}
		slices.Sort(ps.HeldIn)
		out = append(out, ps)
	}
	return out
}

// typed writes +467xxxxxxxx as Swedes type it: 07x-xxx xx xx.
func typed(e164 string) string {
	n := "0" + e164[3:] // 07xxxxxxxx
	return n[:3] + "-" + n[3:6] + " " + n[6:8] + " " + n[8:]
}
