#!/usr/bin/env bash
# The fair comparison for BenchmarkScenario: the same group PUTs as
# curl-loop.sh, but sent by ONE curl process, PARALLEL of them in flight at
# once (default 4) over kept-alive connections (curl --parallel, which needs
# curl 7.66 or later), with no retry and no pacing. The transfers are
# described in a curl config read from stdin, one block per group separated
# by "next" (written with shell builtins: no process per group), so the
# token is in no process's arguments.
# Usage: curl-parallel.sh BASE_URL GROUPS_TSV [PARALLEL]
#        (lines: id<TAB>name<TAB>description, with no " or \ in them)
# LOX24_TOKEN must be set.
set -euo pipefail
base=$1
parallel=${3:-4}
config() {
	local first=1
	while IFS=$'\t' read -r id name description; do
		if ((first == 0)); then
			echo next
		fi
		first=0
		printf '%s\n' "url = \"$base/groups/$id\"" 'request = "PUT"' \
			"header = \"X-LOX24-AUTH-TOKEN: $LOX24_TOKEN\"" \
			'header = "Content-Type: application/json"' 'header = "Accept: application/json"' \
			"data = \"{\\\"name\\\":\\\"$name\\\",\\\"description\\\":\\\"$description\\\"}\"" \
			'output = "/dev/null"' fail
	done <"$2"
}
config "$@" | curl -sS --no-progress-meter --parallel --parallel-max "$parallel" --config -
