package mp3

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestHeaderFields decodes the frame header bit by bit, as a decoder
// does, and checks that it describes the frame length the stream uses.
func TestHeaderFields(t *testing.T) {
	h := Header()
	v := uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])
	field := func(shift, bits uint) uint32 { return v >> shift & (1<<bits - 1) }
	bitrates := []int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320} // MPEG-1 Layer III, kbit/s
	rates := []int{44100, 48000, 32000}
	switch {
	case field(21, 11) != 0x7FF:
		t.Error("no frame sync")
	case field(19, 2) != 3:
		t.Error("not MPEG-1")
	case field(17, 2) != 1:
		t.Error("not Layer III")
	case field(16, 1) != 1:
		t.Error("has a CRC")
	case field(12, 4) == 0 || field(12, 4) == 15 || bitrates[field(12, 4)]*1000 != BitRate:
		t.Errorf("bit rate index %d", field(12, 4))
	case field(10, 2) == 3 || rates[field(10, 2)] != SampleRate:
		t.Errorf("sample rate index %d", field(10, 2))
	case field(6, 2) != 3:
		t.Error("not mono (the side information would be 32 bytes)")
	}
	padding := int(field(9, 1))
	if n := 144*bitrates[field(12, 4)]*1000/rates[field(10, 2)] + padding; n != FrameLen {
		t.Errorf("the header says frames of %d bytes, the stream uses %d", n, FrameLen)
	}
}

func TestSilent(t *testing.T) {
	b, err := Silent(3*time.Second, rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	info, err := Check(b)
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration < 3*time.Second || info.Duration > 3*time.Second+FrameDuration || len(b) != Size(info.Frames) {
		t.Errorf("3 s: %+v, %d bytes", info, len(b))
	}
	if !bytes.HasPrefix(b, []byte("ID3\x04\x00")) {
		t.Errorf("no ID3v2.4 tag: % x", b[:10])
	}
	// The filler makes two streams differ; zero filler is all zeros.
	c, _ := Silent(3*time.Second, rand.NewChaCha8([32]byte{2}))
	if bytes.Equal(b, c) {
		t.Error("different fillers, same bytes")
	}
	z, _ := Silent(time.Second, nil)
	if _, err := Check(z); err != nil || z[TagLen+HeaderLen+SideInfoLen] != 0 {
		t.Errorf("zero filler: %v", err)
	}
	if _, err := Silent(time.Second, strings.NewReader("short")); err == nil {
		t.Error("a short filler is not an error")
	}
}

// TestStampWhateverThePieces: stamping a stream piece by piece gives the
// bytes of stamping it whole.
func TestStampWhateverThePieces(t *testing.T) {
	src := make([]byte, Size(40))
	rand.NewChaCha8([32]byte{3}).Read(src)
	whole := bytes.Clone(src)
	Stamp(whole, 0)
	if _, err := Check(whole); err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{1, 3, 7, FrameLen - 1, FrameLen, FrameLen + 1, 1000} {
		b := bytes.Clone(src)
		for off := 0; off < len(b); off += piece {
			Stamp(b[off:min(off+piece, len(b))], off)
		}
		if !bytes.Equal(b, whole) {
			t.Errorf("pieces of %d give other bytes", piece)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	good, _ := Silent(time.Second, rand.NewChaCha8([32]byte{4}))
	for name, mutate := range map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)-1] },
		"bad header":  func(b []byte) []byte { b[TagLen+FrameLen+2] = 0x90; return b },
		"main data":   func(b []byte) []byte { b[TagLen+HeaderLen+1] = 0x12; return b },
		"sync filler": func(b []byte) []byte { b[TagLen+FrameLen-1] = 0xFF; return b },
		"empty":       func(b []byte) []byte { return b[:TagLen] },
	} {
		_, err := Check(mutate(bytes.Clone(good)))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if name == "main data" && !errors.Is(err, ErrNotSilent) {
			t.Errorf("main data: %v", err)
		}
	}
	// Without the tag it is still a stream.
	if info, err := Check(good[TagLen:]); err != nil || info.Frames != Frames(len(good)) {
		t.Errorf("without a tag: %+v %v", info, err)
	}
}
