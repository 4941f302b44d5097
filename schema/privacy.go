package schema

import (
	"reflect"
	"strings"
)

// Class is the privacy class of a field. Masking, anonymisation, exports and
// logging all derive their behaviour from it; the struct tag `privacy:"..."`
// on the record and row types is the one place it is declared.
type Class string

// The privacy classes.
const (
	// Plain fields carry no personal data of the customer.
	Plain Class = "plain"
	// Identifier fields identify the customer (numbers, e-mail addresses,
	// chatter names, e-mail subjects); anonymisation removes them.
	Identifier Class = "identifier"
	// Content fields hold what the customer said or wrote (chat text, survey
	// comments, recordings); they have their own retention and permissions.
	Content Class = "content"
	// Masked fields hold IVR input that is never stored when masked.
	Masked Class = "masked"
	// Never fields are accepted from upstream and never stored anywhere
	// (e-mail bodies and attachments, social media content).
	Never Class = "never"
)

// FieldClass is the class of one field, by its name on the wire or in the
// lake (dotted for nested fields: "ivr_inputs.digits").
type FieldClass struct {
	Field string
	Class Class
}

// Classes lists the privacy class of every field of v's type, a record or a
// row, by its JSON or Parquet name. Fields without a privacy tag are reported
// with an empty Class, so a test can insist there are none.
func Classes(v any) []FieldClass {
	return classesOf(reflect.TypeOf(v), "")
}

func classesOf(t reflect.Type, prefix string) []FieldClass {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	var out []FieldClass
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, classesOf(f.Type, prefix)...)
			continue
		}
		name := fieldName(f)
		out = append(out, FieldClass{Field: prefix + name, Class: Class(f.Tag.Get("privacy"))})
		if inner := elemStruct(f.Type); inner != nil {
			out = append(out, classesOf(inner, prefix+name+".")...)
		}
	}
	return out
}

// ClassOf returns the class of one field of v's type, and whether it exists.
func ClassOf(v any, field string) (Class, bool) {
	for _, fc := range Classes(v) {
		if fc.Field == field {
			return fc.Class, true
		}
	}
	return "", false
}

// FieldsOfClass lists the fields of v's type in class c.
func FieldsOfClass(v any, c Class) []string {
	var out []string
	for _, fc := range Classes(v) {
		if fc.Class == c {
			out = append(out, fc.Field)
		}
	}
	return out
}

func fieldName(f reflect.StructField) string {
	for _, key := range []string{"json", "parquet"} {
		if tag := f.Tag.Get(key); tag != "" {
			if name, _, _ := strings.Cut(tag, ","); name != "" {
				return name
			}
		}
	}
	return f.Name
}

func elemStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t.PkgPath() != "time" {
		return t
	}
	return nil
}
