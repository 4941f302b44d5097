package loadgen

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/arkiv-project/arkiv/internal/mp3"
	"github.com/arkiv-project/arkiv/schema"
)

// recording yields the chunks of one recording as Kafka messages, making
// its bytes as it goes: only one chunk is in memory at a time.
type recording struct {
	topic   string
	key     []byte
	base    []schema.Header // the headers every chunk carries
	size    int
	chunkSz int
	withSHA bool
	deny    bool

	off, n int
	audio  *audio
	sum    hash.Hash
	done   func(Recording)
}

// newRecording plans a recording of a call. It always draws the same
// random numbers, whether or not recordings are generated.
func (g *Generator) newRecording(t *tenant, inquiryID, recID string, started time.Time, deny bool) *recording {
	factor := min(max(math.Exp(0.7*g.rng.NormFloat64()), 0.2), 4)
	// Whole frames: at 32 kbit/s, 64 KiB is about 16 s of audio.
	size := mp3.Size(max(1, mp3.Frames(max(1024, int(factor*float64(g.o.RecordingBytes))))))
	withSHA := g.chance(shareWithSHA)
	zone := g.zone()
	src := g.newAudio()
	if !g.o.Recordings {
		return nil
	}
	r := &recording{
		topic:   g.o.Topics.Recordings,
		key:     key(t.id, inquiryID),
		size:    size,
		chunkSz: g.o.ChunkBytes,
		withSHA: withSHA,
		deny:    deny,
		audio:   src,
		sum:     sha256.New(),
		base: []schema.Header{
			header(schema.HeaderSchemaVersion, strconv.Itoa(schema.Version)),
			header(schema.HeaderTenantID, t.id),
			header(schema.HeaderInquiryID, inquiryID),
			header(schema.HeaderRecordingID, recID),
			header(schema.HeaderInquiryStartedAt, started.In(zone).Format(time.RFC3339Nano)),
			header(schema.HeaderDenyRecording, strconv.FormatBool(deny)),
			header(schema.HeaderContentType, schema.ContentTypeMP3),
		},
	}
	r.done = func(rec Recording) {
		rec.InquiryID, rec.RecordingID = inquiryID, recID
		if deny {
			t.truth.RecordingsRefused = append(t.truth.RecordingsRefused, rec)
		} else {
			t.truth.RecordingsStored = append(t.truth.RecordingsStored, rec)
		}
	}
	return r
}

func header(k, v string) schema.Header { return schema.Header{Key: k, Value: []byte(v)} }

// chunk makes the next chunk, and says whether it was the last.
func (r *recording) chunk() (Message, bool) {
	n := min(r.chunkSz, r.size-r.off)
	data := r.audio.read(n)
	r.sum.Write(data)
	r.off += n
	last := r.off >= r.size
	headers := make([]schema.Header, len(r.base), len(r.base)+3)
	copy(headers, r.base)
	headers = append(headers, header(schema.HeaderChunk, strconv.Itoa(r.n)),
		header(schema.HeaderLastChunk, strconv.FormatBool(last)))
	r.n++
	if last {
		sum := hex.EncodeToString(r.sum.Sum(nil))
		if r.withSHA {
			headers = append(headers, header(schema.HeaderSHA256, sum))
		}
		r.done(Recording{SHA256: sum, Size: int64(r.size), Chunks: r.n, SentSHA256: r.withSHA})
	}
	return Message{Topic: r.topic, Key: r.key, Value: data, Headers: headers}, last
}

// audio is an endless MP3 stream (see package mp3): an empty ID3v2.4 tag,
// then MPEG-1 Layer III frames (32 kbit/s, 44.1 kHz, mono) of silence whose
// unread filler bytes are pseudo-random, so every recording has its own
// bytes and hash, and browsers play it.
type audio struct {
	src *rand.ChaCha8
	off int
}

// The stream's layout, as the tests check it.
const mp3FrameLen = mp3.FrameLen

var mp3Header = mp3.Header() // read-only

// newAudio starts the byte stream of the next recording. Each recording has
// its own stream, so its bytes depend only on the seed and its number.
func (g *Generator) newAudio() *audio {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[0:], g.seed)
	s := g.side()
	binary.LittleEndian.PutUint64(seed[8:], g.audioN[s])
	seed[16] = byte(s)
	copy(seed[17:], "arkiv/loadgen/1")
	g.audioN[s]++
	return &audio{src: rand.NewChaCha8(seed)}
}

// read returns the next n bytes of the stream in a new slice.
func (a *audio) read(n int) []byte {
	b := make([]byte, n)
	_, _ = a.src.Read(b) // never fails
	mp3.Stamp(b, a.off)
	a.off += n
	return b
}
