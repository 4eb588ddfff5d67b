package odata

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // member name, keyword or function name; may contain '/'
	tLit            // literal; val is set
	tLParen         // (
	tRParen         // )
	tComma          // ,
	tMinus          // unary minus not directly followed by a digit
	tStar           // * (only meaningful in $select)
)

type token struct {
	kind tokKind
	pos  int
	text string // identifier text, or the literal's source text
	val  value  // literal value (tLit)
}

// lexer splits a query option into tokens.
type lexer struct {
	param string
	src   string
	pos   int
}

func (lx *lexer) errAt(pos int, msg string) *SyntaxError {
	return newSyntaxError(lx.param, lx.src, pos, msg)
}

// lex returns all tokens of src, ending with a tEOF token.
func lex(param, src string) ([]token, error) {
	lx := &lexer{param: param, src: src}
	// Tokens average several bytes each: one allocation in the usual case.
	toks := make([]token, 0, min(len(src)/4+4, len(src)+1))
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// identStart reports whether the rune at src[i:] can start an identifier,
// and its width.
func identStart(src string, i int) (bool, int) {
	c := src[i]
	if c < utf8.RuneSelf {
		return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'), 1
	}
	r, w := utf8.DecodeRuneInString(src[i:])
	return r != utf8.RuneError && unicode.IsLetter(r), w
}

// identPart reports whether the rune at src[i:] can continue an identifier
// segment, and its width.
func identPart(src string, i int) (bool, int) {
	c := src[i]
	if c < utf8.RuneSelf {
		return c == '_' || isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'), 1
	}
	r, w := utf8.DecodeRuneInString(src[i:])
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)), w
}

func (lx *lexer) next() (token, error) {
	src := lx.src
	for lx.pos < len(src) && isSpace(src[lx.pos]) {
		lx.pos++
	}
	start := lx.pos
	if start >= len(src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := src[start]
	switch {
	case c == '(':
		lx.pos++
		return token{kind: tLParen, pos: start, text: "("}, nil
	case c == ')':
		lx.pos++
		return token{kind: tRParen, pos: start, text: ")"}, nil
	case c == ',':
		lx.pos++
		return token{kind: tComma, pos: start, text: ","}, nil
	case c == '*':
		lx.pos++
		return token{kind: tStar, pos: start, text: "*"}, nil
	case c == '-':
		if start+1 < len(src) && isDigit(src[start+1]) {
			return lx.number()
		}
		lx.pos++
		return token{kind: tMinus, pos: start, text: "-"}, nil
	case isDigit(c):
		return lx.number()
	case c == '\'':
		s, err := lx.quoted()
		if err != nil {
			return token{}, err
		}
		return token{kind: tLit, pos: start, text: src[start:lx.pos], val: strVal(s)}, nil
	}
	if ok, _ := identStart(src, start); ok {
		return lx.ident()
	}
	r, _ := utf8.DecodeRuneInString(src[start:])
	if r == utf8.RuneError {
		return token{}, lx.errAt(start, "invalid UTF-8")
	}
	return token{}, lx.errAt(start, "unexpected character "+strconv.QuoteRune(r))
}

// ident lexes a member path (segments separated by '/'), a keyword, a
// function name or the prefix of a typed literal such as datetime'…'.
func (lx *lexer) ident() (token, error) {
	src := lx.src
	start := lx.pos
	i := start
	for {
		// One segment: identStart identPart*.
		ok, w := identStart(src, i)
		if !ok {
			return token{}, lx.errAt(i, "expected a name after '/'")
		}
		i += w
		for i < len(src) {
			ok, w := identPart(src, i)
			if !ok {
				break
			}
			i += w
		}
		if i < len(src) && src[i] == '/' {
			i++
			if i >= len(src) {
				return token{}, lx.errAt(i, "expected a name after '/'")
			}
			continue
		}
		break
	}
	lx.pos = i
	text := src[start:i]
	if i < len(src) && src[i] == '\'' {
		return lx.typedLiteral(start, text)
	}
	switch text {
	case "null":
		return token{kind: tLit, pos: start, text: text, val: nullVal}, nil
	case "true":
		return token{kind: tLit, pos: start, text: text, val: trueVal}, nil
	case "false":
		return token{kind: tLit, pos: start, text: text, val: falseVal}, nil
	}
	return token{kind: tIdent, pos: start, text: text}, nil
}

// quoted lexes a '…' string starting at lx.pos, where a doubled quote
// stands for one quote, and returns its content.
func (lx *lexer) quoted() (string, error) {
	src := lx.src
	open := lx.pos
	i := open + 1
	var b *strings.Builder
	segStart := i
	for {
		j := strings.IndexByte(src[i:], '\'')
		if j < 0 {
			return "", lx.errAt(open, "unterminated string literal")
		}
		i += j
		if i+1 < len(src) && src[i+1] == '\'' {
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(src[segStart : i+1])
			i += 2
			segStart = i
			continue
		}
		lx.pos = i + 1
		if b == nil {
			return src[segStart:i], nil
		}
		b.WriteString(src[segStart:i])
		return b.String(), nil
	}
}

// typedLiteral lexes prefix'…' where prefix is datetime, datetimeoffset,
// guid or time.
func (lx *lexer) typedLiteral(start int, prefix string) (token, error) {
	switch prefix {
	case "datetime", "datetimeoffset", "guid", "time":
	default:
		return token{}, lx.errAt(start, "unsupported literal type "+strconv.Quote(prefix))
	}
	body, err := lx.quoted()
	if err != nil {
		return token{}, err
	}
	text := lx.src[start:lx.pos]
	tok := token{kind: tLit, pos: start, text: text}
	switch prefix {
	case "datetime", "datetimeoffset":
		t, ok := parseDateTime(body)
		if !ok {
			return token{}, lx.errAt(start, "invalid "+prefix+" literal")
		}
		tok.val = value{k: kTime, t: t}
	case "guid":
		if !isGUID(body) {
			return token{}, lx.errAt(start, "invalid guid literal")
		}
		tok.val = value{k: kGuid, s: body}
	case "time":
		d, ok := parseDuration(body)
		if !ok {
			return token{}, lx.errAt(start, "invalid time literal")
		}
		tok.val = value{k: kDur, i: d}
	}
	return tok, nil
}

// number lexes an integer (2), long (2L), float (1.3f), double (4.0,
// 6.02E+25, 1e-5, 2d) or decimal (50M, 50.5m) literal, with an optional
// leading '-'.
func (lx *lexer) number() (token, error) {
	src := lx.src
	start := lx.pos
	i := start
	if src[i] == '-' {
		i++
	}
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	isFloat := false
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return token{}, lx.errAt(start, "invalid number literal: expected digits after '.'")
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		isFloat = true
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j >= len(src) || !isDigit(src[j]) {
			return token{}, lx.errAt(start, "invalid number literal: expected digits in exponent")
		}
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		i = j
		isFloat = true
	}
	numText := src[start:i]
	var suffix byte
	if i < len(src) {
		switch src[i] {
		case 'L', 'l', 'M', 'm', 'F', 'f', 'D', 'd':
			suffix = src[i] | 0x20 // lower case
			i++
		}
	}
	if i < len(src) {
		if ok, _ := identPart(src, i); ok || src[i] == '.' || src[i] == '\'' {
			return token{}, lx.errAt(start, "invalid number literal")
		}
	}
	lx.pos = i
	tok := token{kind: tLit, pos: start, text: src[start:i]}
	switch {
	case suffix == 'l':
		if isFloat {
			return token{}, lx.errAt(start, "invalid long literal: it must be an integer")
		}
		n, err := strconv.ParseInt(numText, 10, 64)
		if err != nil {
			return token{}, lx.errAt(start, "long literal out of range")
		}
		tok.val = intVal(n)
	case !isFloat && (suffix == 0 || suffix == 'm'):
		// An integer, or an integral decimal; fall back to a double when it
		// does not fit in 64 bits.
		if n, err := strconv.ParseInt(numText, 10, 64); err == nil {
			tok.val = intVal(n)
			break
		}
		fallthrough
	default:
		f, err := strconv.ParseFloat(numText, 64)
		if err != nil && math.IsInf(f, 0) {
			return token{}, lx.errAt(start, "number literal out of range")
		}
		tok.val = floatVal(f) // an underflow is 0 (or subnormal), as in SQL
	}
	return tok, nil
}

