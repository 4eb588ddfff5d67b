package zumo

const upperhex = "0123456789ABCDEF"

// unreserved reports the RFC 3986 unreserved characters, which
// Uri.EscapeDataString (and so the official clients) leave alone.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// filterSafe reports the characters left as they are in the $filter,
// $orderby and $select values: the unreserved ones, the sub-delimiters
// that carry no meaning in a query string, and "%" (literals are already
// escaped). Space, "+", "&", "=", "#", ";" (a separator to some servers,
// Go's url.ParseQuery among them) and everything else is escaped.
func filterSafe(c byte) bool {
	if unreserved(c) {
		return true
	}
	switch c {
	case '%', '\'', '(', ')', '*', ',', ':', '!', '$', '/', '?', '@':
		return true
	}
	return false
}

// rawSafe is filterSafe without "%": for raw OData text written by a user,
// in which nothing is escaped yet.
func rawSafe(c byte) bool { return c != '%' && filterSafe(c) }

func appendEscaped(dst []byte, s string, safe func(byte) bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safe(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return dst
}

// escapeDataString escapes everything but the unreserved characters, as
// .NET's Uri.EscapeDataString does: the escaping of literals in a filter.
func escapeDataString(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+8), s, unreserved))
		}
	}
	return s
}

// escapeParam escapes a user parameter's key or value.
func escapeParam(s string) string { return escapeDataString(s) }
