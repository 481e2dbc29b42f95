package eval

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var htmlTemplate string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"half": func(x float64) float64 { return x / 2 },
}).Parse(htmlTemplate))

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
	Title    string
	Run      *RunJSON
	Headline []htmlMetric
	Columns  []string
	Heatmap  heatmap
	Plots    []reliabilityPlot
	Wrong    []Row
}

type htmlMetric struct {
	Name   string
	Values []string
}

const (
	cell      = 56.0
	labelSpan = 120.0
)

// buildHeatmap lays out m as a grid of cells shaded by each row's share.
func buildHeatmap(m Matrix) heatmap {
	n := float64(len(m.Labels))
	h := heatmap{Width: labelSpan + n*cell + 10, Height: labelSpan + n*cell + 10}
	for i, l := range m.Labels {
		y := labelSpan + float64(i)*cell
		h.Labels = append(h.Labels,
			svgText{X: labelSpan - 6, Y: y + cell/2 + 4, Text: l, Anchor: "end"},
			svgText{X: labelSpan + float64(i)*cell + cell/2, Y: labelSpan - 6, Text: l, Anchor: "start", Rotate: true})
		total := 0
		for _, c := range m.Counts[i] {
			total += c
		}
		for j, c := range m.Counts[i] {
			share := 0.0
			if total > 0 {
				share = float64(c) / float64(total)
			}
			cl := heatCell{X: labelSpan + float64(j)*cell, Y: y, W: cell - 2, H: cell - 2, Count: c,
				Title: fmt.Sprintf("true %s, predicted %s: %d", l, m.Labels[j], c)}
			// Diagonal cells shade blue, off-diagonal red, by row share.
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
	v := htmlView{Title: r.title(), Run: r, Heatmap: buildHeatmap(r.Final.VerdictConfusion)}
	cols := r.columns()
	for _, c := range cols {
		v.Columns = append(v.Columns, c.name)
		v.Plots = append(v.Plots, buildReliability(c.name, c.s.Reliability))
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
	if err := reportTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}
