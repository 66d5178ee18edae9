// Package samples holds the example desired-state files and the emulator
// state the demo starts from. They are embedded so that `groupsync demo`
// works from any directory; tests parse every one of them.
package samples

import "embed"

// FS holds every sample file at its root.
//
//go:embed *.yaml *.csv *.json
var FS embed.FS

// DemoFiles are the desired-state files the demo plans and applies, in order.
var DemoFiles = []string{"groups.yaml", "groups.csv"}

// DemoState is the emulator state the demo starts from.
const DemoState = "emulator-state.json"
