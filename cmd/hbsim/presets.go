package main

import (
	"fmt"
	"io"
	"strings"

	"hbsim/experiments"
)

// cmdPresets lists the built-in outage and pause presets, or the named ones:
// what each models, its source, that it is an assumption, and the [[fault]]
// keys it sets.
func cmdPresets(args []string, stdout io.Writer) error {
	fs := newFlags("presets")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	presets := experiments.Presets()
	if len(pos) > 0 {
		presets = presets[:0:0]
		for _, name := range pos {
			p, ok := experiments.PresetByName(name)
			if !ok {
				return usagef("presets: no preset %q; the presets are %s", name, strings.Join(experiments.PresetNames(), ", "))
			}
			presets = append(presets, p)
		}
	} else {
		fmt.Fprintf(stdout, "Built-in fault presets. In an experiment file, a [[fault]] table with preset = \"NAME\"\n"+
			"takes the keys below as defaults; any key written in the table overrides the preset's.\n"+
			"Every preset is %s.\n\n", experiments.PresetCaveat)
	}
	for _, p := range presets {
		fmt.Fprintf(stdout, "%s\n", p.Name)
		field := func(name, text string) {
			fmt.Fprintf(stdout, "  %-11s %s\n", name+":", wrap(text, 86, 14))
		}
		field("models", p.Summary)
		field("source", p.Source)
		field("assumption", p.Assumption+". This is "+experiments.PresetCaveat+".")
		field("example", "experiments/examples/preset-"+strings.Split(p.Name, "/")[0]+".toml")
		if len(p.Components) > 1 {
			names := make([]string, len(p.Components))
			for i, c := range p.Components {
				names[i] = c.Name
			}
			field("mixture", fmt.Sprintf("expands to %d faults, %s; a table naming %s may override only clients, "+
				"shared, server and direction (for every part); name a part to override its other keys",
				len(p.Components), strings.Join(names, " and "), p.Name))
		}
		fmt.Fprintf(stdout, "  preset = %q is the same as:\n", p.Name)
		for _, c := range p.Components {
			fmt.Fprintf(stdout, "    [[fault]]  # %s: %s\n", c.Name, c.What)
			for _, line := range strings.Split(c.TOML, "\n") {
				fmt.Fprintf(stdout, "    %s\n", line)
			}
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
