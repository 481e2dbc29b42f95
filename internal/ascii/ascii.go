// Package ascii holds the byte tests and case mapping that regular
// expressions' \w and \b, and the texts secscreen lowercases byte for
// byte, read ASCII by: one definition for the packages that scan reports
// around their patterns.
package ascii

// IsWordByte reports whether c is a word character as Go's regexp reads
// \w and \b: an ASCII letter, digit or '_'.
func IsWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Lower returns s with its ASCII letters lowercased and every other byte
// as it is, so that offsets in it are s's.
func Lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
