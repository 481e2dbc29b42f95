package injection

//go:generate go test -run ^TestNeedsGenerated$ -args -update

// neededBy is one matcher's need as go generate read it: the pattern's
// source (to tell a stale table) and its needs in any and in ASCII text.
type neededBy struct {
	src         string
	need, ascii need
}
