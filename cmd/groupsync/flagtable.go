package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"groupsync/internal/emulator"
	"groupsync/internal/plan"
	"groupsync/internal/sink"
	"groupsync/internal/source"
)

// flagRow documents one flag of one or more commands. The flag table is the
// one source of --help and of the README's flag table (a test checks that
// the README holds exactly what flagTableMarkdown renders), so neither can
// drift from the flags the commands really register.
type flagRow struct {
	name  string   // without the dashes
	cmds  []string // the commands that take it
	arg   string   // the placeholder of its value; "" for a boolean
	env   string   // the environment variable that sets its default, if any
	def   string   // the default as people read it; "" when there is none
	usage string   // one sentence for --help and the README
}

var (
	remoteCmds = []string{"plan", "apply", "export"}
	planCmds   = []string{"plan", "apply"}
	renderCmds = []string{"plan", "apply", "show", "undo"}
	inputCmds  = []string{"validate", "plan", "apply"}
)

var flagTable = []flagRow{
	{name: "lox24-url", cmds: remoteCmds, arg: "URL", env: "LOX24_URL", def: "https://api.lox24.eu", usage: "LOX24 API base URL"},
	{name: "helloid-url", cmds: remoteCmds, arg: "URL", env: "HELLOID_URL", usage: "HelloID tenant URL, e.g. https://acme.helloid.com (/api/v1 is added)"},
	{name: "only", cmds: remoteCmds, arg: "lox24|helloid", usage: "limit the run to one system (default: every system the files mention; export: both)"},
	{name: "group", cmds: planCmds, arg: "NAME|ID", usage: "limit plan and apply to this group, by name or remote id; repeatable; system:NAME where a name is in both systems"},
	{name: "lox24-rate", cmds: remoteCmds, arg: "N", def: "10", usage: "LOX24 requests per second, 0.01 to 100000"},
	{name: "helloid-rate", cmds: remoteCmds, arg: "N", def: "10", usage: "HelloID requests per second, 0.01 to 100000"},
	{name: "lox24-workers", cmds: remoteCmds, arg: "N", def: "4", usage: "LOX24 requests in flight"},
	{name: "helloid-workers", cmds: remoteCmds, arg: "N", def: "4", usage: "HelloID requests in flight"},
	{name: "max-attempts", cmds: remoteCmds, arg: "N", def: "5", usage: "attempts per request on 429, 5xx and connection errors, the first included"},
	{name: "max-read-items", cmds: remoteCmds, arg: "N", def: strconv.Itoa(sink.DefaultMaxReadItems), usage: "most items one listing may hold or claim; past it that system's read fails"},
	{name: "default-country", cmds: append(slices.Clone(inputCmds), "export"), arg: "COUNTRY", usage: "read national phone numbers (0151 ...) as numbers of this country (ISO 3166 alpha-2, as DE) where a group sets no default_country (export: remote numbers, and it writes default_country)"},
	{name: "root", cmds: inputCmds, arg: "DIR", usage: "files named inside the input files (phones:, users:) must resolve inside DIR (default: the directory of the file naming them)"},
	{name: "max-file-size", cmds: inputCmds, arg: "BYTES", def: strconv.FormatInt(source.DefaultMaxFileSize, 10), usage: "largest input file read, in bytes (the files given and the files they name)"},
	{name: "csv-delimiter", cmds: inputCmds, arg: ",|;|tab", usage: "delimiter of member files whose phones: reference names none (default: detected from the header line)"},
	{name: "format", cmds: renderCmds, arg: "text|json|markdown", def: "text", usage: "how the plan is printed on stdout"},
	{name: "detail", cmds: renderCmds, usage: "show every member line (default: per group its counts and first 10 lines)"},
	{name: "no-color", cmds: append(slices.Clone(renderCmds), "demo"), usage: "no colour in the plan (also when NO_COLOR is set or stdout is no terminal)"},
	{name: "show-phones", cmds: append(slices.Clone(renderCmds), "export", "demo"), usage: "show phone numbers unmasked in human output (export: in its comments)"},
	{name: "detailed-exitcode", cmds: []string{"plan"}, usage: "exit 2 when changes are pending, 4 when apply would refuse the plan, 0 when there is nothing to do"},
	{name: "out", cmds: []string{"plan"}, arg: "PLAN.json", usage: "also save the plan as JSON, for apply --plan (it holds no secret)"},
	{name: "plan", cmds: []string{"apply"}, arg: "PLAN.json", usage: "apply this saved plan (from plan --out) instead of planning from files"},
	{name: "retry-failed", cmds: []string{"apply"}, arg: "REPORT.json", usage: "apply again the failed and skipped items of this report (from an earlier apply)"},
	{name: "no-verify", cmds: []string{"apply"}, usage: "do not re-read what was applied to check that it took effect"},
	{name: "yes", cmds: []string{"apply"}, usage: "apply without asking (required without a terminal)"},
	{name: "report", cmds: []string{"apply"}, arg: "PATH", def: "groupsync-report.json", usage: "where to write the JSON report"},
	{name: "force", cmds: planCmds, usage: "override the safety guards"},
	{name: "max-delete-pct", cmds: planCmds, arg: "PCT", def: "30", usage: "refuse to delete more than this percentage of a group's members (groups of 10 or more) or of the groups in a prune prefix (prefixes of 10 or more)"},
	{name: "baseline", cmds: planCmds, arg: "PATH", usage: "compare the files with this baseline and refuse a run whose groups or files shrank past --max-shrink-pct; apply writes it after a run that exits 0 (with --plan, the figures of a plan saved with plan --baseline)"},
	{name: "max-shrink-pct", cmds: planCmds, arg: "PCT", def: strconv.Itoa(plan.DefaultMaxShrinkPct), usage: "refuse when a group's wanted members or a file's rows fall by more than this percentage since the baseline, or to zero"},
	{name: "max-changes", cmds: planCmds, arg: "N", usage: "refuse a plan with more changes than this (default: no limit)"},
	{name: "metrics-file", cmds: remoteCmds, arg: "PATH", usage: "write run metrics here in the Prometheus textfile-collector format"},
	{name: "log-format", cmds: remoteCmds, arg: "text|json", def: "text", usage: "log format on stderr; json makes every stderr line a JSON object"},
	{name: "lock-file", cmds: remoteCmds, arg: "PATH", usage: "hold this lock while running; if another run holds it, exit 75 at once"},
	{name: "out", cmds: []string{"undo"}, arg: "PLAN.json", usage: "where to save the reversing plan, for apply --plan (required)"},
	{name: "members", cmds: []string{"export"}, usage: "also export members: LOX24 phones as with --phones, and each HelloID group's users (by userName)"},
	{name: "phones", cmds: []string{"export"}, usage: "also export each LOX24 group's members, to members-<id>.csv beside the YAML file (the LOX24 part of --members)"},
	{name: "out", cmds: []string{"export"}, arg: "FILE", usage: "write the YAML (atomically) to FILE instead of stdout"},
	{name: "emulator-state", cmds: []string{"export"}, usage: "write the state as the emulator's JSON state instead (members included), for groupsync emulate --state"},
	{name: "listen", cmds: []string{"emulate"}, arg: "ADDR", def: defaultEmuAt, usage: "loopback address to listen on (port 0 picks a free port)"},
	{name: "state", cmds: []string{"emulate"}, arg: "FILE", usage: "initial state, a JSON file (see samples/emulator-state.json); default empty"},
	{name: "latency", cmds: []string{"emulate"}, arg: "DURATION", usage: "delay added to every API request, e.g. 50ms"},
	{name: "fail-rate", cmds: []string{"emulate"}, arg: "F", usage: "fraction of API requests answered 503 at random, 0..1"},
	{name: "throttle", cmds: []string{"emulate"}, arg: "N", usage: "server-side requests per second per system; beyond it 429 with Retry-After (default: off)"},
	{name: "throttle-burst", cmds: []string{"emulate"}, arg: "N", usage: "requests --throttle lets through at once before it paces them (default: a fifth of --throttle, at least 1)"},
	{name: "lose-rate", cmds: []string{"emulate"}, arg: "F", usage: "fraction of API writes that are applied but answered 502, as if the answer were lost, 0..1"},
	{name: "drop-rate", cmds: []string{"emulate"}, arg: "F", usage: "fraction of API writes answered as a success but not applied (only verify catches them), 0..1"},
	{name: "redirect", cmds: []string{"emulate"}, arg: "URL", usage: "answer every API request with a 307 to this URL (to check that clients refuse redirects)"},
	{name: "quirks", cmds: []string{"emulate"}, arg: "LIST", usage: "comma-separated answer variants where the docs are silent (see the README, Emulator): " + strings.Join(emulator.QuirkNames, ", ")},
}

