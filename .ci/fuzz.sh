#!/usr/bin/env bash
# Short fuzzing runs (about 10 s each) of the request decoding of the HTTP endpoint, of the size of
# its answers (response bytes per request byte, errors per response), and of token
# parsing. Their seed corpora also run as ordinary tests under `go test ./...`.
# A failing input is saved under testdata/fuzz/<Target>/ in the package: commit it as a regression.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-10s}"

# fuzz runs one target. Go's fuzzing coordinator sometimes fails a run with its own "context
# deadline exceeded" when -fuzztime ends mid-execution, without any failing input: such a run is
# tried once more. A run that wrote a failing input always fails.
fuzz() {
  local target=$1 pkg=$2 out
  for attempt in 1 2; do
    if out=$(go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
      echo "$out"
      return 0
    fi
    echo "$out"
    if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
      echo "fuzz: $target stopped at the coordinator's deadline with no failing input; running it again"
      continue
    fi
    return 1
  done
}

fuzz FuzzGraphQLEndpoint ./app
fuzz FuzzResponseSize ./app
fuzz FuzzTokensParse ./auth
fuzz FuzzDeviceTokenParse ./auth
