package loadgen

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/mp3"
	"github.com/arkiv-project/arkiv/schema"
)

// TestRecordingsArePlayableMP3: every recording, put together from its
// chunks, is a valid silent MP3 stream of whole frames lasting seconds to
// minutes at the default size, with the sha256 and size of the Truth.
func TestRecordingsArePlayableMP3(t *testing.T) {
	g := New(Options{Count: 150, Seed: 5, Recordings: true})
	streams := map[string][]byte{}
	for m, ok := g.Next(); ok; m, ok = g.Next() {
		if m.Topic != g.Options().Topics.Recordings {
			continue
		}
		var tenant, inquiry, rec string
		for _, h := range m.Headers {
			switch h.Key {
			case schema.HeaderTenantID:
				tenant = string(h.Value)
			case schema.HeaderInquiryID:
				inquiry = string(h.Value)
			case schema.HeaderRecordingID:
				rec = string(h.Value)
			}
		}
		k := tenant + "/" + inquiry + "/" + rec
		streams[k] = append(streams[k], m.Value...)
	}
	n := 0
	var shortest, longest time.Duration
	for tenant, tt := range g.Truth().Tenants {
		for _, list := range [][]Recording{tt.RecordingsStored, tt.RecordingsRefused} {
			for _, r := range list {
				b := streams[tenant+"/"+r.InquiryID+"/"+r.RecordingID]
				info, err := mp3.Check(b)
				if err != nil {
					t.Fatalf("recording %s/%s: %v", tenant, r.InquiryID, err)
				}
				sum := sha256.Sum256(b)
				if hex.EncodeToString(sum[:]) != r.SHA256 || int64(len(b)) != r.Size {
					t.Errorf("recording %s/%s: sha256 or size differ from the Truth", tenant, r.InquiryID)
				}
				if n == 0 || info.Duration < shortest {
					shortest = info.Duration
				}
				longest = max(longest, info.Duration)
				n++
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d recordings", n)
	}
	// Log-normal sizes of 0.2x-4x the 64 KiB median: 3 s to about a minute.
	if shortest < 3*time.Second || longest > 70*time.Second || longest < 30*time.Second {
		t.Errorf("recordings last %s to %s", shortest, longest)
	}
	t.Logf("%d recordings of %s to %s", n, shortest, longest)
}
