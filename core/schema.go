package core

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
)

// This file is the schema machinery every method's JSON config goes
// through: a config is one Go struct whose json tags name its keys, and
// DecodeStrict fills it. The rules about a parameter (ranges, required
// keys, keys that exclude each other) are methods of that struct.

// DecodeStrict decodes the JSON object raw (or null, which sets nothing)
// into the struct v points to, strictly:
//
//   - a member's name must equal a field's json tag exactly (keys are
//     case-sensitive); any other member is a validation error listing the
//     known keys;
//   - JSON null leaves a field as it is (Python's None: "not given"),
//     unless the field is tagged schema:"nonull";
//   - a value of the wrong JSON type is a validation error whose Details
//     hold "wrong_type": true;
//   - struct fields and the items of slices are decoded by the same rules,
//     with errors naming "param.key" and "param[i]";
//   - an integer field takes a whole number (see Whole) within its size;
//   - a field whose pointer has a DecodeParam method (Seconds, Whole)
//     decodes itself, knowing its parameter's name.
//
// Errors name param (the key alone when param is empty) and never echo a
// string value.
func DecodeStrict(param string, raw []byte, v any) error {
	obj, err := Members(param, raw)
	if err != nil {
		return err
	}
	return DecodeObject(param, obj, v)
}

// DecodeObject is DecodeStrict for an object already split into members.
func DecodeObject(param string, obj map[string]json.RawMessage, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("gobrs: DecodeObject needs a pointer to a struct, not %T", v))
	}
	return decodeStruct(param, obj, rv.Elem())
}

// ParamDecoder is a value that decodes itself from JSON, naming param in
// its errors.
type ParamDecoder interface {
	DecodeParam(param string, raw []byte) error
}

// schemaField is one key of a config struct.
type schemaField struct {
	name   string
	index  int
	nonull bool
}

// schemaFields returns the keys of struct type t, in field order.
func schemaFields(t reflect.Type) []schemaField {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]schemaField)
	}
	var fields []schemaField
	for i := range t.NumField() {
		tag, ok := t.Field(i).Tag.Lookup("json")
		name, _, _ := strings.Cut(tag, ",")
		if !ok || name == "-" || name == "" {
			continue
		}
		fields = append(fields, schemaField{name: name, index: i, nonull: t.Field(i).Tag.Get("schema") == "nonull"})
	}
	fieldCache.Store(t, fields)
	return fields
}

var fieldCache sync.Map // reflect.Type -> []schemaField

// KnownKeys returns the keys of the config struct v points to, sorted.
func KnownKeys(v any) []string {
	fields := schemaFields(reflect.TypeOf(v).Elem())
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return sortedStrings(names)
}

func sortedStrings(s []string) []string {
	m := make(map[string]bool, len(s))
	for _, k := range s {
		m[k] = true
	}
	return sortedKeys(m)
}