// registerFromTable registers on fs, in the table's order, each flag of
// cmd that vars knows how to register.
func registerFromTable(fs *flag.FlagSet, cmd string, vars map[string]func(name, usage string)) {
	for _, r := range flagTable {
		if v, ok := vars[r.name]; ok && slices.Contains(r.cmds, cmd) {
			v(r.name, r.usage)
		}
	}
}

// rowFor returns the table row of a command's flag.
func rowFor(cmd, name string) (flagRow, bool) {
	for _, r := range flagTable {
		if r.name == name && slices.Contains(r.cmds, cmd) {
			return r, true
		}
	}
	return flagRow{}, false
}

// usageOf is the --help sentence of a command's flag. A flag missing from
// the table is a programming error that the help tests catch.
func usageOf(cmd, name string) string {
	r, ok := rowFor(cmd, name)
	if !ok {
		panic(fmt.Sprintf("flag --%s of %s is not in the flag table", name, cmd))
	}
	return r.usage
}

// printFlags lists a command's flags with their placeholders and defaults,
// from the flag table.
func printFlags(out io.Writer, cmd string, fs *flag.FlagSet) {
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintln(out, "Flags:")
			first = false
		}
		r, _ := rowFor(cmd, f.Name)
		line := "  --" + f.Name
		if r.arg != "" {
			line += " " + r.arg
		}
		text := r.usage
		if r.env != "" {
			text += " (env " + r.env + ")"
		}
		if r.def != "" {
			text += " (default " + r.def + ")"
		}
		fmt.Fprintf(out, "%s\n      %s\n", line, text)
	})
}

// flagTableMarkdown renders the flag table for the README.
func flagTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| flag | commands | env | default | what it does |\n|---|---|---|---|---|\n")
	for _, r := range flagTable {
		flagCell := "`--" + r.name
		if r.arg != "" {
			flagCell += " " + r.arg
		}
		flagCell += "`"
		env, def := "", ""
		if r.env != "" {
			env = "`" + r.env + "`"
		}
		if r.def != "" {
			def = "`" + r.def + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.ReplaceAll(flagCell, "|", `\|`), strings.Join(r.cmds, ", "), env, def, strings.ReplaceAll(r.usage, "|", `\|`))
	}
	return b.String()
}
