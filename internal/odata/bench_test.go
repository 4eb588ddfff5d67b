package odata

import (
	"testing"
	"time"
)

const benchFilter = "((complete eq false) and (priority ge 2)) and (startswith(text,'buy') or " +
	"(createdAt gt datetimeoffset'2024-01-01T00:00:00.0000000+00:00')) and (price lt 10.5M)"

func benchRow() map[string]any {
	return map[string]any{
		"id":        "6d0cb6a2-9c1f-4a57-9a2b-111111111111",
		"text":      "walk the dog",
		"complete":  false,
		"priority":  3.0,
		"createdAt": time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
		"updatedAt": time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
		"version":   "MQ==",
		"deleted":   false,
		"price":     9.75,
	}
}

func BenchmarkParseFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFilter(benchFilter); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := ParseFilter(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	row := benchRow()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := f.Match(row)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkMatchSimple is the single comparison the official server was
// measured with.
func BenchmarkMatchSimple(b *testing.B) {
	f, err := ParseFilter("(complete eq false)")
	if err != nil {
		b.Fatal(err)
	}
	row := benchRow()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.Match(row); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
