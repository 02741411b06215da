package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/experiments"
)

func TestPresetsCommand(t *testing.T) {
	out, errOut, code := runCLI(t, "presets")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Every preset is an assumption, not a measurement of your network.")
	for _, name := range []string{"dc-blip", "ec2-flap", "cloud-vm", "jvm-gc", "link-repair", "incident"} {
		p, ok := experiments.PresetByName(name)
		require.True(t, ok, name)
		assert.Contains(t, out, "\n"+name+"\n", "a section per preset")
		assert.Contains(t, out, "  source:     "+strings.Fields(p.Source)[0], name)
		assert.Contains(t, out, "preset = \""+name+"\" is the same as:", name)
		example := "experiments/examples/preset-" + name + ".toml"
		assert.Contains(t, out, example, name)
		_, err := os.Stat(filepath.Join("..", "..", example))
		assert.NoError(t, err, "the example named for %s exists", name)
	}
	// Every TOML line of every component is printed as written.
	for _, p := range experiments.Presets() {
		for _, c := range p.Components {
			for _, line := range strings.Split(c.TOML, "\n") {
				assert.Contains(t, out, "    "+line+"\n", c.Name)
			}
		}
	}
	flat := strings.Join(strings.Fields(out), " ") // undo the wrapping
	assert.Equal(t, len(experiments.Presets()), strings.Count(flat, "This is an assumption, not a measurement of your network."),
		"each preset says it is an assumption")
}

func TestPresetsCommandNamed(t *testing.T) {
	out, errOut, code := runCLI(t, "presets", "jvm-gc/full", "dc-blip")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "jvm-gc/full\n"), out)
	assert.Contains(t, out, "\ndc-blip\n")
	assert.NotContains(t, out, "ec2-flap")
	assert.NotContains(t, out, "jvm-gc/young")

	_, errOut, code = runCLI(t, "presets", "ec2-flop")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `no preset "ec2-flop"`)
	assert.Contains(t, errOut, "ec2-flap")
}
