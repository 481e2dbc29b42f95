package main

import (
	"testing"

	"github.com/secscreen/secscreen/cmd/secscreen/internal/earlyheap"
)

// earlyheap reads the command from os.Args before the app exists: the
// names it prepares the heap for must stay the app's commands.
func TestEarlyHeapNamesTheAppsCommands(t *testing.T) {
	app := newApp()
	for _, name := range earlyheap.GrowingCommands {
		if app.Command(name) == nil {
			t.Errorf("earlyheap.GrowingCommands names %q, which is not a command", name)
		}
	}
}
