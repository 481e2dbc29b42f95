// Package advice turns a screening result into advice for a person about
// one report: the verdict and the clause of the threat model that decides
// it, where to send the report (with the maintainers and lists MAINTAINERS
// names, when given), what is missing and how to fix the report, a
// completeness checklist from the kernel's reporting rules, and a
// checklist for AI-assisted reports. secscreen check prints it; secscreen
// reply words its drafted answers from it.
//
// The routing follows the kernel's reporting rules: a security bug goes
// privately to the subsystem's maintainers with the security team in Cc
// (the security team alone when no maintainer can be found), never with
// the linux-distros list; an ordinary bug goes publicly to the maintainers
// and their list with LKML in Cc; vendor kernels, forks and out-of-tree
// modules go to their vendor. A bug found with AI tools is treated as
// public (the kernel expects others to find it too), but only when the
// report or the reporter says a tool helped, never from its style alone,
// and its reproducer is not posted publicly.
package advice

import (
	"math"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/maintainers"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Contacts are the addresses the reporting rules name.
type Contacts struct {
	// SecurityTeam receives security bugs (in Cc of the maintainers).
	SecurityTeam string `json:"security_team"`
	// GeneralList is Cc'ed on ordinary bugs (LKML).
	GeneralList string `json:"general_list"`
	// StableList receives regressions within a stable series.
	StableList string `json:"stable_list"`
	// Distros is the list never to Cc together with the security team.
	Distros string `json:"distros"`
}

// KernelContacts returns the Linux kernel's addresses.
func KernelContacts() Contacts {
	return Contacts{
		SecurityTeam: "security@kernel.org",
		GeneralList:  "linux-kernel@vger.kernel.org",
		StableList:   "stable@vger.kernel.org",
		Distros:      "linux-distros@vs.openwall.org",
	}
}

// Options configure Build.
type Options struct {
	// ThreatModel names the clauses; nil means the built-in kernel model.
	ThreatModel *threatmodel.Model
	// Routes say where each verdict and category goes; zero means
	// screener.DefaultRoutes().
	Routes screener.Routes
	// Maintainers, when set, names the people and lists for the files the
	// report cites.
	Maintainers *maintainers.File
	// Contacts are the fixed addresses; zero means KernelContacts().
	Contacts Contacts
	// AIAssisted is the reporter saying a tool helped find or write the
	// report (the report saying so counts too).
	AIAssisted bool
}

// Action is what the advice says to do with the report.
type Action string

// The actions, each with its exit code in secscreen check.
const (
	// SendSecurity: send it privately to the maintainers and the security
	// team (exit 0).
	SendSecurity Action = "send-to-security-team"
	// SendOrdinary: not for the security team; send it as an ordinary bug,
	// publicly to the maintainers and list, or to the vendor (exit 3).
	SendOrdinary Action = "send-as-ordinary-bug"
	// FixFirst: the report lacks what deciding it needs; complete it and
	// check again before sending anything (exit 4).
	FixFirst Action = "complete-the-report-first"
	// DoNotSend: not a bug (exit 5).
	DoNotSend Action = "do-not-send"
)

// Advice is everything check tells a person about one report.
type Advice struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	// Label and Confidence are the screening's decision ("verdict",
	// "category" and "confidence" on the wire).
	threatmodel.Label
	Confidence float64 `json:"confidence"`
	// Clause is the threat model's clause that decides it.
	Clause Clause `json:"clause"`
	// Action is what to do; Headline says it in one sentence.
	Action   Action `json:"action"`
	Headline string `json:"headline"`
	// Send says where the report goes.
	Send Send `json:"send"`
	// Missing explains each piece of information the report lacks.
	Missing []Item `json:"missing"`
	// Fixes says how to improve the report, most important first.
	Fixes []string `json:"fixes"`
	// Completeness is the checklist of the reporting rules: required
	// items, then desirable ones.
	Completeness []Item `json:"completeness"`
	// AIAssisted says whether a tool helped, as the reporter or the
	// report says; AIStyle lists the signs of tool-written text.
	AIAssisted bool     `json:"ai_assisted"`
	AIStyle    []string `json:"ai_style"`
	// AIChecklist is what the kernel asks of AI-assisted reports.
	AIChecklist []Item `json:"ai_checklist"`
	// Uncertain says why a person should not trust the verdict blindly
	// (the screening's review reason), or is empty.
	Uncertain string `json:"uncertain,omitempty"`
	// Sections are the MAINTAINERS sections matched, most specific first.
	Sections []Section `json:"sections"`
	// SourceCheck is the source tree's check of the cited code, if any.
	SourceCheck *sourcetree.Check `json:"source_check"`
}

// Clause is a threat-model clause, quoted.
type Clause struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

