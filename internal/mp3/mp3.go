// Package mp3 makes and checks silent MP3 streams for tests and synthetic
// traffic: an empty ID3v2.4 tag, then MPEG-1 Layer III frames at 32 kbit/s,
// 44.1 kHz, mono, without CRC or padding (104 bytes, 1152 samples each).
//
// Each frame's side information is all zeros: main_data_begin 0 and
// part2_3_length 0 in both granules, so a decoder reads no main data and
// outputs silence. The 83 bytes after the side information are never read
// by a decoder; they may carry any filler (Stamp clears their top bit, so
// no filler byte is 0xFF and no false frame sync can appear). Browsers play
// these streams, and a recording made of them has its own bytes and hash.
package mp3

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// The stream's layout.
const (
	// TagLen is the length of the empty ID3v2.4 tag a stream starts with.
	TagLen = 10
	// FrameLen is the length of one frame: 144 * 32000 / 44100, rounded
	// down (the padding bit is never set).
	FrameLen = 104
	// SideInfoLen is the length of a mono MPEG-1 frame's side information.
	SideInfoLen = 17
	// HeaderLen is the length of a frame header.
	HeaderLen = 4
	// SamplesPerFrame and SampleRate give a frame's duration.
	SamplesPerFrame = 1152
	SampleRate      = 44100
	// BitRate is the nominal bit rate, bits per second.
	BitRate = 32000
)

// Tag returns the empty ID3v2.4 tag (version 4.0, no flags, size 0).
func Tag() [TagLen]byte { return [TagLen]byte{'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0} }

// Header returns the frame header: sync, MPEG-1, Layer III, no CRC;
// 32 kbit/s, 44.1 kHz, no padding; mono, not copyrighted, original.
func Header() [HeaderLen]byte { return [HeaderLen]byte{0xFF, 0xFB, 0x10, 0xC4} }

// FrameDuration is the playing time of one frame (about 26.1 ms).
const FrameDuration = time.Duration(SamplesPerFrame) * time.Second / SampleRate

// Size is the length of a stream of n frames, tag included.
func Size(frames int) int { return TagLen + max(frames, 0)*FrameLen }

// Frames is the number of whole frames of a stream of size bytes.
func Frames(size int) int { return max(size-TagLen, 0) / FrameLen }

// FramesFor is the number of frames that play for at least d (one at least).
func FramesFor(d time.Duration) int {
	return max(1, int((d+FrameDuration-1)/FrameDuration))
}

// Stamp makes b, the bytes of a stream from offset off, a valid silent
// stream: it writes the tag and every frame's header and side information
// that fall into b, and clears the top bit of every other byte. b's other
// bits are kept as filler, so the result depends only on the filler and
// the offset, whatever the pieces b is cut into.
func Stamp(b []byte, off int) {
	tag, hdr := Tag(), Header()
	for i := range b {
		p := off + i
		if p < TagLen {
			b[i] = tag[p]
			continue
		}
		switch f := (p - TagLen) % FrameLen; {
		case f < HeaderLen:
			b[i] = hdr[f]
		case f < HeaderLen+SideInfoLen:
			b[i] = 0
		default:
			b[i] &= 0x7F
		}
	}
}

// Silent returns a stream that plays silence for at least d, its filler
// read from fill (nil: zeros).
func Silent(d time.Duration, fill io.Reader) ([]byte, error) {
	b := make([]byte, Size(FramesFor(d)))
	if fill != nil {
		if _, err := io.ReadFull(fill, b); err != nil {
			return nil, fmt.Errorf("mp3: filler: %w", err)
		}
	}
	Stamp(b, 0)
	return b, nil
}

// Info describes a checked stream.
type Info struct {
	Frames   int
	Duration time.Duration
}

// ErrNotSilent is returned by Check for a frame that is valid MP3 but
// carries main data (this package never makes one).
var ErrNotSilent = errors.New("mp3: a frame carries main data")

// Check parses b as a stream this package makes: an optional ID3v2 tag,
// then only whole MPEG-1 Layer III frames with this package's header and
// all-zero side information, and no stray sync byte in the filler. It
// says what is wrong and at which offset.
func Check(b []byte) (Info, error) {
	p := 0
	if len(b) >= TagLen && string(b[:3]) == "ID3" {
		size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
		p = TagLen + size
	}
	hdr := Header()
	var info Info
	for ; p < len(b); p += FrameLen {
		if len(b)-p < FrameLen {
			return info, fmt.Errorf("mp3: truncated frame at byte %d (%d of %d bytes)", p, len(b)-p, FrameLen)
		}
		if [HeaderLen]byte(b[p:p+HeaderLen]) != hdr {
			return info, fmt.Errorf("mp3: no frame header at byte %d: % x", p, b[p:p+HeaderLen])
		}
		for _, c := range b[p+HeaderLen : p+HeaderLen+SideInfoLen] {
			if c != 0 {
				return info, fmt.Errorf("%w at byte %d", ErrNotSilent, p)
			}
		}
		for i, c := range b[p+HeaderLen+SideInfoLen : p+FrameLen] {
			if c == 0xFF {
				return info, fmt.Errorf("mp3: a sync byte in the filler at byte %d", p+HeaderLen+SideInfoLen+i)
			}
		}
		info.Frames++
	}
	if info.Frames == 0 {
		return info, errors.New("mp3: no frames")
	}
	info.Duration = time.Duration(info.Frames) * FrameDuration
	return info, nil
}
