package cliapp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"
)

func TestFlagsFirst(t *testing.T) {
	str := func(name string, aliases ...string) cli.Flag { return &cli.StringFlag{Name: name, Aliases: aliases} }
	app := &cli.App{Commands: []*cli.Command{
		{Name: "screen", Flags: []cli.Flag{str("format", "f"), &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}}}},
		{Name: "rules", Subcommands: []*cli.Command{{Name: "explain", Flags: []cli.Flag{str("rules")}}}},
		{Name: "eval", Flags: []cli.Flag{str("json")}, Subcommands: []*cli.Command{{Name: "compare", Flags: []cli.Flag{str("json")}}}},
	}}
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
		assert.Equal(t, tc.want, FlagsFirst(app, tc.in), "%v", tc.in)
	}
}
