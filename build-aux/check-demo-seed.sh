#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# check-demo-seed.sh CPS_SERVER CPS_DEMO_SEED DEMO_DIR
#
# What `build-aux/dev run` does to its demo server, as a test: a cps-server on
# 127.0.0.1:0 in a temporary directory, an admin account, cps-demo-seed on
# DEMO_DIR/*.json, then the seeder's report and `cps-server check` are checked.
# Cleans up after itself and gives up after a bounded time.

set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 CPS_SERVER CPS_DEMO_SEED DEMO_DIR" >&2
  exit 2
fi
server=$1
seed=$2
demo_dir=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cps-demo-seed-check.XXXXXX")
data="$tmp/data"
conf="$tmp/cps-server.conf"
server_pid=

fail() {
  echo "FAIL: $*" >&2
  for log in "$tmp/seed.out" "$tmp/seed.err" "$data/server.log"; do
    if [ -s "$log" ]; then
      echo "--- $log" >&2
      cat "$log" >&2
    fi
  done
  exit 1
}

# SIGTERM, then at most 10 s for the graceful stop, then SIGKILL. Returns the server's status.
stop_server() {
  local pid=$server_pid status=0
  [ -n "$pid" ] || return 0
  server_pid=
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "cps-server did not stop within 10 s of SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" || status=$?
  return $status
}

cleanup() {
  stop_server || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -m 0700 "$data"
: >"$conf"
password="demo-check-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" >"$tmp/password"
chmod 0600 "$tmp/password"

"$server" serve --data-dir "$data" --listen 127.0.0.1:0 --config "$conf" \
  >"$tmp/server.out" 2>"$data/server.log" &
server_pid=$!

url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on //p' "$tmp/server.out" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "cps-server exited before listening"
  sleep 0.1
done
[ -n "$url" ] || fail "cps-server printed no \"listening on\" line within 10 s"
echo "cps-server listening on $url"

printf '%s\n' "$password" |
  timeout 30 "$server" account add --data-dir "$data" --username demo --role admin >/dev/null ||
  fail "cps-server account add failed"

demo_files=("$demo_dir"/*.json)
[ -e "${demo_files[0]}" ] || fail "no demo files in $demo_dir"
status=0
timeout 60 "$seed" --url "$url" --username demo --password-file "$tmp/password" \
  "${demo_files[@]}" >"$tmp/seed.out" 2>"$tmp/seed.err" || status=$?
sed 's/^/seed: /' "$tmp/seed.out"
sed 's/^/seed (stderr): /' "$tmp/seed.err"
[ $status -eq 0 ] || fail "cps-demo-seed exited with $status"

# One line per project: "NAME: N revisions, H heads, conflicted|merged|linear".
project_lines=$(grep -E '^.+: [0-9]+ revisions?, [0-9]+ heads?, (conflicted|merged|linear)$' \
  "$tmp/seed.out" || true)
[ "$(printf '%s\n' "$project_lines" | grep -c .)" -ge 3 ] ||
  fail "expected a line for each of the three demo projects"
printf '%s\n' "$project_lines" | grep -qE ', 2 heads, conflicted$' ||
  fail "no project was left conflicted with two heads"
printf '%s\n' "$project_lines" | grep -qE ', 1 head, (merged|linear)$' ||
  fail "no project has a single head"
if printf '%s\n' "$project_lines" | grep -qE ', 1 heads?, conflicted$'; then
  fail "a project with one head is reported as conflicted"
fi
# Every project holds its first revision and both devices' edits.
if printf '%s\n' "$project_lines" | grep -qE ': [0-2] revisions?,'; then
  fail "a project has fewer than three revisions"
fi
grep -q '^Seeded 3 of 3 projects' "$tmp/seed.out" || fail "the summary line is missing"
# The damaged backup and the files without projects are skipped with a note.
grep -q 'damaged' "$tmp/seed.err" || fail "the damaged demo backup was not noted"
grep -q 'holds no projects' "$tmp/seed.err" || fail "the files without projects were not noted"

# The password never appears in the seeder's output.
if grep -qF "$password" "$tmp/seed.out" "$tmp/seed.err"; then
  fail "the password appears in cps-demo-seed's output"
fi

# A bad password is a failure (1), a missing password file a usage error (2).
printf 'wrong password\n' >"$tmp/wrong"
status=0
timeout 30 "$seed" --url "$url" --username demo --password-file "$tmp/wrong" \
  "${demo_files[@]}" >/dev/null 2>&1 || status=$?
[ $status -eq 1 ] || fail "a wrong password gave exit status $status, not 1"
status=0
timeout 30 "$seed" --url "$url" --username demo --password-file "$tmp/missing" \
  "${demo_files[@]}" >/dev/null 2>&1 || status=$?
[ $status -eq 2 ] || fail "a missing password file gave exit status $status, not 2"

status=0
stop_server || status=$?
[ $status -eq 0 ] || fail "cps-server exited with $status after SIGTERM"

status=0
timeout 60 "$server" check --data-dir "$data" --config "$conf" >"$tmp/check.out" 2>&1 ||
  status=$?
sed 's/^/check: /' "$tmp/check.out"
[ $status -eq 0 ] || fail "cps-server check exited with $status"

echo "PASS: demo server seeded and checked"
