package odata

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOrderBy(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []OrderKey
	}{
		{"", nil},
		{"  ", nil},
		{"a", []OrderKey{{Field: "a"}}},
		{"b desc,a asc , c", []OrderKey{{"b", true}, {"a", false}, {"c", false}}},
		{"updatedAt", []OrderKey{{Field: "updatedAt"}}},
		{"b desc,a", []OrderKey{{"b", true}, {"a", false}}},
		{" __createdAt  desc ", []OrderKey{{"__createdAt", true}}},
		{"obj/x desc", []OrderKey{{"obj/x", true}}},
		{"desc desc", []OrderKey{{"desc", true}}},
	} {
		t.Run(c.src, func(t *testing.T) {
			got, err := ParseOrderBy(c.src)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestParseOrderByErrors(t *testing.T) {
	for _, c := range []struct {
		src string
		pos int
		msg string
	}{
		{"a,", 2, "expected a property name, found end of input"},
		{",a", 0, "expected a property name"},
		{"a,,b", 2, "expected a property name"},
		{"a DESC", 2, `expected asc, desc or ',', found "DESC"`},
		{"a desc b", 7, "expected ',' or end of input"},
		{"a desc desc", 7, "expected ',' or end of input"},
		{"tolower(a)", 0, "only property names"},
		{"'a'", 0, "expected a property name"},
		{"a;b", 1, "unexpected character ';'"},
		{"*", 0, "expected a property name"},
	} {
		t.Run(c.src, func(t *testing.T) {
			got, err := ParseOrderBy(c.src)
			assert.Nil(t, got)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, c.pos, se.Pos)
			assert.Contains(t, se.Msg, c.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid $orderby at position "), err.Error())
		})
	}
}

func TestParseSelect(t *testing.T) {
	for _, c := range []struct {
		src  string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b, c", []string{"a", "b", "c"}},
		{"*", []string{"*"}},
		{" * , id", []string{"*", "id"}},
		{"a,b,a", []string{"a", "b"}},
		{"obj/x,id", []string{"obj/x", "id"}},
	} {
		t.Run(c.src, func(t *testing.T) {
			got, err := ParseSelect(c.src)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	for _, c := range []struct {
		src string
		pos int
	}{
		{"a,", 2},
		{"a b", 2},
		{"a,,b", 2},
		{"a,1", 2},
		{"a desc", 2},
		{"a,'b'", 2},
		{"a&b", 1},
	} {
		t.Run("error "+c.src, func(t *testing.T) {
			got, err := ParseSelect(c.src)
			assert.Nil(t, got)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, c.pos, se.Pos)
			assert.Equal(t, "$select", se.Param)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid $select at position "), err.Error())
		})
	}
	_, err := ParseSelect(strings.Repeat("a,", MaxLength))
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, MaxLength, se.Pos)
}

func TestCompare(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// In ascending order; items in the same group compare equal.
	groups := [][]any{
		{nil},
		{false},
		{true},
		{math.NaN()},
		{math.Inf(-1)},
		{int64(math.MinInt64)},
		{-2.5, json.Number("-2.5")},
		{int64(-1), -1, -1.0, json.Number("-1"), int32(-1)},
		{0, 0.0, math.Copysign(0, -1), uint8(0)},
		{json.Number("1e-3")},
		{1, int64(1), 1.0, json.Number("1"), float32(1), uint(1)},
		{int64(9007199254740992), 9007199254740992.0},
		{int64(9007199254740993)},
		{int64(math.MaxInt64), json.Number("9223372036854775807")},
		{9223372036854775808.0, uint64(1 << 63)},
		{math.Inf(1)},
		{""},
		{"A"},
		{"B"},
		{"a"},
		{"é"},
		{t0, t0.In(time.FixedZone("x", 3600))},
		{t0.Add(time.Nanosecond)},
		{time.Duration(-1)},
		{time.Hour},
		{map[string]any{"a": 1}, []any{1}, struct{}{}, json.Number("bogus")},
	}
	for i, gi := range groups {
		for j, gj := range groups {
			for _, a := range gi {
				for _, b := range gj {
					got := Compare(a, b)
					switch {
					case i < j:
						assert.Negative(t, got, "Compare(%#v, %#v)", a, b)
					case i > j:
						assert.Positive(t, got, "Compare(%#v, %#v)", a, b)
					default:
						assert.Zero(t, got, "Compare(%#v, %#v)", a, b)
					}
				}
			}
		}
	}
}

func TestCompareSorts(t *testing.T) {
	vals := []any{"b", 3.0, nil, true, int64(2), "a", time.Unix(0, 0), false, json.Number("2.5"), nil}
	sort.SliceStable(vals, func(i, j int) bool { return Compare(vals[i], vals[j]) < 0 })
	assert.Equal(t, []any{nil, nil, false, true, int64(2), json.Number("2.5"), 3.0, "a", "b", time.Unix(0, 0)}, vals)
}
