#!/usr/bin/env bash
# The comparison for BenchmarkScenario: what a hand-written sync does, one
# sequential curl per group, PUTting every group of the desired state
# whether it changed or not (it has no diff), with no retry and no pacing.
# Usage: curl-loop.sh BASE_URL GROUPS_TSV   (lines: id<TAB>name<TAB>description)
# LOX24_TOKEN must be set.
set -euo pipefail
base=$1
while IFS=$'\t' read -r id name description; do
	curl -sS -o /dev/null --fail -X PUT "$base/groups/$id" \
		-H "X-LOX24-AUTH-TOKEN: $LOX24_TOKEN" \
		-H 'Content-Type: application/json' \
		-H 'Accept: application/json' \
		--data "{\"name\":\"$name\",\"description\":\"$description\"}"
done <"$2"
