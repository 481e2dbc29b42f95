package eval

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sync"
)

//go:embed report.html.tmpl
var htmlTemplate string

// reportTemplate is parsed on first use, so that a run writing no HTML
// report pays nothing for it.
var reportTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"half":   func(x float64) float64 { return x / 2 },
		"byTrue": func(m map[string]int) string { return byTrue(m, 0) },
	}).Parse(htmlTemplate))
})

// svgText is a label placed in an SVG drawing.
type svgText struct {
	X, Y   float64
	Text   string
	Anchor string
	Rotate bool
}

// heatCell is one cell of the confusion heatmap.
type heatCell struct {
	X, Y, W, H float64
	Fill       string
	Ink        string
	Count      int
	Title      string
}

// heatmap is an SVG confusion matrix.
type heatmap struct {
	Width, Height float64
	Cells         []heatCell
	Labels        []svgText
	ShowCounts    bool
}

// reliabilityBar is one bin of the reliability diagram.
type reliabilityBar struct {
	X, Y, W, H float64
	Title      string
}

// reliabilityPlot is an SVG reliability diagram.
type reliabilityPlot struct {
	Name          string
	Width, Height float64
	Left, Top     float64
	Size          float64
	Bars          []reliabilityBar
	Ticks         []svgText
	Diagonal      [4]float64
}

// htmlView is what the template renders.
type htmlView struct {
	Title      string
	CrossCheck []htmlCrossCheck
	Review     string
	Run        *RunJSON
	Headline   []htmlMetric
	Columns    []string
	Heatmap    heatmap
	Category   heatmap
	Plots      []reliabilityPlot
	Wrong      []Row
}

type htmlCrossCheck struct {
	CrossCheckLine
	Name string
}

type htmlMetric struct {
	Name   string
	Values []string
}

// buildHeatmap lays out m as a grid of square cells of the given size,
// shaded by each cell's share of its row: the diagonal blue, errors red.
// The NoAnswer row (always empty: no label is "no answer") is left out;
// its column stays. Counts are printed when showCounts is set; every cell
// has a tooltip.
func buildHeatmap(m Matrix, size, labelSpan float64, showCounts bool) heatmap {
	rows := displayRows(m)
	cols := float64(len(m.Labels))
	h := heatmap{Width: 2*labelSpan + cols*size, Height: labelSpan + float64(len(rows))*size + 10, ShowCounts: showCounts}
	for j, l := range m.Labels {
		h.Labels = append(h.Labels, svgText{X: labelSpan + float64(j)*size + size/2, Y: labelSpan - 6, Text: l, Anchor: "start", Rotate: true})
	}
	for r, i := range rows {
		l := m.Labels[i]
		y := labelSpan + float64(r)*size
		h.Labels = append(h.Labels, svgText{X: labelSpan - 6, Y: y + size/2 + 4, Text: l, Anchor: "end"})
		total := 0
		for _, c := range m.Counts[i] {
			total += c
		}
		for j, c := range m.Counts[i] {
			share := 0.0
			if total > 0 {
				share = float64(c) / float64(total)
			}
			cl := heatCell{X: labelSpan + float64(j)*size, Y: y, W: size - 2, H: size - 2, Count: c,
				Title: fmt.Sprintf("true %s, predicted %s: %d", l, m.Labels[j], c)}
			light := 97 - 55*share
			hue := 10
			if i == j {
				hue = 210
			}
			cl.Fill = fmt.Sprintf("hsl(%d, 70%%, %.0f%%)", hue, light)
			cl.Ink = "#111"
			if light < 60 {
				cl.Ink = "#fff"
			}
			h.Cells = append(h.Cells, cl)
		}
	}
	return h
}

// displayRows are the row indexes of m worth showing: all but an empty
// NoAnswer row.
func displayRows(m Matrix) []int {
	var rows []int
	for i, l := range m.Labels {
		if l == NoAnswer && slices.Max(append([]int{0}, m.Counts[i]...)) == 0 {
			continue
		}
		rows = append(rows, i)
	}
	return rows
}

// buildReliability draws accuracy per confidence bin against the diagonal
// of perfect calibration.
func buildReliability(name string, bins []Bin) reliabilityPlot {
	const size, left, top = 240.0, 40.0, 10.0
	p := reliabilityPlot{Name: name, Width: left + size + 20, Height: top + size + 40, Left: left, Top: top, Size: size,
		Diagonal: [4]float64{left, top + size, left + size, top}}
	for _, b := range bins {
		if b.N == 0 {
			continue
		}
		hgt := float64(b.Accuracy) * size
		p.Bars = append(p.Bars, reliabilityBar{
			X: left + b.Lo*size + 1, W: (b.Hi-b.Lo)*size - 2, Y: top + size - hgt, H: hgt,
			Title: fmt.Sprintf("confidence %.1f–%.1f: %d predictions, mean confidence %s, accuracy %s", b.Lo, b.Hi, b.N, b.Confidence, b.Accuracy),
		})
	}
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		p.Ticks = append(p.Ticks,
			svgText{X: left + v*size, Y: top + size + 16, Text: fmt.Sprintf("%.2g", v), Anchor: "middle"},
			svgText{X: left - 4, Y: top + size - v*size + 4, Text: fmt.Sprintf("%.2g", v), Anchor: "end"})
	}
	return p
}

// WriteHTML writes the run as one self-contained HTML page (no external
// assets): headline metrics, an SVG heatmap of the final verdict confusion
// matrix, reliability diagrams, rule statistics and every wrong or failed
// report. html/template escapes everything that comes from reports.
func (r *RunJSON) WriteHTML(w io.Writer) error {
	v := htmlView{Title: r.title(), Run: r, Heatmap: buildHeatmap(r.Final.VerdictConfusion, 56, 120, true),
		Category: buildHeatmap(r.Final.CategoryConfusion, 16, 190, false)}
	for _, l := range r.CrossCheck {
		v.CrossCheck = append(v.CrossCheck, htmlCrossCheck{CrossCheckLine: l, Name: r.predictorName(l.Predictor)})
	}
	v.Review = r.reviewLine()
	cols := r.columns()
	for _, c := range cols {
		v.Columns = append(v.Columns, c.name)
		// Name the voter (the model column is the backend, e.g. the
		// baseline) and its calibration error beside its diagram.
		v.Plots = append(v.Plots, buildReliability(r.predictorName(c.name)+", ECE "+c.s.ECE.String(), c.s.Reliability))
	}
	for _, m := range headline {
		hm := htmlMetric{Name: m.name}
		for _, c := range cols {
			hm.Values = append(hm.Values, m.get(c.s))
		}
		v.Headline = append(v.Headline, hm)
	}
	for _, row := range r.Rows {
		if !row.Correct || !row.CategoryCorrect {
			v.Wrong = append(v.Wrong, row)
		}
	}
	if err := reportTemplate().Execute(w, v); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}
