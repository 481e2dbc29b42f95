package setup

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
)

func names(flags []cliflag.Flag) []string {
	var ns []string
	for _, f := range flags {
		ns = append(ns, f.Name)
	}
	return ns
}

func TestFilesFromTheFlags(t *testing.T) {
	flags := append(PipelineFlags(), SourceFlag)
	assert.Equal(t, Files{}, FilesFrom(cliflag.Given(flags, nil)), "no flag: the built-in files, no source tree")
	got := FilesFrom(cliflag.Given(flags, map[string]any{"threat-model": "tm.rst", "rules": "r.yaml", "series": "s.yaml", "source": "linux"}))
	assert.Equal(t, Files{ThreatModel: "tm.rst", Rules: "r.yaml", Series: "s.yaml", Source: "linux"}, got)
	assert.Equal(t, Files{ThreatModel: "tm.rst"}, FilesFrom(cliflag.Given(ModelFlags[:1], map[string]any{"threat-model": "tm.rst"})),
		"a command with fewer file flags")
}

func TestPipelineAndInputFlags(t *testing.T) {
	assert.Equal(t, append([]string{"threat-model", "rules", "series"}, names(config.Flags(config.ScreeningGroup))...), names(PipelineFlags()))
	assert.Equal(t, []string{"input-format", "max-message-bytes", "max-attachment-bytes"}, names(InputFlags()))
	assert.Equal(t, intake.DefaultMaxMessageBytes, InputFlags()[1].Default, "the flag shows the limit the setting's 0 stands for")
	assert.Equal(t, intake.DefaultMaxAttachmentBytes, InputFlags()[2].Default)
	assert.Equal(t, "SECSCREEN_THREAT_MODEL", ThreatModelFlag.Env, "the command line reads the variable")
}

func TestIntakeOptionsTakeTheFormatFlagAndTheSettingsLimits(t *testing.T) {
	s := config.Defaults()
	s.MessageBytes, s.AttachmentBytes = 100, 10
	in, err := IntakeOptions(cliflag.Given(InputFlags(), map[string]any{"input-format": "mbox"}), s)
	require.NoError(t, err)
	assert.Equal(t, intake.Options{Format: intake.FormatMbox, Limits: intake.Limits{MaxMessageBytes: 100, MaxAttachmentBytes: 10}}, in)

	in, err = IntakeOptions(cliflag.Given(InputFlags(), nil), config.Defaults())
	require.NoError(t, err)
	assert.Equal(t, intake.FormatAuto, in.Format)

	_, err = IntakeOptions(cliflag.Given(InputFlags(), map[string]any{"input-format": "pdf"}), s)
	require.Error(t, err)
	assert.Equal(t, exit.Usage, exit.Code(err))
}
