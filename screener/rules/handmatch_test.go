package rules

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handCases are texts where the hand-written matchers must find what the
// regexps find: boundaries, runs cut short, partial frames.
var handCases = []string{
	"foo_release() and foo()", "x_y(), ab(), abc()", "io_req_task_work_add+0x291/0x4f2\n kasan_report+0xb5/0xe0",
	"Foo_bar() fooBar() foo1() 1foo() _ab() __x()", "a.foo() é_foo() éfoo() x+foo()", "foo+0x/0x1 foo+0x1/0x foo+0x1/0X1 foo+0X1/0x1",
	"foo+0x1g/0x2 foo+0x1/0x2g foo+0x12/0x34+0x5/0x6", "foo+0x1/0x2() foo()()", "sk_alloc+0x10/0x80sk_free()", "abc(", "abc+0x1/",
	"abc+0x1/0x1abc+0x2/0x2", "\xffabc() \xc3abc()", "",
	"6.1 v6.1.87 V5.4-rc3 linux-6.6.30-generic LINUX-4.19.0+ 5.14.0-503.el9 6.8.0-51-generic",
	"x6.1 6.1x 1.2.3.4 12.34.567 123.4 1.234 1.2.3456 6.1-rc 6.1-rc123 6.1-RC1 6.1.2-rc3-foo.bar~baz+",
	"6.1-\u017fuffix 6.1.\u212a 6.1-\u212a\u017f_x 6.1-\u0130 v.1 v1. vv1.2 linux-v1.2 linux-linux-1.2 ¦6.1 é6.1",
	"6.1++ 6.1+a+ 6.1-+ 6.1.-a 6.1.2.3-rc1 6.1-rc1.2 6.1\xff.2 \xc5\xbf 6.1-\xc5",
}

func sameAsHand(t testing.TB, expr string, h handMatcher, s string) {
	t.Helper()
	re := regexp.MustCompile(expr)
	for _, n := range []int{-1, 1, 2} {
		want, got := re.FindAllStringSubmatchIndex(s, n), h(s, n)
		if !assert.Equal(t, want, got, "%s, n=%d, on %q", expr, n, s) {
			return
		}
	}
}

// Each hand-written matcher finds what Go's regexp finds, groups and all,
// on the hand-made cases and on every part of the corpus, the examples,
// the rule cases and synthetic reports; and the built-in pack's pattern
// uses it.
func TestHandMatchersEqualRegexp(t *testing.T) {
	for expr, h := range handMatchers {
		for _, s := range handCases {
			sameAsHand(t, expr, h, s)
		}
	}
	if testing.Short() {
		return
	}
	var texts []string
	for _, r := range equalityReports(t) {
		for _, p := range r.Parts() {
			texts = append(texts, p.Text)
		}
	}
	for expr, h := range handMatchers {
		for _, s := range texts {
			sameAsHand(t, expr, h, s)
		}
	}
	e := kernelEngine(t)
	used := 0
	for _, p := range packPatterns(e.pack, e.rules) {
		if p.hand != nil {
			used++
		}
	}
	require.Equal(t, len(handMatchers), used, "every hand-written matcher is for a pattern of the built-in pack")
}

func FuzzHandMatchers(f *testing.F) {
	for _, s := range handCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for expr, h := range handMatchers {
			sameAsHand(t, expr, h, s)
		}
	})
}
