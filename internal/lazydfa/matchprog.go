package lazydfa

import (
	"encoding/binary"
	"fmt"
	"regexp/syntax"

	"github.com/secscreen/secscreen/internal/progtab"
)

// A matchProg is a program as the automata read it: each instruction's op,
// next instruction and argument in fixed-width fields, and the rune
// classes with, for each set of runes an instruction reads, the classes
// it holds. All of it is worked out from a syntax.Prog once
// (appendMatchProg) and read in place from that encoding (readMatchProg):
// an automaton of a generated table's encoding allocates no program, no
// classes of instructions and no maps at first use. On a process's first
// report, decoding the injection detector's programs and working out
// their classes and sets was most of what the detector cost, mostly in
// page faults on the fresh memory they filled, and decoding the rules'
// programs a good part of what their Finders cost.
type matchProg struct {
	cls    *runeClasses
	nclass int // classes of runes, the edge of the text not counted
	start  uint32
	ninst  int
	wide   bool   // outs and args take 4 bytes an instruction, else 2
	ops    string // an instruction's syntax.InstOp, a byte each
	outs   string // an instruction's Out, little-endian
	// args holds an Alt's other branch (Arg), an EmptyWidth's
	// assertions, a Capture's slot, a rune instruction's set, and 0 for
	// the others.
	args string
	// inSet[s*nclass+c] is 1 when set s holds class c's runes, else 0.
	inSet string
}

// out returns the Out of instruction pc.
func (p *matchProg) out(pc uint32) uint32 { return p.word(p.outs, pc) }

// arg returns the argument of instruction pc (see matchProg.args).
func (p *matchProg) arg(pc uint32) uint32 { return p.word(p.args, pc) }

func (p *matchProg) word(s string, pc uint32) uint32 {
	if p.wide {
		i := 4 * pc
		return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
	}
	i := 2 * pc
	return uint32(s[i]) | uint32(s[i+1])<<8
}

// reads reports whether instruction pc, which reads a rune, reads the
// runes of class c.
func (p *matchProg) reads(pc uint32, c int) bool {
	return p.inSet[int(p.arg(pc))*p.nclass+c] != 0
}

