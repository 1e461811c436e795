#!/usr/bin/env bash
# Runs the end-to-end suite against the real server binary:
#   e2e/run.sh              # all tests
#   e2e/run.sh tests/apq.test.mjs   # some of them
# It installs what is missing (npm packages; Debian's chromium with apt-get), builds the server,
# starts it on a free port with a fresh SQLite file, a short access-token lifetime, an admin
# account and another local origin allowed by CORS (for the browser test's page), waits for /readyz, runs the tests with node's test runner and stops the server.
set -euo pipefail
cd "$(dirname "$0")"
E2E=$(pwd)
ROOT=$(cd .. && pwd)

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing chromium (Debian package)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# Reinstall when the lock file changed since the last install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "e2e: building the server"
(cd "$ROOT" && go build -o "$WORK/shopql" .)

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PORT=$(free_port)
# Another origin for the browser test's page (tests/browser.test.mjs); the server allows it.
WEB_PORT=$(free_port)
while [ "$WEB_PORT" = "$PORT" ]; do WEB_PORT=$(free_port); done
export SHOPQL_WEB_ORIGIN="http://127.0.0.1:$WEB_PORT"
export SHOPQL_BIN="$WORK/shopql"
export SHOPQL_URL="http://127.0.0.1:$PORT"
export SHOPQL_ADMIN_EMAIL="admin-e2e@example.com"
export SHOPQL_ADMIN_PASSWORD="admin-e2e-password"
mkdir -p "$E2E/artifacts"
LOG="$E2E/artifacts/server.log"

echo "e2e: starting the server at $SHOPQL_URL (log: e2e/artifacts/server.log)"
(
  cd "$WORK"
  PORT="$PORT" \
  DATABASE_URL="$WORK/shop.db" \
  ACCESS_TOKEN_TTL=2s \
  JWT_LEEWAY=0s \
  ADMIN_EMAIL="$SHOPQL_ADMIN_EMAIL" \
  ADMIN_PASSWORD="$SHOPQL_ADMIN_PASSWORD" \
  PASSWORD_HASH_MEMORY_KIB=8192 \
  PASSWORD_HASH_ITERATIONS=1 \
  LOG_FORMAT=json \
  CORS_ALLOWED_ORIGINS="$SHOPQL_WEB_ORIGIN" \
  exec ./shopql
) >"$LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 100); do
  if curl -fsS "$SHOPQL_URL/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "e2e: the server exited:"; cat "$LOG"; exit 1
  fi
  sleep 0.1
done
curl -fsS "$SHOPQL_URL/readyz" >/dev/null || { echo "e2e: the server never became ready:"; cat "$LOG"; exit 1; }

if [ $# -eq 0 ]; then set -- tests/*.test.mjs; fi
# One file at a time: the APQ test fills the server's (deliberately small) APQ cache.
node --test --test-concurrency=1 "$@"
