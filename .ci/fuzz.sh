#!/usr/bin/env bash
# Short fuzzing runs (about 10 s each) of the request decoding of the HTTP endpoint, of the size of
# its answers (response bytes per request byte, errors per response), and of token
# parsing. Their seed corpora also run as ordinary tests under `go test ./...`.
# A failing input is saved under testdata/fuzz/<Target>/ in the package: commit it as a regression.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-10s}"
go test -run '^$' -fuzz '^FuzzGraphQLEndpoint$' -fuzztime "$FUZZTIME" ./app
go test -run '^$' -fuzz '^FuzzResponseSize$' -fuzztime "$FUZZTIME" ./app
go test -run '^$' -fuzz '^FuzzTokensParse$' -fuzztime "$FUZZTIME" ./auth
go test -run '^$' -fuzz '^FuzzDeviceTokenParse$' -fuzztime "$FUZZTIME" ./auth
