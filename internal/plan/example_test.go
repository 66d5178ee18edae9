package plan_test

import (
	"os"

	"groupsync/internal/plan"
)

// Diff compares what the files want with what a system has: only managed
// fields that differ become changes, and a group that is not found is created.
func ExampleDiff() {
	want := plan.Desired{Groups: []plan.Group{
		{System: plan.LOX24, Key: "12344", Name: "My Clients", Source: plan.Source{File: "groups.yaml", Line: 3},
			Fields: map[string]plan.Value{"description": plan.Str("Best clients")}},
		{System: plan.LOX24, Name: "Newsletter", Source: plan.Source{File: "groups.yaml", Line: 7},
			Fields: map[string]plan.Value{}},
	}}
	have := map[plan.System]plan.Current{plan.LOX24: {System: plan.LOX24, Groups: []plan.RemoteGroup{{
		Key: "12344", Name: "My Clients",
		Fields: map[string]plan.Value{"description": plan.Str("Old"), "name_a": plan.Str("unmanaged, kept")},
	}}}}
	p := plan.Diff(want, have)
	_ = plan.WriteText(os.Stdout, p, plan.RenderOptions{})
	// Output:
	// lox24
	//   ~ group 12344 "My Clients"  (groups.yaml:3)
	//       description: "Old" -> "Best clients"
	//   + group "Newsletter"  (groups.yaml:7)
	//       name: "Newsletter"
	//   lox24: 1 to create, 1 to update, 0 to delete, 0 unchanged
	//
	// Plan: 1 to create, 1 to update, 0 to delete, 0 unchanged.
}
