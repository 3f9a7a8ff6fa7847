#!/usr/bin/env python3
"""Counts what `swift test` ran and skipped, per suite, and fails when a test was skipped that should have run.

    scripts/test-report.py [--all-up] [--allow FILE] XUNIT...

XUNIT is what `swift test --xunit-output PATH` writes: PATH for XCTest and PATH with
`-swift-testing` before the extension for Swift Testing; a file that does not exist is ignored.

A skip is unexpected, and the exit status is 1, when
  - its reason names an environment variable (ICESHELVES_...) that is set here: scripts/test set it
    because the component is up, so a test that still skips is a test that cannot pass; or
  - --all-up is given (scripts/test brought every component up and ran every test) and the test is
    not in the allow-list (--allow FILE: one `Module.Type` or `Module.Type/test()` per line, then
    `#` and the reason it may skip).
The last line is `N passed, N failed, N skipped`, for CI.
"""
import argparse
import collections
import os
import re
import sys
import xml.etree.ElementTree as ET


def read_allow(path):
    allowed = {}
    if path and os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            entry, _, reason = line.partition("#")
            if entry.strip():
                allowed[entry.strip()] = reason.strip()
    return allowed


def cases(paths):
    """(suite, test, outcome, reason) for every test case in the xunit files."""
    for path in paths:
        if not os.path.exists(path):
            continue
        for case in ET.parse(path).getroot().iter("testcase"):
            suite, name = case.get("classname", "?"), case.get("name", "?")
            skipped = case.find("skipped")
            failed = case.find("failure") if case.find("failure") is not None else case.find("error")
            if failed is not None:
                yield suite, name, "failed", failed.get("message") or (failed.text or "").strip()
            elif skipped is not None:
                yield suite, name, "skipped", (skipped.get("message") or skipped.text or "").strip()
            else:
                yield suite, name, "passed", ""


def unexpected(suite, name, reason, all_up, allowed):
    """Why this skip should not have happened, or None."""
    set_vars = [v for v in sorted(set(re.findall(r"\bICESHELVES_[A-Z0-9_]+", reason))) if os.environ.get(v)]
    if set_vars:
        return f"{', '.join(set_vars)} {'is' if len(set_vars) == 1 else 'are'} set, yet it skipped"
    if all_up and suite not in allowed and f"{suite}/{name}" not in allowed:
        return "every component was up, and it is not in the allow-list"
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--all-up", action="store_true", help="every component is up: no test may skip unless allow-listed")
    p.add_argument("--allow", help="the allow-list file")
    p.add_argument("xunit", nargs="+")
    a = p.parse_args()
    if not any(os.path.exists(x) for x in a.xunit):
        print(f"test report: none of {', '.join(a.xunit)} exists (did swift test run with --xunit-output?)", file=sys.stderr)
        return 1
    allowed = read_allow(a.allow)
    per_suite = collections.OrderedDict()
    totals = collections.Counter()
    bad = []
    for suite, name, outcome, reason in cases(a.xunit):
        per_suite.setdefault(suite, collections.Counter())[outcome] += 1
        totals[outcome] += 1
        if outcome == "skipped":
            why = unexpected(suite, name, reason, a.all_up, allowed)
            if why:
                bad.append(f"  {suite}/{name}: {why} (skip reason: {reason})")
    width = max([len(s) for s in per_suite] + [5])
    print(f"\n{'suite':<{width}}  passed  failed  skipped")
    for suite in sorted(per_suite):
        c = per_suite[suite]
        print(f"{suite:<{width}}  {c['passed']:>6}  {c['failed']:>6}  {c['skipped']:>7}")
    if bad:
        print(f"\n{len(bad)} test(s) skipped that should have run:")
        print("\n".join(bad))
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