func decodeStruct(param string, obj map[string]json.RawMessage, sv reflect.Value) error {
	fields := schemaFields(sv.Type())
	for _, k := range sortedKeys(obj) {
		i := slicesIndexFunc(fields, func(f schemaField) bool { return f.name == k })
		if i < 0 {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			return unknownKey(param, k, sortedStrings(names))
		}
		f, raw, p := fields[i], obj[k], member(param, k)
		if isNull(raw) {
			if f.nonull {
				return wrongType(NewValidationError(p, "", "%s must be %s, not a JSON null", p, jsonTypeName(sv.Field(f.index).Type())))
			}
			continue
		}
		if err := decodeValue(p, raw, sv.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func slicesIndexFunc(fields []schemaField, f func(schemaField) bool) int {
	for i := range fields {
		if f(fields[i]) {
			return i
		}
	}
	return -1
}

var paramDecoderType = reflect.TypeFor[ParamDecoder]()

// decodeValue decodes raw into fv, which is settable.
func decodeValue(param string, raw []byte, fv reflect.Value) error {
	t := fv.Type()
	switch {
	case reflect.PointerTo(t).Implements(paramDecoderType):
		return fv.Addr().Interface().(ParamDecoder).DecodeParam(param, raw)
	case t.Kind() == reflect.Pointer:
		nv := reflect.New(t.Elem())
		if err := decodeValue(param, raw, nv.Elem()); err != nil {
			return err
		}
		fv.Set(nv)
		return nil
	case t.Kind() == reflect.Struct:
		obj, err := Members(param, raw)
		if err != nil {
			return err
		}
		return decodeStruct(param, obj, fv)
	case t.Kind() == reflect.Slice:
		var list []json.RawMessage
		if err := DecodeJSON(param, raw, &list); err != nil {
			return err
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, item := range list {
			if err := decodeValue(fmt.Sprintf("%s[%d]", param, i), item, out.Index(i)); err != nil {
				return err
			}
		}
		fv.Set(out)
		return nil
	case fv.CanInt():
		// a whole number of the field's size
		var w Whole
		if err := w.DecodeParam(param, raw); err != nil {
			return err
		}
		bits := t.Bits()
		if err := w.Check(param, -1<<(bits-1), 1<<(bits-1)-1); err != nil {
			return err
		}
		fv.SetInt(int64(w))
		return nil
	}
	return DecodeJSON(param, raw, fv.Addr().Interface())
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// Members decodes a JSON object (or null: no members) into its raw
// members; anything else is a wrong-type validation error naming param.
func Members(param string, raw []byte) (map[string]json.RawMessage, error) {
	if v := bytes.TrimSpace(raw); len(v) > 0 && v[0] != '{' && string(v) != "null" {
		return nil, wrongType(NewValidationError(param, "", "%s must be an object, not a JSON %s", param, jsonTypeOf(v[0])))
	}
	var obj map[string]json.RawMessage
	if err := DecodeJSON(param, raw, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// jsonTypeOf names the JSON type a value starting with c has.
func jsonTypeOf(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}

// wrongType marks e as a value of the wrong JSON type (Details
// "wrong_type"): hosts raise it as their type error (Python: BRSTypeError,
// a TypeError).
func wrongType(e *Error) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["wrong_type"] = true
	return e
}

// IsWrongType reports whether err is a validation error for a value of the
// wrong JSON type.
func IsWrongType(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Details["wrong_type"] == true
}

// Seconds is a number of seconds in a JSON config: any JSON number
// (900, 60.5, 1E+2). A number too large for a float64 is "out of range";
// another JSON type is a wrong-type error. Its range is the config's rule.
type Seconds float64

// DecodeParam decodes a JSON number of seconds.
func (s *Seconds) DecodeParam(param string, raw []byte) error {
	var f float64
	if err := DecodeJSON(param, raw, &f); err != nil {
		return err
	}
	*s = Seconds(f)
	return nil
}

// Duration converts s to a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// In reports whether lo <= s <= hi (false for NaN).
func (s Seconds) In(lo, hi float64) bool { return float64(s) >= lo && float64(s) <= hi }

// String formats s as Go formats a float64 (the way errors echo it).
func (s Seconds) String() string { return fmt.Sprint(float64(s)) }

// Whole is a whole number in a JSON config: a JSON number without a
// fraction (5, 5.0, 5E+0). A fraction is a validation error "param must be
// a whole number, not 1.5"; another JSON type is a wrong-type error. Its
// range is the config's rule.
type Whole int64

// DecodeParam decodes a JSON whole number.
func (w *Whole) DecodeParam(param string, raw []byte) error {
	var f float64
	if err := DecodeJSON(param, raw, &f); err != nil {
		return err
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || f < math.MinInt64 || f >= math.MaxInt64 {
		return NewValidationError(param, fmt.Sprint(f), "%s must be a whole number, not %v", param, f)
	}
	*w = Whole(f)
	return nil
}

// Check returns a validation error naming param unless lo <= w <= hi.
func (w Whole) Check(param string, lo, hi int64) error {
	if int64(w) < lo || int64(w) > hi {
		return NewValidationError(param, fmt.Sprint(int64(w)), "%s must be between %d and %d, not %d", param, lo, hi, int64(w))
	}
	return nil
}

// Warning is what a session does otherwise than its config asked, for the
// host to tell the user (a data endpoint rewritten to the credentials
// endpoint, say). The session opens all the same.
type Warning struct {
	// Param names the parameter, as errors name it.
	Param string `json:"param"`
	// Message says what was done instead, for a human; never a secret.
	Message string `json:"message"`
	// Value is the value used instead of the one given, when there is one.
	Value string `json:"value,omitempty"`
}
