package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener"
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

// draftWriter drafts the reply to each result that gets one: into a
// directory, one file each, or onto out as an mbox. It logs each draft
// and skip on log.
type draftWriter struct {
	dir      string
	out, log io.Writer
	tpl      *replies.Template
	opt      advice.Options
	now      func() time.Time

	written, skipped int
}

func newDraftWriter(c *cli.Context, dir string, out io.Writer, opt advice.Options) (*draftWriter, error) {
	tpl, err := replies.Resolve(c.String(replyTemplateFlag.Name))
	if err != nil {
		return nil, usageErr("--reply-template: %w", err)
	}
	return &draftWriter{dir: dir, out: out, log: c.App.ErrWriter, tpl: tpl, opt: opt, now: time.Now}, nil
}

// add drafts the reply to res, or counts it as skipped.
func (w *draftWriter) add(res screener.Result) error {
	if why := replies.Skip(res); why != "" {
		w.skipped++
		return nil
	}
	now := w.now()
	d, err := replies.Compose(res, advice.Build(res, w.opt), replies.Options{Template: w.tpl, Now: now})
	if err != nil {
		return err
	}
	where := "standard output"
	if w.dir != "" {
		if where, err = replies.WriteDir(w.dir, d); err != nil {
			return err
		}
	} else if err := replies.WriteMbox(w.out, d, now); err != nil {
		return fmt.Errorf("write reply: %w", err)
	}
	w.written++
	fmt.Fprintf(w.log, "reply to %s (%s/%s): %s\n", res.ID, res.Verdict, res.Category, where)
	for _, n := range d.Notes {
		fmt.Fprintf(w.log, "  note: %s\n", n)
	}
	return nil
}

// summary is the one-line account of the drafts.
func (w *draftWriter) summary() string {
	where := "to standard output"
	if w.dir != "" {
		where = "in " + w.dir
	}
	return fmt.Sprintf("%d replies drafted %s with %s; %d reports not answered by a draft (security bugs, reports held private, error rows)",
		w.written, where, w.tpl.ID(), w.skipped)
}
