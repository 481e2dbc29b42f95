package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/maintainers"
)

// Flags of the commands that advise on reports or answer them.
var (
	maintainersFlag = &cli.StringFlag{
		Name:  "maintainers",
		Usage: "the kernel's MAINTAINERS `FILE`: name the maintainers and lists of the files a report cites, as get_maintainer.pl does",
	}
	replyTemplateFlag = &cli.StringFlag{
		Name:  "reply-template",
		Usage: "reply wording: NAME@VERSION (built-in: " + strings.Join(replies.List(), ", ") + ") or a template `FILE`",
	}
)

// loadMaintainers reads --maintainers, or returns nil when it is not set.
// Entries Go cannot compile are reported on standard error.
func loadMaintainers(c *cli.Context) (*maintainers.File, error) {
	path := c.String(maintainersFlag.Name)
	if path == "" {
		return nil, nil
	}
	m, err := maintainers.Load(path)
	if err != nil {
		return nil, usageErr("--maintainers: %w", err)
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "secscreen: %s: %s\n", path, w)
	}
	return m, nil
}

// adviceOptions are the advice settings the flags give.
func adviceOptions(c *cli.Context, p *pipeline) (advice.Options, error) {
	m, err := loadMaintainers(c)
	if err != nil {
		return advice.Options{}, err
	}
	return advice.Options{ThreatModel: p.tm, Maintainers: m, AIAssisted: c.Bool("ai-assisted")}, nil
}

// newDrafter returns the drafter of the replies, in dir or onto out,
// with the --reply-template wording.
func newDrafter(c *cli.Context, dir string, out io.Writer, opt advice.Options) (*replies.Drafter, error) {
	tpl, err := replies.Resolve(c.String(replyTemplateFlag.Name))
	if err != nil {
		return nil, usageErr("--reply-template: %w", err)
	}
	return &replies.Drafter{Dir: dir, Out: out, Log: c.App.ErrWriter, Template: tpl, Advice: opt}, nil
}