// Send says where a report should go.
type Send struct {
	// Where says it in words.
	Where string `json:"where"`
	// Public is true when that place is readable by anyone.
	Public bool `json:"public"`
	// To and Cc are addresses, when they are known.
	To []string `json:"to"`
	Cc []string `json:"cc"`
	// NotTo lists addresses the report must not go to.
	NotTo []string `json:"not_to"`
	// Notes are the rules that apply, one sentence each.
	Notes []string `json:"notes"`
}

// Section is a matched MAINTAINERS section, briefly.
type Section struct {
	Name        string   `json:"name"`
	Status      string   `json:"status,omitempty"`
	By          string   `json:"by"`
	Paths       []string `json:"paths,omitempty"`
	Maintainers []string `json:"maintainers,omitempty"`
	// CatchAll marks the section that covers every file (THE REST).
	CatchAll bool `json:"catch_all,omitempty"`
}

// Status is an item's state in a checklist.
type Status string

// The states of a checklist item.
const (
	OK      Status = "ok"
	Weak    Status = "weak"    // present, but not as the rules ask
	Lacking Status = "missing" // absent
	Unknown Status = "unknown" // cannot be told from the report
)

// Item is one entry of a checklist.
type Item struct {
	// ID names the item: "version", "reproducer", "plain-text", ...
	ID string `json:"id"`
	// What says what the rules ask for.
	What string `json:"what"`
	// Required is true for what every report must have.
	Required bool `json:"required,omitempty"`
	// Status is ok, weak, missing or unknown.
	Status Status `json:"status"`
	// Detail says what was found, or what to do.
	Detail string `json:"detail,omitempty"`
}

// Build advises on one screened report. The result must come from
// screener.Screen (its Report and Facts are read); an error row gets an
// Advice with only its identity.
func Build(res screener.Result, opt Options) Advice {
	opt = opt.withDefaults()
	a := Advice{
		ID: res.ID, Subject: res.Subject,
		Label: res.Label, Confidence: math.Round(res.Confidence*1000) / 1000,
		SourceCheck: res.SourceCheck,
		Missing:     []Item{}, Fixes: []string{}, Completeness: []Item{}, AIChecklist: []Item{}, AIStyle: []string{}, Sections: []Section{},
		Send: Send{To: []string{}, Cc: []string{}, NotTo: []string{}, Notes: []string{}},
	}
	if c, ok := opt.ThreatModel.Clause(res.Category); ok {
		a.Clause = Clause{ID: c.ID, Title: c.Title, Summary: c.Summary}
	}
	r, f := res.Report(), res.Facts()
	if r == nil {
		r = &intake.Report{ID: res.ID, Subject: res.Subject}
	}
	if f == nil {
		f = &rules.Facts{}
	}
	text := scan(reportText(r))
	a.AIAssisted = opt.AIAssisted || aiDisclosed(text)
	a.AIStyle = append(a.AIStyle, f.AIMarkers...)
	if len(f.CVSS) > 0 {
		a.AIStyle = append(a.AIStyle, "cvss")
	}
	if res.NeedsReview {
		a.Uncertain = res.ReviewReason
	}
	for _, id := range res.Missing {
		a.Missing = append(a.Missing, missingItem(id))
	}
	a.Completeness = completeness(r, f, text)
	a.AIChecklist = aiChecklist(r, f, text, res.SourceCheck, a.AIAssisted, a.AIStyle)

	var rcpt maintainers.Recipients
	if opt.Maintainers != nil {
		ms := opt.Maintainers.Match(f.Files, text.text)
		for _, m := range ms {
			a.Sections = append(a.Sections, Section{Name: m.Section.Name, Status: m.Section.Status, By: m.By, Paths: m.Paths,
				Maintainers: m.Section.Maintainers, CatchAll: m.Section.CatchAll()})
		}
		rcpt = maintainers.RecipientsOf(ms)
	}
	a.route(res, opt, rcpt)
	a.Fixes = fixes(a)
	return a
}

func (o Options) withDefaults() Options {
	if o.ThreatModel == nil {
		o.ThreatModel = threatmodel.Kernel()
	}
	if o.Routes.Verdicts == nil {
		o.Routes = screener.DefaultRoutes()
	}
	if o.Contacts == (Contacts{}) {
		o.Contacts = KernelContacts()
	}
	return o
}

// heldPrivate reports whether the screening kept the route private
// because a voter says security while the verdict is another one.
func heldPrivate(res screener.Result) bool {
	return res.Verdict != threatmodel.Security && slices.Contains(res.ReviewFlags, screener.FlagHeldPrivate)
}

