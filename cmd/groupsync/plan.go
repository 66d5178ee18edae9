package main

import (
	"context"
	"fmt"
	"io"

	"groupsync/internal/plan"
)

// planned is the outcome of reading files (or a saved plan) and remote
// state and diffing (or revalidating).
type planned struct {
	plan     *plan.Plan
	sinks    map[plan.System]plan.Sink
	readErrs map[plan.System]error
	stale    map[int]string // saved plans: items whose remote state changed
	// baseline is what apply writes to --baseline after a run that exits
	// 0: the baseline of the desired state the plan was made from, or the
	// one a saved plan carries; nil when there is none to write.
	baseline *plan.Baseline
	// refusedThen is what a saved plan says the safety guards refused
	// when it was made (with that run's flags): apply refuses it too,
	// whatever its own flags, unless --force.
	refusedThen []string
}

// makePlan reads the files, builds the clients (every configuration problem
// before any request), reads every system side by side and diffs. Systems
// that could not be read are left out of the plan; their errors come back.
//
// Pruned groups' members are read after the listing, only for the groups
// that pruning would delete; a system where that fails is not read either.
// With a baseline, the plan's Shrinks say which groups and files shrank.
func (c *cli) makePlan(ctx context.Context, f *remoteFlags, b *baselineFlags, files []string) (*planned, error) {
	c.stage("files")
	want, err := f.readDesired(ctx, c, files)
	if err != nil {
		return nil, err
	}
	sinks, err := f.sinks(c.env, want.Systems())
	if err != nil {
		return nil, err
	}
	before, err := c.loadBaseline(ctx, b)
	if err != nil {
		return nil, err
	}
	c.stage("read")
	results := c.readAll(ctx, f.logger(c), want, sinks)
	readPruned(ctx, want, sinks, results)
	if err := interruption(ctx); err != nil {
		return nil, err
	}
	have := current(results)
	c.stage("diff")
	diff, err := plan.DiffContext(ctx, want, have)
	if err != nil {
		return nil, interruption(ctx)
	}
	out := &planned{plan: diff, sinks: sinks, readErrs: map[plan.System]error{}}
	if b.path != "" {
		now := baselineOf(b.path, want)
		out.baseline = &now
	}
	for sys, r := range results {
		if r.err != nil {
			out.readErrs[sys] = r.err
		}
	}
	if before != nil {
		out.plan.Shrinks = plan.CompareBaseline(*before, *out.baseline, b.maxShrink)
	}
	out.review(f)
	return out, nil
}

// interruption returns the signal that interrupted the run, if one did, as
// an error: a run interrupted before its first write stops there.
func interruption(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}

// readDeleted reads the members of the groups a saved plan deletes, so that
// Revalidate can tell whether they are still those of the plan's snapshot.
func readDeleted(ctx context.Context, saved *plan.Plan, sinks map[plan.System]plan.Sink, results map[plan.System]readResult) {
	keys := map[plan.System][]string{}
	for _, ch := range saved.Changes {
		// Deletes under a members check are read with membersToRead.
		if ch.Kind == plan.KindGroup && ch.Action == plan.Delete && ch.Error == "" && ch.Expect == nil {
			keys[ch.System] = append(keys[ch.System], ch.Key)
		}
	}
	readMembersOf(ctx, keys, sinks, results, "read the members of the groups to delete")
}

// readMembersOf reads, per system that was read, the members of the groups
// with the given keys; a system where that fails counts as not read.
func readMembersOf(ctx context.Context, keys map[plan.System][]string, sinks map[plan.System]plan.Sink, results map[plan.System]readResult, what string) {
	for sys, r := range results {
		mr, ok := sinks[sys].(plan.MemberReader)
		if r.err != nil || len(keys[sys]) == 0 || !ok {
			continue
		}
		if err := mr.ReadMembers(ctx, &r.cur, keys[sys]); err != nil {
			r.err = fmt.Errorf("%s: %w", what, err)
		}
		results[sys] = r
	}
}

// readPruned reads the members of the groups pruning would delete, in each
// system that was read; a system where that fails counts as not read.
func readPruned(ctx context.Context, want plan.Desired, sinks map[plan.System]plan.Sink, results map[plan.System]readResult) {
	keys := map[plan.System][]string{}
	for sys, r := range results {
		if r.err == nil {
			keys[sys] = plan.PruneCandidates(want, r.cur)
		}
	}
	readMembersOf(ctx, keys, sinks, results, "read the members of the groups to prune")
}

// loadPlan reads a saved plan, builds the clients of its systems, reads
// their current state and revalidates the plan against it. The input files
// are not read again. With --baseline, the plan must carry the baseline
// figures that apply then writes.
func (c *cli) loadPlan(ctx context.Context, f *remoteFlags, b *baselineFlags, path string) (*planned, error) {
	data, err := readGiven(ctx, path, f.input.maxFileSize)
	if err != nil {
		return nil, err
	}
	saved, err := plan.ParseJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.savedBaseline(ctx, b, saved); err != nil {
		return nil, err
	}
	refusedThen := saved.Refused
	p, err := c.revalidate(ctx, f, saved, false)
	if err != nil {
		return nil, err
	}
	p.refusedThen = refusedThen
	if b.path != "" {
		p.baseline = saved.Baseline
	}
	return p, nil
}

