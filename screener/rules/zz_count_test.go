package rules

import (
	"fmt"
	"testing"

	"github.com/secscreen/secscreen/internal/benchsupport"
)

func TestZZCountMatchers(t *testing.T) {
	rs := benchsupport.SynthReports(t, 3, 3)
	for _, r := range rs {
		set, _, _ := kernelFromGenerated()
		e, _ := NewEngine(kernelEngine(t).tm, set, Options{})
		e.Evaluate(r)
		n, nr, insts, states := 0, 0, 0, 0
		for _, p := range packPatterns(e.pack, e.rules) {
			if p.m != nil {
				n++
				insts += len(p.m.prog.Inst)
				states += len(p.m.fwd.states)
				if p.m.rev != nil {
					nr++
					states += len(p.m.rev.states)
				}
			}
		}
		fmt.Println("patterns", len(packPatterns(e.pack, e.rules)), "matchers", n, "reverse", nr, "insts", insts, "states", states)
	}
}
