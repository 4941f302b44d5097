package lakegen

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
)

// mediaObject is a recording's bytes, made on demand from a seed: an
// ID3v2.4 header and MPEG-1 Layer III frame headers over pseudo-random
// bytes, so that the size in memory stays small whatever MediaBytes is.
type mediaObject struct {
	name string
	size int
	seed uint64
}

// frameBytes is the length of one 128 kbit/s, 44.1 kHz MPEG frame.
const frameBytes = 417

var id3Header = []byte{'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0}

// writeTo writes the object's bytes to w.
func (m mediaObject) writeTo(w io.Writer) (int64, error) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], m.seed)
	src := rand.NewChaCha8(key)
	buf := make([]byte, 0, min(m.size, 64<<10))
	var written int64
	flush := func() error {
		n, err := w.Write(buf)
		written += int64(n)
		buf = buf[:0]
		return err
	}
	for pos := 0; pos < m.size; pos++ {
		switch {
		case pos < len(id3Header):
			buf = append(buf, id3Header[pos])
		case (pos-len(id3Header))%frameBytes == 0:
			buf = append(buf, 0xff)
		case (pos-len(id3Header))%frameBytes == 1:
			buf = append(buf, 0xfb)
		default:
			start := len(buf)
			end := min(cap(buf), start+m.size-pos, start+frameBytes-(pos-len(id3Header))%frameBytes)
			buf = buf[:end]
			_, _ = src.Read(buf[start:end])
			pos += end - start - 1
		}
		if len(buf) == cap(buf) {
			if err := flush(); err != nil {
				return written, err
			}
		}
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// sum returns the object's SHA-256 (hex) and size.
func (m mediaObject) sum() (string, int64) {
	h := sha256.New()
	n, _ := m.writeTo(h) // a hash never fails
	return hex.EncodeToString(h.Sum(nil)), n
}
