package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp()
	cases := []struct{ in, want []string }{
		{[]string{"secscreen", "screen", "inbox/", "-f", "json", "--verbose", "b.eml"},
			[]string{"secscreen", "screen", "-f", "json", "--verbose", "inbox/", "b.eml"}},
		{[]string{"secscreen", "screen", "-", "--format=csv"},
			[]string{"secscreen", "screen", "--format=csv", "-"}},
		{[]string{"secscreen", "screen", "a", "--", "-odd-name.eml"},
			[]string{"secscreen", "screen", "a", "--", "-odd-name.eml"}},
		{[]string{"secscreen", "rules", "explain", "r.eml", "--rules", "extra.yaml"},
			[]string{"secscreen", "rules", "explain", "--rules", "extra.yaml", "r.eml"}},
		{[]string{"secscreen", "eval", "compare", "a.json", "b.json", "--json", "-"},
			[]string{"secscreen", "eval", "compare", "--json", "-", "a.json", "b.json"}},
		{[]string{"secscreen", "--help"}, []string{"secscreen", "--help"}},
		{[]string{"secscreen", "nosuch", "x", "-f"}, []string{"secscreen", "nosuch", "x", "-f"}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, flagsFirst(app, tc.in), "%v", tc.in)
	}
}

func TestScreenAcceptsFlagsAfterInputs(t *testing.T) {
	isolate(t)
	code, out, errOut := secscreen(t, "screen", "../../examples/05-vague-report.txt", "--backend", "rules", "-f", "jsonl")
	assert.Equal(t, exitOK, code, errOut)
	assert.Len(t, jsonl(t, out), 1)
}
