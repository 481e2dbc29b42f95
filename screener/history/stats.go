package history

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Stats sums a history up: entries per week by verdict and category, and
// the largest clusters of duplicates.
type Stats struct {
	// Entries counts the reports in the history; Labeled those the team
	// labeled; Duplicates those found to duplicate an earlier one.
	Entries    int `json:"entries"`
	Labeled    int `json:"labeled"`
	Duplicates int `json:"duplicates"`
	// Weeks counts entries by the ISO week they were first screened in,
	// oldest first, by final verdict and category (the team's label when
	// there is one).
	Weeks []Week `json:"weeks"`
	// Clusters are the largest groups of reports linked by duplicate_of,
	// largest first.
	Clusters []Cluster `json:"clusters"`
}

// Week is one ISO week's counts.
type Week struct {
	Week       string                      `json:"week"` // "2025-W09"
	Start      time.Time                   `json:"start"`
	Total      int                         `json:"total"`
	ByVerdict  map[threatmodel.Verdict]int `json:"by_verdict"`
	ByCategory map[string]int              `json:"by_category"`
}

// Cluster is a group of reports about one bug, as duplicate detection
// linked them.
type Cluster struct {
	// Size counts its reports.
	Size int `json:"size"`
	// First is its earliest report.
	First Summary `json:"first"`
	// Members are the history ids of its reports, oldest first.
	Members []int64 `json:"members"`
	// Verdicts counts the members' final verdicts.
	Verdicts map[threatmodel.Verdict]int `json:"verdicts"`
	// Signals counts how the links were found (exact, crash, near...).
	Signals map[string]int `json:"signals"`
}

// Summary names an entry in one line.
type Summary struct {
	HistoryID int64               `json:"history_id"`
	ID        string              `json:"id"`
	Subject   string              `json:"subject"`
	Verdict   threatmodel.Verdict `json:"verdict"`
	Category  string              `json:"category"`
	Labeled   bool                `json:"labeled,omitempty"`
}

func summaryOf(e Entry) Summary {
	v, c, l := e.Final()
	return Summary{HistoryID: e.HistoryID, ID: e.ID, Subject: e.Subject, Verdict: v, Category: c, Labeled: l}
}

// ComputeStats reads the whole history once and returns its Stats with at
// most maxClusters clusters.
func ComputeStats(ctx context.Context, s Store, maxClusters int) (Stats, error) {
	var st Stats
	weeks := map[string]*Week{}
	parent := map[int64]int64{}
	var find func(int64) int64
	find = func(x int64) int64 {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	union := func(a, b int64) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		// The older entry is the root.
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra
		parent[ra] = ra
	}
	info := map[int64]Summary{}
	linkSignals := map[int64][]string{} // by entry: how it was linked
	err := s.Each(ctx, false, func(e Entry) error {
		st.Entries++
		if e.Label != nil {
			st.Labeled++
		}
		v, c, _ := e.Final()
		y, w := e.FirstSeen.ISOWeek()
		key := fmt.Sprintf("%04d-W%02d", y, w)
		wk := weeks[key]
		if wk == nil {
			wk = &Week{Week: key, Start: weekStart(e.FirstSeen), ByVerdict: map[threatmodel.Verdict]int{}, ByCategory: map[string]int{}}
			weeks[key] = wk
		}
		wk.Total++
		wk.ByVerdict[v]++
		wk.ByCategory[c]++
		linked := false
		for _, d := range e.DuplicateOf {
			if d.HistoryID > 0 && d.HistoryID != e.HistoryID {
				union(e.HistoryID, d.HistoryID)
				linkSignals[e.HistoryID] = append(linkSignals[e.HistoryID], d.Signal)
				linked = true
			}
		}
		if linked {
			st.Duplicates++
		}
		return nil
	})
	if err == nil && len(parent) > 0 {
		// A second pass names the linked entries only: an entry is read
		// before the ones that link to it.
		err = s.Each(ctx, false, func(e Entry) error {
			if _, ok := parent[e.HistoryID]; ok {
				info[e.HistoryID] = summaryOf(e)
			}
			return nil
		})
	}
	if err != nil {
		return Stats{}, err
	}
	for _, k := range slices.Sorted(maps.Keys(weeks)) {
		st.Weeks = append(st.Weeks, *weeks[k])
	}
	groups := map[int64][]int64{}
	for id := range parent {
		r := find(id)
		groups[r] = append(groups[r], id)
	}
	for root, members := range groups {
		if len(members) < 2 {
			continue
		}
		slices.Sort(members)
		c := Cluster{Size: len(members), First: info[root], Members: members, Verdicts: map[threatmodel.Verdict]int{}, Signals: map[string]int{}}
		for _, m := range members {
			c.Verdicts[info[m].Verdict]++
			for _, sig := range linkSignals[m] {
				c.Signals[sig]++
			}
		}
		st.Clusters = append(st.Clusters, c)
	}
	slices.SortFunc(st.Clusters, func(a, b Cluster) int {
		return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.First.HistoryID, b.First.HistoryID))
	})
	if maxClusters >= 0 && len(st.Clusters) > maxClusters {
		st.Clusters = st.Clusters[:maxClusters]
	}
	return st, nil
}

// weekStart is the Monday 00:00 UTC of t's ISO week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-d, 0, 0, 0, 0, time.UTC)
}

// WriteText writes the stats for a person: a line per week, then the
// clusters.
func (st Stats) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d reports, %d labeled by the team, %d duplicates of earlier ones\n", st.Entries, st.Labeled, st.Duplicates)
	if len(st.Weeks) > 0 {
		b.WriteString("\nper week (first screened; the team's label when there is one):\n")
		for _, wk := range st.Weeks {
			fmt.Fprintf(&b, "  %s (from %s)  %4d  %s\n", wk.Week, wk.Start.Format("2006-01-02"), wk.Total, countList(wk.ByVerdict))
			fmt.Fprintf(&b, "  %28s  %s\n", "", countList(wk.ByCategory))
		}
	}
	if len(st.Clusters) > 0 {
		b.WriteString("\nlargest duplicate clusters:\n")
		for _, c := range st.Clusters {
			fmt.Fprintf(&b, "  %3d reports  #%d %s %q\n", c.Size, c.First.HistoryID, c.First.ID, c.First.Subject)
			fmt.Fprintf(&b, "               verdicts: %s; linked by: %s; members: %s\n", countList(c.Verdicts), countList(c.Signals), idList(c.Members, 12))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// countList prints counts largest first, then by name: "a 3, b 1".
func countList[K ~string](m map[K]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b K) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := k
		if name == "" {
			name = "(none)"
		}
		parts[i] = fmt.Sprintf("%s %d", name, m[k])
	}
	return strings.Join(parts, ", ")
}

func idList(ids []int64, n int) string {
	var parts []string
	for i, id := range ids {
		if i == n {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(ids)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("#%d", id))
	}
	return strings.Join(parts, " ")
}