// readsRuneOp reports whether an instruction of op reads a rune.
func readsRuneOp(op syntax.InstOp) bool {
	switch op {
	case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	return false
}

// appendMatchProg appends to dst the encoding of prog as a Matcher reads
// it: its rune classes (appendRuneClasses), the number of sets of runes
// and each set's classes (a byte per class), the start, the number of
// instructions and the width of a field (2 or 4), then every
// instruction's op, every Out and every argument.
func appendMatchProg(dst []byte, prog *syntax.Prog) []byte {
	cls := newRuneClasses(runeSets(prog))
	// Instructions that read the same runes share a set.
	set := make([]uint32, len(prog.Inst))
	index := map[string]uint32{}
	var inSet, key []byte
	for pc := range prog.Inst {
		in := &prog.Inst[pc]
		if !readsRuneOp(in.Op) {
			continue
		}
		key = append(key[:0], byte(in.Op), byte(in.Arg&uint32(syntax.FoldCase)))
		for _, r := range in.Rune {
			key = append(key, byte(r), byte(r>>8), byte(r>>16))
		}
		s, ok := index[string(key)]
		if !ok {
			s = uint32(len(index))
			index[string(key)] = s
			// Every rune of a class is read alike: its representative
			// tells.
			for _, r := range cls.rep {
				b := byte(0)
				if matchesRune(in, r) {
					b = 1
				}
				inSet = append(inSet, b)
			}
		}
		set[pc] = s
	}
	width := 2
	if len(prog.Inst) > 1<<16 {
		width = 4
	}
	dst = appendRuneClasses(dst, cls)
	dst = binary.AppendUvarint(dst, uint64(len(index)))
	dst = append(dst, inSet...)
	dst = binary.AppendUvarint(dst, uint64(prog.Start))
	dst = binary.AppendUvarint(dst, uint64(len(prog.Inst)))
	dst = append(dst, byte(width))
	for pc := range prog.Inst {
		dst = append(dst, byte(prog.Inst[pc].Op))
	}
	appendWord := func(dst []byte, v uint32) []byte {
		if width == 4 {
			return binary.LittleEndian.AppendUint32(dst, v)
		}
		return binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	for pc := range prog.Inst {
		dst = appendWord(dst, prog.Inst[pc].Out)
	}
	for pc := range prog.Inst {
		in := &prog.Inst[pc]
		var arg uint32
		switch {
		case in.Op == syntax.InstAlt, in.Op == syntax.InstAltMatch, in.Op == syntax.InstEmptyWidth, in.Op == syntax.InstCapture:
			arg = in.Arg
		case readsRuneOp(in.Op):
			arg = set[pc]
		}
		dst = appendWord(dst, arg)
	}
	return dst
}

// mustReadMatchProg is readMatchProg for an encoding that a generated
// table's test reads (or that was just made): one that does not read
// panics, naming what it is.
func mustReadMatchProg(enc, what string) *matchProg {
	p, err := readMatchProg(enc)
	if err != nil {
		panic("lazydfa: " + what + " does not read: " + err.Error())
	}
	return p
}

// readMatchProg reads, in place, the program that appendMatchProg encoded
// as enc, and checks it: every instruction's op is known, and what it
// leads to (its Out, an Alt's other branch, a rune instruction's set) is
// in range.
func readMatchProg(enc string) (*matchProg, error) {
	cls, s, ok := readRuneClasses(enc)
	if !ok {
		return nil, fmt.Errorf("rune classes: %w", errCorrupt)
	}
	p := &matchProg{cls: cls, nclass: cls.n()}
	nsets, s, ok1 := progtab.ReadUvarint(s)
	if !ok1 || nsets > uint64(len(s)/max(p.nclass, 1)) {
		return nil, fmt.Errorf("sets: %w", errCorrupt)
	}
	n := int(nsets) * p.nclass
	p.inSet, s = s[:n], s[n:]
	start, s, ok1 := progtab.ReadUvarint(s)
	ninst, s, ok2 := progtab.ReadUvarint(s)
	if !ok1 || !ok2 || ninst > uint64(len(s)) || start >= ninst || len(s) == 0 {
		return nil, fmt.Errorf("instructions: %w", errCorrupt)
	}
	p.start, p.ninst = uint32(start), int(ninst)
	width := int(s[0])
	s = s[1:]
	if (width != 2 && width != 4) || len(s) != p.ninst*(1+2*width) {
		return nil, fmt.Errorf("instructions: %w", errCorrupt)
	}
	p.wide = width == 4
	p.ops, p.outs, p.args = s[:p.ninst], s[p.ninst:p.ninst*(1+width)], s[p.ninst*(1+width):]
	for i := range len(p.inSet) {
		if p.inSet[i] > 1 {
			return nil, fmt.Errorf("sets: %w", errCorrupt)
		}
	}
	n32 := uint32(p.ninst)
	for pc := range n32 {
		op := syntax.InstOp(p.ops[pc])
		out, arg := p.out(pc), p.arg(pc)
		bad := false
		switch {
		case op == syntax.InstMatch || op == syntax.InstFail:
		case op == syntax.InstAlt || op == syntax.InstAltMatch:
			bad = out >= n32 || arg >= n32
		case op == syntax.InstCapture || op == syntax.InstNop || op == syntax.InstEmptyWidth:
			bad = out >= n32
		case readsRuneOp(op):
			bad = out >= n32 || uint64(arg) >= nsets
		default:
			bad = true
		}
		if bad {
			return nil, fmt.Errorf("instruction %d: %w", pc, errCorrupt)
		}
	}
	return p, nil
}
