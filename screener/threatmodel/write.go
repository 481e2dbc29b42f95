package threatmodel

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// WriteText writes a readable listing of the model: a header naming the
// model and its source, then the clauses grouped by verdict (in the order
// of Verdicts), each with id, title, summary and section.
func (m *Model) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Threat model %s (%s): %d clauses\n", m.Name, m.Source, len(m.Clauses))
	for _, v := range Verdicts {
		ids := m.IDs(v)
		if len(ids) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s (%d)\n", v, len(ids))
		for _, id := range ids {
			c, _ := m.Clause(id)
			fmt.Fprintf(bw, "  %s: %s\n", c.ID, c.Title)
			if c.Summary != "" {
				fmt.Fprintf(bw, "      %s\n", c.Summary)
			}
			if c.Section != "" {
				fmt.Fprintf(bw, "      section: %s\n", c.Section)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write threat model: %w", err)
	}
	return nil
}

// WriteJSON writes the model as indented JSON: name, source and clauses in
// document order, each with the fields of Clause.
func (m *Model) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("write threat model as JSON: %w", err)
	}
	return nil
}
