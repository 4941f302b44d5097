package loadgen

import (
	"sort"
	"time"
)

// hourWeights is the relative traffic of each UTC hour of the day: a
// Swedish contact centre is busy from 08 to 17 local time. Read-only.
var hourWeights = [24]float64{
	1, 1, 1, 1, 1, 2, 6, 10, 12, 12, 11, 10, 11, 11, 10, 8, 6, 4, 3, 3, 2, 2, 1, 1,
}

// maxSegments bounds the timeline's table (about three years of hours);
// longer spans are spread evenly instead.
const maxSegments = 3 * 366 * 24

// timeline maps a fraction of the traffic, from 0 to 1, to a time in
// [start, end) following the day curve: the inverse of the cumulative
// traffic. It is monotonic, so inquiries in order get times in order.
type timeline struct {
	start time.Time
	span  time.Duration
	at0   []time.Duration // offset of each segment's start; then span
	cum   []float64       // traffic before each segment; then the total
}

func newTimeline(start, end time.Time) *timeline {
	tl := &timeline{start: start, span: end.Sub(start)}
	if tl.span > maxSegments*time.Hour {
		tl.at0 = []time.Duration{0, tl.span}
		tl.cum = []float64{0, 1}
		return tl
	}
	total := 0.0
	for t := start; t.Before(end); {
		next := t.UTC().Truncate(time.Hour).Add(time.Hour)
		if next.After(end) {
			next = end
		}
		tl.at0 = append(tl.at0, t.Sub(start))
		tl.cum = append(tl.cum, total)
		total += hourWeights[t.UTC().Hour()] * next.Sub(t).Seconds()
		t = next
	}
	tl.at0 = append(tl.at0, tl.span)
	tl.cum = append(tl.cum, total)
	return tl
}

// at returns the time by which fraction u of the traffic has started.
func (tl *timeline) at(u float64) time.Time {
	n := len(tl.cum) - 1
	target := u * tl.cum[n]
	// The segment holding target: the last whose start is not after it.
	i := sort.Search(len(tl.cum), func(j int) bool { return tl.cum[j] > target }) - 1
	i = min(max(i, 0), n-1)
	frac := 0.0
	if w := tl.cum[i+1] - tl.cum[i]; w > 0 {
		frac = (target - tl.cum[i]) / w
	}
	off := tl.at0[i] + time.Duration(frac*float64(tl.at0[i+1]-tl.at0[i]))
	off = min(max(off, 0), tl.span-1)
	return tl.start.Add(off)
}
