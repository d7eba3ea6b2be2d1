"""Counts the test cases of tools/test's runs and prints "N passed, M failed".

Arguments: the number of configure or build steps that failed, then one
"BUILD_DIR [TEST...]" per stage (no test named: every test of the folder).

Every test a stage declares (meson introspect) must have run, and every test
binary must have run as many doctest cases as it declares (`--count`): a test
missing from the log, a binary that died before its summary, or fewer cases
than declared count as failed, so that a run which executed nothing is never
green. A skipped case is not a pass.
"""
import json
import os
import re
import subprocess
import sys

# Lines a test prints for the run's output: what it measured (the
# simulation's seed, step and invariant counts, for one).
REPORT = re.compile(r"MESSAGE: ((?:simulation|fuzz replay): .*)")
SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed \|\s*(\d+) skipped")
DECLARED = re.compile(r"\[doctest\] unskipped test cases passing the current filters:\s*(\d+)")


def declared_tests(build_dir, names):
    try:
        out = subprocess.run(["meson", "introspect", "--tests", build_dir], capture_output=True, text=True,
                             check=True).stdout
        tests = json.loads(out)
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError):
        return None
    return [t for t in tests if not names or t["name"] in names]


def declared_cases(test):
    """The number of doctest cases the test's binary declares, or None."""
    try:
        out = subprocess.run(test["cmd"] + ["--count"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, **test.get("env", {})}).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = DECLARED.findall(out)
    return int(found[-1]) if found else None


def logged_results(build_dir):
    results = {}
    path = os.path.join(build_dir, "meson-logs", "testlog.json")
    if os.path.exists(path):
        with open(path) as log:
            for line in log:
                test = json.loads(line)
                results[test["name"]] = test
    return results


def main():
    failed_steps = int(sys.argv[1])
    passed = 0
    failed = failed_steps
    for stage in sys.argv[2:]:
        build_dir, *names = stage.split()
        tests = declared_tests(build_dir, names)
        if tests is None:
            continue  # not configured: already counted as a failed step
        if not tests:
            print(f"{build_dir}: no test declared")
            failed += 1
            continue
        results = logged_results(build_dir)
        for test in tests:
            where = f"{build_dir}: {test['name']}"
            result = results.get(test["name"])
            declared = declared_cases(test)
            if result is None:
                print(f"{where}: did not run")
                failed += declared or 1
                continue
            ok_result = result.get("result") == "OK"
            found = SUMMARY.findall(result.get("stdout", ""))
            if not found:
                print(f"{where}: no doctest summary (result {result.get('result')})")
                failed += declared or 1
                continue
            for report in REPORT.findall(result.get("stdout", "")):
                print(f"{build_dir}: {report}")
            ran, ok, bad, skipped = map(int, found[-1])
            passed += ok
            failed += bad + skipped
            if not ok_result and bad == 0:
                failed += 1  # died, timed out or leaked after its cases passed
            if declared is None:
                print(f"{where}: its binary does not say how many cases it declares")
                failed += 1
            elif ran < declared:
                print(f"{where}: ran {ran} of {declared} declared cases")
                failed += declared - ran
    if passed == 0 and failed == 0:
        failed = 1  # nothing ran at all
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
