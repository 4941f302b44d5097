package lakegen

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/arkiv-project/arkiv/sinks"
)

// tenantPlan is how many inquiries one tenant gets on each day, and where
// its planted person's inquiries go.
type tenantPlan struct {
	id      string
	index   int // 1-based: t0001 is 1
	total   int
	people  int   // size of the tenant's pool of customers
	perDay  []int // ordinary inquiries per day
	planted []int // day of each planted inquiry (by its place in the pattern)
	// First day (index) that keeps recordings and chat logs.
	recFrom, chatFrom int
}

// lakePlan is the whole lake's allocation.
type lakePlan struct {
	days    []time.Time // UTC midnights, oldest first
	tenants []tenantPlan
}

// TenantID is the id of the n-th tenant (1-based).
func TenantID(n int) string { return fmt.Sprintf("t%04d", n) }

func newPlan(o Options) *lakePlan {
	last := time.Date(o.Now.Year(), o.Now.Month(), o.Now.Day(), 0, 0, 0, 0, time.UTC)
	p := &lakePlan{}
	dayWeights := make([]float64, o.Days)
	for i := range o.Days {
		d := last.AddDate(0, 0, i-(o.Days-1))
		p.days = append(p.days, d)
		dayWeights[i] = weekdayWeight(d.Weekday())
	}
	tenantWeights := make([]float64, o.Tenants)
	for i := range tenantWeights {
		tenantWeights[i] = 1 / math.Sqrt(float64(i+1))
	}
	for i, total := range largestRemainder(o.Inquiries, tenantWeights) {
		tp := tenantPlan{id: TenantID(i + 1), index: i + 1, total: total, people: max(total/3, 10)}
		for k := range min(PlantedInquiries, total) {
			tp.planted = append(tp.planted, plantedDay(k, o.Days))
		}
		tp.perDay = largestRemainder(total-len(tp.planted), dayWeights)
		pol := o.Config.Policy(tp.id)
		tp.recFrom, tp.chatFrom = 0, 0
		if !o.AllContent {
			tp.recFrom = contentFrom(p.days, o.Now, min(int(pol.Recordings), int(pol.General)))
			tp.chatFrom = contentFrom(p.days, o.Now, min(int(pol.Chatlogs), int(pol.General)))
		}
		p.tenants = append(p.tenants, tp)
	}
	return p
}

// contentFrom is the index of the first day that content kept `days` days
// still has at now: the class then holds exactly `days` days (today
// included), so that an expiry two days later drops exactly one of them.
func contentFrom(days []time.Time, now time.Time, keep int) int {
	first := sinks.Cutoff(now, keep).AddDate(0, 0, 1)
	i, _ := slices.BinarySearchFunc(days, first, func(d, t time.Time) int { return d.Compare(t) })
	return i
}

// plantedDay spreads the planted inquiries from the first day to the last.
func plantedDay(k, days int) int {
	if days == 1 {
		return 0
	}
	return int(math.Round(float64(k) * float64(days-1) / float64(PlantedInquiries-1)))
}

func weekdayWeight(d time.Weekday) float64 {
	switch d {
	case time.Saturday:
		return 0.45
	case time.Sunday:
		return 0.35
	}
	return 1
}

// largestRemainder splits total into integer shares proportional to
// weights that add up to total exactly (ties go to the lower index).
func largestRemainder(total int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	out := make([]int, len(weights))
	rem := make([]float64, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		out[i] = int(exact)
		rem[i] = exact - float64(out[i])
		given += out[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for i := 0; given < total; i = (i + 1) % len(order) {
		out[order[i]]++
		given++
	}
	return out
}