// revalidate builds the clients of a saved plan's systems, reads their
// current state (the members only of the groups the plan changes members
// of) and finds the items that are stale. With settle (a retry), items
// whose wanted state already holds are first taken out as unchanged.
func (c *cli) revalidate(ctx context.Context, f *remoteFlags, saved *plan.Plan, settle bool) (*planned, error) {
	sinks, err := f.sinks(c.env, saved.Systems)
	if err != nil {
		return nil, err
	}
	c.stage("read")
	results := c.readAll(ctx, f.logger(c), membersToRead(saved), sinks)
	readDeleted(ctx, saved, sinks, results)
	if err := interruption(ctx); err != nil {
		return nil, err
	}
	have := current(results)
	if settle {
		plan.Settle(saved, have)
	}
	out := &planned{plan: saved, sinks: sinks, readErrs: map[plan.System]error{}, stale: plan.Revalidate(saved, have)}
	for sys, r := range results {
		if r.err != nil {
			out.readErrs[sys] = r.err
		}
	}
	out.review(f)
	return out, nil
}

// review records in the plan what its reviewer must see: the systems that
// could not be read, with why, and the safety guards the plan breaks. A
// saved plan's own record of these is replaced by today's.
func (p *planned) review(f *remoteFlags) {
	p.plan.Unread, p.plan.Refused = nil, nil
	for _, sys := range plan.Systems {
		if err := p.readErrs[sys]; err != nil {
			p.plan.Unread = append(p.plan.Unread, plan.Unreadable{System: sys, Error: err.Error()})
		}
	}
	for _, err := range p.plan.Check(f.guards) {
		p.plan.Refused = append(p.plan.Refused, err.Error())
	}
}

// membersToRead returns, as desired groups with managed phones, the groups
// whose members a saved plan's items need: those it adds, changes or
// removes members of, those it deletes under a members check, and groups
// it creates with members (by name: a retried create may have happened).
func membersToRead(p *plan.Plan) plan.Desired {
	want := plan.Desired{}
	seen := map[string]bool{}
	add := func(g plan.Group) {
		k := string(g.System) + "/" + g.Key + "/" + g.Name
		if !seen[k] {
			seen[k] = true
			if g.System == plan.HelloID {
				g.Users = &plan.Users{}
			} else {
				g.Phones = &plan.Phones{}
			}
			want.Groups = append(want.Groups, g)
		}
	}
	for _, ch := range p.Changes {
		member := ch.Kind == plan.KindPhone || ch.Kind == plan.KindUser
		switch {
		case member && ch.GroupKey != "":
			add(plan.Group{System: ch.System, Key: ch.GroupKey})
		case member && ch.DependsOn > 0:
			dep := p.Changes[ch.DependsOn-1]
			add(plan.Group{System: dep.System, Name: dep.Name})
		case ch.Kind == plan.KindGroup && ch.Action == plan.Delete && ch.Expect != nil:
			add(plan.Group{System: ch.System, Key: ch.Key})
		}
	}
	return want
}

func (c *cli) printReadErrors(p *planned) {
	for _, sys := range plan.Systems {
		if err := p.readErrs[sys]; err != nil {
			fmt.Fprintf(c.stderr, "groupsync: %s could not be read; it is left out of the plan: %v\n", sys, err)
		}
	}
}

func (c *cli) plan(ctx context.Context, args []string) int {
	fs := c.newFlagSet("plan", "plan [flags] FILE...\n\nRead the remote state and print what apply would change. Sends GET requests only.")
	var f remoteFlags
	f.register(fs, "plan", c.env)
	var b baselineFlags
	b.register(fs, "plan")
	detailed := fs.Bool("detailed-exitcode", false, usageOf("plan", "detailed-exitcode"))
	out := fs.String("out", "", usageOf("plan", "out"))
	files, err := c.parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(files) == 0 {
		return c.usageErr(fs, "no input files")
	}
	if msg := f.check() + b.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	return c.session(ctx, &f, "plan", func(m *runMetrics) int {
		p, err := c.makePlan(ctx, &f, &b, files)
		if err != nil {
			return c.inputErr(err)
		}
		m.fromPlan(p.plan)
		if err := f.render(ctx, c, p.plan); err != nil {
			return c.fatal(err)
		}
		if *out != "" {
			switch {
			case b.path != "" && (f.only != "" || len(f.groups) > 0):
				// The baseline records the whole desired state; a plan
				// limited to some groups or one system would forget the others.
				fmt.Fprintf(c.stderr, "Baseline figures not saved in the plan: --only or --group limited it; apply --plan takes no --baseline\n")
			case b.path != "":
				p.plan.Baseline = p.baseline
			}
			if err := c.writeFileFrom(*out, func(w io.Writer) error { return plan.WriteJSON(w, p.plan) }); err != nil {
				return c.fatal(fmt.Errorf("save plan: %w", err))
			}
			fmt.Fprintf(c.stderr, "Plan saved to %s; apply it with: groupsync apply --plan %s\n", *out, *out)
		}
		c.printReadErrors(p)
		for _, r := range p.plan.Refused {
			fmt.Fprintf(c.stderr, "groupsync: apply would refuse this plan (use --force to override): %s\n", r)
		}
		switch {
		case len(p.readErrs) > 0 || p.plan.HasErrors():
			return exitFatal
		case *detailed && len(p.plan.Refused) > 0:
			return exitRefused
		case *detailed && p.plan.HasChanges():
			return exitPending
		}
		return exitOK
	})
}
