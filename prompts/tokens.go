package prompts

import "unicode/utf8"

// EstimateTokens returns a rough, deliberately generous count of the
// tokens s takes in a typical BPE tokenizer, for sizing context windows
// without shipping a tokenizer.
//
// The heuristic: ASCII text averages about four characters per token in
// English prose and nearer three in code, logs and hex dumps, so ASCII
// counts one token per three characters (rounded up); every non-ASCII
// rune counts as one token, which over-counts accented Latin text a little
// and is close for CJK. Over-counting is the safe direction: a prompt sized
// by this estimate fits.
func EstimateTokens(s string) int {
	ascii, other := 0, 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			ascii++
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		other++
		i += n
	}
	return (ascii+2)/3 + other
}
