package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"groupsync/internal/emulator"
	"groupsync/internal/export"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/sink/helloid"
	"groupsync/internal/sink/lox24"
)

// export prints the current remote state as a desired-state YAML file that
// validate accepts and that plan, against the same remote state, plans to no
// changes: the first step of taking existing groups under management.
func (c *cli) export(ctx context.Context, args []string) int {
	fs := c.newFlagSet("export", "export [flags]\n\n"+
		"Print the current remote state as a desired-state YAML file: validate accepts it, and plan\n"+
		"shows no changes against the same state. Commit it, then manage the groups by editing it.\n"+
		"Sends GET requests only.")
	var f remoteFlags
	f.register(fs, "export", c.env)
	withMembers := fs.Bool("members", false, usageOf("export", "members"))
	withPhones := fs.Bool("phones", false, usageOf("export", "phones"))
	out := fs.String("out", "", usageOf("export", "out"))
	asState := fs.Bool("emulator-state", false, usageOf("export", "emulator-state"))
	rest, err := c.parse(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if len(rest) > 0 {
		return c.usageErr(fs, "unexpected argument %q: export reads the remote state, not files (use --out FILE to name the output)", rest[0])
	}
	if msg := f.check(); msg != "" {
		return c.usageErr(fs, "%s", msg)
	}
	if *out != "" {
		// Fail on an unwritable destination now, not after reading everything.
		if st, err := os.Stat(filepath.Dir(*out)); err != nil || !st.IsDir() {
			return c.fatal(fmt.Errorf("export: --out %s: directory %s does not exist", *out, filepath.Dir(*out)))
		}
	}
	systems := plan.Systems
	if f.only != "" {
		systems = []plan.System{plan.System(f.only)}
	}
	return c.session(ctx, &f, "export", func(*runMetrics) int {
		sinks, err := c.exportSinks(&f, systems)
		if err != nil {
			return c.fatal(err)
		}
		phones := *withPhones || *withMembers || *asState
		cur, err := exportRead(ctx, f.logger(c), sinks, phones, *withMembers || *asState)
		if err != nil {
			return c.fatal(err)
		}
		if *asState {
			return c.writeEmulatorState(cur, *out)
		}
		mask := plan.MaskPhone
		if f.showPhones {
			mask = func(n string) string { return n }
		}
		x := export.Build(systems, cur, phones, mask, f.input.options().DefaultCountry)
		if err := x.Check(cur); err != nil {
			return c.fatal(fmt.Errorf("export: nothing written: %w", err))
		}
		for _, w := range x.Warnings {
			fmt.Fprintf(c.stderr, "groupsync: warning: %s\n", w)
		}
		return c.writeExport(x, *out)
	})
}

// exportSinks builds the client of every system to export. Every missing
// credential or URL is reported before any request; without --only, the
// error suggests exporting the systems that are configured.
func (c *cli) exportSinks(f *remoteFlags, systems []plan.System) (map[plan.System]plan.Sink, error) {
	sinks := map[plan.System]plan.Sink{}
	var errs []error
	var ready []plan.System
	for _, sys := range systems {
		s, err := f.sinks(c.env, []plan.System{sys})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sinks[sys] = s[sys]
		ready = append(ready, sys)
	}
	if len(errs) == 0 {
		return sinks, nil
	}
	err := errors.Join(errs...)
	if f.only == "" {
		hint := "export reads both systems unless --only names one"
		if len(ready) == 1 {
			hint += fmt.Sprintf("; to export %s alone, add --only %s", ready[0], ready[0])
		} else {
			hint += " (--only lox24 or --only helloid)"
		}
		err = fmt.Errorf("%w\n%s", err, hint)
	}
	return nil, err
}

// exportRead reads every system side by side; with phones, LOX24's members
// of every group too, and with users HelloID's user directory and the
// members of every group. The first failure cancels the other reads and is
// the error returned.
func exportRead(ctx context.Context, log *slog.Logger, sinks map[plan.System]plan.Sink, phones, users bool) (map[plan.System]plan.Current, error) {
	var mu sync.Mutex
	out := map[plan.System]plan.Current{}
	eg, ctx := errgroup.WithContext(ctx)
	for sys, s := range sinks {
		read := func(ctx context.Context) (plan.Current, error) { return s.Read(ctx, nil) }
		if lc, ok := s.(*lox24.Client); ok && phones {
			read = lc.ReadWithMembers
		}
		if hc, ok := s.(*helloid.Client); ok && users {
			read = hc.ReadWithMembers
		}
		eg.Go(sink.Recovered(func() error {
			start := time.Now()
			cur, err := read(ctx)
			if err != nil {
				return err
			}
			log.Info("read", "system", sys, "groups", len(cur.Groups), "duration", time.Since(start).Round(time.Millisecond))
			mu.Lock()
			out[sys] = cur
			mu.Unlock()
			return nil
		}))
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// writeExport writes the member files, then the YAML (to path, or stdout
// when path is ""), so that the YAML never names a file not yet written.
// Member files go beside the YAML: in path's directory, or the current one.
func (c *cli) writeExport(x *export.File, path string) int {
	dir := "."
	if path != "" {
		dir = filepath.Dir(path)
	}
	for _, m := range x.Members {
		if err := c.writeFile(filepath.Join(dir, m.Name), m.Data); err != nil {
			return c.fatal(fmt.Errorf("export: write member file: %w", err))
		}
	}
	where := "stdout"
	if path == "" {
		if _, err := c.stdout.Write(x.YAML); err != nil {
			return c.fatal(fmt.Errorf("export: write: %w", err))
		}
	} else {
		if err := c.writeFile(path, x.YAML); err != nil {
			return c.fatal(fmt.Errorf("export: write: %w", err))
		}
		where = path
	}
	var parts []string
	for _, sys := range x.Systems {
		parts = append(parts, fmt.Sprintf("%d %s %s", x.Groups[sys], sys, plural(x.Groups[sys], "group", "groups")))
	}
	files := ""
	if len(x.Members) > 0 {
		files = fmt.Sprintf(", with %d member %s in %s", len(x.Members), plural(len(x.Members), "file", "files"), dir)
	}
	fmt.Fprintf(c.stderr, "Exported %s to %s%s.\n", strings.Join(parts, " and "), where, files)
	return exitOK
}

// stateSource is a group's source as the emulator's state holds it: ""
// for a group HelloID owns (which the API reports as "Local").
func stateSource(origin string) string {
	if !plan.IsExternalSource(origin) {
		return ""
	}
	return origin
}

// writeEmulatorState writes the state read as the emulator's JSON state,
// so that a migration can be rehearsed on a copy of the real groups.
// Subscription timestamps are not read by groupsync and so not copied.
func (c *cli) writeEmulatorState(cur map[plan.System]plan.Current, path string) int {
	var st emulator.State
	st.LOX24.Groups = []emulator.LOX24Group{}
	st.HelloID.Groups = []emulator.HelloIDGroup{}
	st.HelloID.Users = []emulator.HelloIDUser{}
	for _, u := range cur[plan.HelloID].Users {
		st.HelloID.Users = append(st.HelloID.Users, emulator.HelloIDUser{UserGUID: u.GUID, UserName: u.UserName})
	}
	opt := func(v plan.Value) *string {
		if !v.Valid {
			return nil
		}
		s := v.S
		return &s
	}
	col := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for _, g := range cur[plan.LOX24].Groups {
		id, err := strconv.ParseInt(g.Key, 10, 64)
		if err != nil {
			return c.fatal(fmt.Errorf("export: lox24 group id %q is not a number", g.Key))
		}
		var deletedAt *string
		if g.DeletedAt != "" {
			deletedAt = &g.DeletedAt
		}
		eg := emulator.LOX24Group{ID: id, Name: g.Name, DeletedAt: deletedAt, Description: opt(g.Fields["description"]),
			NameA: opt(g.Fields["name_a"]), NameB: opt(g.Fields["name_b"]), NameC: opt(g.Fields["name_c"]),
			NameD: opt(g.Fields["name_d"]), NameE: opt(g.Fields["name_e"]), Phones: []emulator.LOX24Phone{}}
		for _, p := range g.Phones {
			eg.Phones = append(eg.Phones, emulator.LOX24Phone{ID: p.ID, Phone: p.Number,
				A: col(p.Cols.Get(0)), B: col(p.Cols.Get(1)), C: col(p.Cols.Get(2)), D: col(p.Cols.Get(3)), E: col(p.Cols.Get(4)), CallbackData: col(p.Cols.Get(5))})
		}
		st.LOX24.Groups = append(st.LOX24.Groups, eg)
	}
	for _, g := range cur[plan.HelloID].Groups {
		st.HelloID.Groups = append(st.HelloID.Groups, emulator.HelloIDGroup{GroupGUID: g.Key, Name: g.Name,
			IsEnabled: g.Fields["isEnabled"].S == "true", IsDefault: g.Fields["isDefault"].S == "true",
			IsQrEnabled: g.Fields["isQrEnabled"].S == "true", ManagedByUserGUID: opt(g.Fields["managedByUserGuid"]),
			Users: append([]string{}, g.Users...), Source: stateSource(g.Origin)})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return c.fatal(err)
	}
	b = append(b, '\n')
	if path == "" {
		if _, err := c.stdout.Write(b); err != nil {
			return c.fatal(err)
		}
		return exitOK
	}
	if err := c.writeFile(path, b); err != nil {
		return c.fatal(fmt.Errorf("export: %w", err))
	}
	fmt.Fprintf(c.stderr, "Emulator state of %d lox24 and %d helloid groups written to %s; rehearse with: groupsync emulate --state %s\n",
		len(st.LOX24.Groups), len(st.HelloID.Groups), path, path)
	return exitOK
}
