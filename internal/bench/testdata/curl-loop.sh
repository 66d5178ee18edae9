#!/usr/bin/env bash
# The second comparison for BenchmarkScenario: what many hand-written syncs
# do, one curl process per group PUT (so a new connection each), PARALLEL of
# them at once (default 1), with no retry and no pacing. curl-parallel.sh is
# the like-for-like one: one process, kept-alive connections. It is given only the groups that changed (the diff
# groupsync works out for itself), so that both send the same writes.
# Usage: curl-loop.sh BASE_URL GROUPS_TSV [PARALLEL]
#        (lines: id<TAB>name<TAB>description)
# LOX24_TOKEN must be set.
set -euo pipefail
base=$1
parallel=${3:-1}
put() {
	curl -sS -o /dev/null --fail -X PUT "$base/groups/$1" \
		-H "X-LOX24-AUTH-TOKEN: $LOX24_TOKEN" \
		-H 'Content-Type: application/json' \
		-H 'Accept: application/json' \
		--data "{\"name\":\"$2\",\"description\":\"$3\"}"
}
running=0
while IFS=$'\t' read -r id name description; do
	if ((running >= parallel)); then
		wait -n
		running=$((running - 1))
	fi
	put "$id" "$name" "$description" &
	running=$((running + 1))
done <"$2"
while ((running > 0)); do
	wait -n
	running=$((running - 1))
done