// dateTimeLayouts are the accepted forms of datetime'…' and
// datetimeoffset'…' bodies, and of strings compared with them. A missing
// offset means UTC.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseDateTime parses an OData/ISO 8601 date-time; without an offset the
// value is UTC.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 10 || len(s) > 64 {
		return time.Time{}, false
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// isGUID reports whether s is xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !isDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// parseDuration parses a time'…' body: an xsd:duration such as PT13H20M,
// P1DT2.5S or -PT1M (years and months are not supported), or a time of day
// hh:mm[:ss[.fffffff]]. It returns nanoseconds.
func parseDuration(s string) (int64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	if strings.IndexByte(s, ':') >= 0 {
		t, err := time.Parse("15:04:05.999999999", s)
		if err != nil {
			t, err = time.Parse("15:04", s)
			if err != nil {
				return 0, false
			}
		}
		return int64(t.Hour())*int64(time.Hour) + int64(t.Minute())*int64(time.Minute) +
			int64(t.Second())*int64(time.Second) + int64(t.Nanosecond()), true
	}
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	if s == "" || s[0] != 'P' {
		return 0, false
	}
	s = s[1:]
	var total float64
	inTime := false
	seen := false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime = true
			s = s[1:]
			continue
		}
		j := 0
		for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
			j++
		}
		if j == 0 || j >= len(s) {
			return 0, false
		}
		n, err := strconv.ParseFloat(s[:j], 64)
		if err != nil {
			return 0, false
		}
		var unit float64
		switch {
		case s[j] == 'D' && !inTime:
			unit = float64(24 * time.Hour)
		case s[j] == 'H' && inTime:
			unit = float64(time.Hour)
		case s[j] == 'M' && inTime:
			unit = float64(time.Minute)
		case s[j] == 'S' && inTime:
			unit = float64(time.Second)
		default:
			return 0, false
		}
		total += n * unit
		seen = true
		s = s[j+1:]
	}
	if !seen || total >= math.MaxInt64 {
		return 0, false
	}
	d := int64(math.Round(total))
	if neg {
		d = -d
	}
	return d, true
}