// route fills Action, Headline and Send.
func (a *Advice) route(res screener.Result, opt Options, rcpt maintainers.Recipients) {
	c := opt.Contacts
	s := &a.Send
	clause := a.Clause.ID
	if a.Clause.Title != "" {
		clause += ": " + a.Clause.Title
	}
	route := opt.Routes.Of(res.Verdict, res.Category)
	s.Where, s.Public = route.To, route.Public
	switch {
	case res.Verdict == threatmodel.Security || heldPrivate(res) && res.Verdict != threatmodel.NeedsInfo:
		a.Action = SendSecurity
		a.Headline = "Send it privately to the subsystem's maintainers with the security team in Cc."
		if heldPrivate(res) {
			a.Headline = "Probably not a security bug (" + clause + "), but part of the screening says it is: " +
				"send it privately to the maintainers with the security team in Cc, and let them decide."
		}
		secRoute := opt.Routes.Verdicts[threatmodel.Security]
		s.Where, s.Public = secRoute.To, secRoute.Public
		s.To = append(s.To, rcpt.Maintainers...)
		s.To = append(s.To, rcpt.Reviewers...)
		s.Cc = []string{c.SecurityTeam}
		s.NotTo = []string{c.Distros}
		switch {
		case opt.Maintainers == nil:
			s.Notes = append(s.Notes, "Find the maintainers with scripts/get_maintainer.pl on the files involved (or run check with --maintainers MAINTAINERS); send to the security team alone only when there are none.")
		case !specific(a.Sections):
			s.To, s.Cc = []string{c.SecurityTeam}, []string{}
			s.Notes = append(s.Notes, "No maintainer could be identified for the cited files: send it to the security team alone.")
		}
		if len(rcpt.Orphans) > 0 {
			s.Notes = append(s.Notes, "Orphaned or unmaintained: "+strings.Join(rcpt.Orphans, ", ")+".")
		}
		if a.AIAssisted {
			a.Headline = "Send it to the subsystem's maintainers and their list with the security team in Cc: a bug found with AI tools is treated as public, but its reproducer stays private."
			s.Where = "the subsystem maintainers and their mailing list, with " + c.SecurityTeam + " in Cc; public, because a tool found it, except the reproducer"
			s.Public = true
			s.Cc = append(s.Cc, rcpt.Lists...)
			s.Notes = append(s.Notes, "A tool helped find it: the kernel treats bugs found with AI tools as public, because others are likely to find them too. "+
				"The report may go to the subsystem's public list, but do not post the reproducer publicly: say that you have one and send it to the maintainers on request.")
		} else {
			s.NotTo = append(s.NotTo, "public mailing lists (unless the bug is already public)")
		}
		s.Notes = append(s.Notes,
			"Never Cc "+c.Distros+" together with the security team: contact it only after the maintainers have accepted a fix.",
			"One issue per message, plain text, and stay reachable to answer questions and test fixes.")
	case res.Verdict == threatmodel.NotSecurity:
		a.Action = SendOrdinary
		a.Headline = "Not a security bug under the threat model (" + clause + "): send it as an ordinary bug, not to the security team."
		s.NotTo = []string{c.SecurityTeam}
		switch res.Category {
		case "config.out-of-tree", "config.outdated":
			a.Headline = "Not a security bug for the kernel (" + clause + "): report it to the vendor of that kernel or module."
		default:
			s.To = append(s.To, rcpt.Maintainers...)
			s.To = append(s.To, rcpt.Reviewers...)
			s.Cc = append(s.Cc, rcpt.Lists...)
			if !slices.Contains(s.Cc, c.GeneralList) {
				s.Cc = append(s.Cc, c.GeneralList)
			}
			if res.Category == "regression.mitigable" {
				s.Notes = append(s.Notes, "A regression within a stable series goes to "+c.StableList+" too.")
			}
			if opt.Maintainers == nil {
				s.Notes = append(s.Notes, "Find the maintainers and list with scripts/get_maintainer.pl (or run check with --maintainers MAINTAINERS).")
			}
		}
	case res.Verdict == threatmodel.NeedsInfo:
		a.Action = FixFirst
		a.Headline = "Not ready to send: it cannot be decided without what is missing (" + clause + "). Complete it and check again."
		if heldPrivate(res) {
			a.Headline += " Part of the screening says it may be a security bug: when it is complete, send it privately."
		}
		s.Where = "nowhere yet: complete the report first"
	default:
		a.Action = DoNotSend
		a.Headline = "Not a bug as reported (" + clause + "): do not send it."
		s.Where = "nowhere: verify the finding on a current kernel first"
		s.NotTo = []string{c.SecurityTeam}
	}
}

// specific reports whether a matched section other than the catch-all
// names a maintainer.
func specific(ss []Section) bool {
	return slices.ContainsFunc(ss, func(s Section) bool { return !s.CatchAll && len(s.Maintainers) > 0 })
}

// reportText is the report's subject, body and text attachments.
func reportText(r *intake.Report) string {
	var b strings.Builder
	for _, p := range r.Parts() {
		b.WriteString(p.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
