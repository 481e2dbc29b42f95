package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Flags describes every setting with a flag, in its group and the table's
// order, with its variable named in the help (Resolve reads it, not the
// flag) and, for the intake limits, the default their 0 stands for.
func TestFlagsAreTheTablesFlags(t *testing.T) {
	byGroup := map[Group][]string{}
	for _, g := range []Group{ScreeningGroup, InputGroup} {
		for _, f := range Flags(g) {
			byGroup[g] = append(byGroup[g], f.Name)
			st := table[indexOfFlag(f.Name)]
			assert.Equal(t, st.Aliases, f.Aliases, f.Name)
			assert.Empty(t, f.Env, "--%s: Resolve reads the variable", f.Name)
			if st.Env != "" {
				assert.Equal(t, st.Usage+" [$"+st.Env+"]", f.Usage)
			} else {
				assert.Equal(t, st.Usage, f.Usage)
			}
			assert.Equal(t, st.DefaultText, f.DefaultText, f.Name)
		}
	}
	var want []string
	for _, st := range table {
		if st.Flag != "" && st.Group == ScreeningGroup {
			want = append(want, st.Flag)
		}
	}
	assert.Equal(t, want, byGroup[ScreeningGroup])
	assert.Equal(t, []string{"max-message-bytes", "max-attachment-bytes"}, byGroup[InputGroup])
	assert.Equal(t, 4, Flags(ScreeningGroup)[0].Default, "--concurrency: the setting's default")
}

func indexOfFlag(name string) int {
	for i, st := range table {
		if st.Flag == name {
			return i
		}
	}
	return -1
}
