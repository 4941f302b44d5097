package query

import (
	"bufio"
	"encoding/xml"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ChatLogNamespace is the XML namespace of a chat log document
// (schema/chatlog.xsd).
const ChatLogNamespace = "urn:arkiv:chatlog:1"

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// xmlSafe replaces what XML 1.0 cannot carry (control characters other
// than tab, newline and carriage return; U+FFFE, U+FFFF; invalid UTF-8)
// with U+FFFD. Escaping of <, >, & and quotes is the encoder's.
func xmlSafe(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !xmlChar(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if !xmlChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

type xmlChatLog struct {
	XMLName   xml.Name     `xml:"urn:arkiv:chatlog:1 chatlog"`
	Version   string       `xml:"version,attr"`
	Tenant    string       `xml:"tenant,attr"`
	InquiryID string       `xml:"inquiry-id,attr"`
	StartedAt string       `xml:"started-at,attr"`
	Messages  []xmlMessage `xml:"message"`
}

type xmlMessage struct {
	At   string  `xml:"at,attr"`
	From string  `xml:"from,attr"`
	Name *string `xml:"name,omitempty"`
	Text string  `xml:"text"`
}

// WriteXML writes the chat log as an XML document valid against
// schema/chatlog.xsd, whatever the chat text holds.
func (c *ChatLog) WriteXML(w io.Writer) error {
	doc := xmlChatLog{Version: "1", Tenant: xmlSafe(c.Tenant), InquiryID: xmlSafe(c.InquiryID),
		StartedAt: c.InquiryStartedAt.UTC().Format(time.RFC3339Nano)}
	for _, m := range c.Messages {
		x := xmlMessage{At: m.At.UTC().Format(time.RFC3339Nano), From: xmlSafe(m.From), Text: xmlSafe(m.Text)}
		if m.Name != nil {
			n := xmlSafe(*m.Name)
			x.Name = &n
		}
		doc.Messages = append(doc.Messages, x)
	}
	bw := bufio.NewWriter(w)
	if _, err := io.WriteString(bw, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if _, err := io.WriteString(bw, "\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// textSafe makes text safe to paste and to print on a terminal: control
// characters (escape sequences included) other than tab become U+FFFD,
// invalid UTF-8 too. Newlines are kept by the caller, line by line.
func textSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return r
		}
		if r < 0x20 || (r >= 0x7F && r <= 0x9F) || r == 0x2028 || r == 0x2029 || !xmlChar(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// WriteText writes the chat log as plain text (the "copy" action): one
// message per line, "[time] sender: text", continuation lines indented.
func (c *ChatLog) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, m := range c.Messages {
		who := m.From
		if m.Name != nil && *m.Name != "" {
			who = *m.Name + " (" + m.From + ")"
		}
		text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\r", "\n")
		lines := strings.Split(text, "\n")
		bw.WriteString("[" + m.At.UTC().Format("2006-01-02 15:04:05Z") + "] " + textSafe(who) + ": " +
			textSafe(lines[0]) + "\n")
		for _, l := range lines[1:] {
			bw.WriteString("    " + textSafe(l) + "\n")
		}
	}
	return bw.Flush()
}
