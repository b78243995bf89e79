#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Counts every test case in meson's testlog.json files.

A TAP test (every GTest here) counts each of its cases; a case its plan
announced but that never reported (the program crashed or bailed out) counts
as failed. Any other test counts as one case. Prints the failed cases, then a
last line "tests: N passed, M failed", and exits 1 if anything failed.
"""

import json
import re
import sys

TAP_RESULT = re.compile(r"^(not )?ok\b(.*)$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)")


def count(path):
    passed = failed = skipped = 0
    failures = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            entry = json.loads(line)
            name = entry["name"]
            result = entry["result"]
            stdout = entry.get("stdout") or ""
            plan = None
            ok = bad = skip = 0
            for text in stdout.splitlines():
                match = TAP_PLAN.match(text)
                if match and plan is None:
                    plan = int(match.group(1))
                    continue
                match = TAP_RESULT.match(text)
                if not match:
                    continue
                directive = match.group(2)
                if "# SKIP" in directive.upper():
                    skip += 1
                elif match.group(1):
                    if "# TODO" in directive.upper():
                        skip += 1
                    else:
                        bad += 1
                        failures.append(f"{name}: not ok{directive}")
                else:
                    ok += 1
            if plan is None and ok + bad + skip == 0:
                # Not a TAP test: one case.
                if result == "OK":
                    ok = 1
                elif result == "SKIP":
                    skip = 1
                else:
                    bad = 1
                    failures.append(f"{name}: {result}")
            else:
                missing = (plan or 0) - (ok + bad + skip)
                if missing > 0:
                    bad += missing
                    failures.append(f"{name}: {missing} case(s) never ran ({result})")
                elif result not in ("OK", "SKIP", "EXPECTEDFAIL") and bad == 0:
                    bad += 1
                    failures.append(f"{name}: {result}")
            passed += ok
            failed += bad
            skipped += skip
    return passed, failed, skipped, failures


def main(args):
    passed = failed = skipped = 0
    failures = []
    paths = []
    # --failed NAME counts a step that failed before it could run its tests.
    while args:
        arg = args.pop(0)
        if arg == "--failed" and args:
            failed += 1
            failures.append(f"{args.pop(0)}: did not build")
        else:
            paths.append(arg)
    for path in paths:
        p, f, s, fl = count(path)
        passed += p
        failed += f
        skipped += s
        failures += fl
    for failure in failures:
        print(f"FAILED: {failure}")
    if skipped:
        print(f"({skipped} skipped)")
    print(f"tests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
