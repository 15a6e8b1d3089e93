#!/usr/bin/env python3
"""Checks one real build as cachelens reads it.

  check.py CACHELENS NAME PLAIN_LOG RAWJSON_LOG EXPECTED_JSON
  check.py CACHELENS NAME --tty TTY_LOG PLAIN_LOG EXPECTED_JSON

EXPECTED_JSON may hold: cacheable, cached, hit_rate, first_miss (a name or
null), imports ([{"ref": …, "ok": …, "error_contains": …}]), exports (names),
error_contains (the build's closing error), status ({status: count}).
The rawjson log (the same build's SolveStatus events) must give the same step
records as the plain one (every field but `line`; compared in vertex order),
and the same hit rate and cache records. With --tty, TTY_LOG is a tty capture of a build in the state PLAIN_LOG's
build was in: its final frame must give the same steps (a name may be cut at
the terminal width, a shared vertex's stage prefix may differ) with the same
statuses, marked approximate.
Exits 1 with what differed.
"""

import json
import subprocess
import sys


def steps(cachelens, log, *extra):
    out = subprocess.run(
        [cachelens, "steps", "--format", "json", *extra, log], capture_output=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"cachelens steps {log}: exit {out.returncode}: {out.stderr.decode()}")
    builds = json.loads(out.stdout)["builds"]
    if len(builds) != 1:
        sys.exit(f"{log}: {len(builds)} builds, expected 1")
    return builds[0]


def main():
    if sys.argv[3] == "--tty":
        return main_tty(*sys.argv[1:3], *sys.argv[4:])
    cachelens, name, plain_log, rawjson_log, expected = sys.argv[1:]
    expected = json.loads(expected)
    plain = steps(cachelens, plain_log)
    raw = steps(cachelens, rawjson_log, "--format-in", "rawjson")
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append(f"{what}: got {got!r}, expected {want!r}")

    cacheable = [s for s in plain["steps"] if s["cacheable"]]
    cached = [s for s in cacheable if s["status"] == "cached"]
    if "cacheable" in expected:
        check("cacheable steps", len(cacheable), expected["cacheable"])
    if "cached" in expected:
        check("cached steps", len(cached), expected["cached"])
    if "hit_rate" in expected:
        check("hit rate", plain["hit_rate"], expected["hit_rate"])
    if "first_miss" in expected:
        miss = next((s["name"] for s in cacheable if s["status"] != "cached"), None)
        check("first miss", miss, expected["first_miss"])
    for status, n in expected.get("status", {}).items():
        check(f"{status} steps", sum(s["status"] == status for s in plain["steps"]), n)
    if "imports" in expected:
        got = plain["cache"]["imports"]
        check("cache imports", len(got), len(expected["imports"]))
        for g, e in zip(got, expected["imports"]):
            check("import ref", g["ref"], e["ref"])
            check("import ok", g["ok"], e["ok"])
            if "error_contains" in e and e["error_contains"] not in (g["error"] or ""):
                failures.append(f"import error {g['error']!r} lacks {e['error_contains']!r}")
    if "exports" in expected:
        check("cache exports", [e["name"] for e in plain["cache"]["exports"]], expected["exports"])
    if "error_contains" in expected and expected["error_contains"] not in (plain["error"] or ""):
        failures.append(f"build error {plain['error']!r} lacks {expected['error_contains']!r}")
    check("plain unparsed lines", plain["unparsed_lines"], 0)

    # the same build as rawjson: the same records
    check("rawjson format", raw["format"], "rawjson")
    check("rawjson unparsed lines", raw["unparsed_lines"], 0)
    drop = lambda s: {k: v for k, v in s.items() if k != "line"}  # noqa: E731
    # by vertex number: two vertices that start within one refresh tick of the
    # plain printer are printed in either order (grammars/rawjson.md, rule R3)
    p_steps = sorted((drop(s) for s in plain["steps"]), key=lambda s: s["vertex"])
    r_steps = sorted((drop(s) for s in raw["steps"]), key=lambda s: s["vertex"])
    # a vertex that ran twice: the 20.10 client's DONE is its last run, rawjson's
    # the sum of its runs as BuildKit v0.10+ printers show it (rawjson.md, R5)
    for p, r in zip(p_steps, r_steps):
        if p["vertex"] == r["vertex"] and None not in (p["seconds"], r["seconds"]) and r["seconds"] > p["seconds"]:
            r["seconds"] = p["seconds"]
    if p_steps != r_steps:
        for p, r in zip(p_steps, r_steps):
            if p != r:
                failures.append(f"rawjson step differs:\n  plain   {p}\n  rawjson {r}")
        if len(p_steps) != len(r_steps):
            failures.append(f"rawjson has {len(r_steps)} steps, plain {len(p_steps)}")
    check("rawjson hit rate", raw["hit_rate"], plain["hit_rate"])
    check("rawjson cache", raw["cache"], plain["cache"])

    if failures:
        print(f"FAIL {name}:", *failures, sep="\n  ")
        sys.exit(1)
    print(
        f"ok   {name}: {len(cached)}/{len(cacheable)} cached, "
        f"{len(plain['steps'])} steps, imports {[i['ok'] for i in plain['cache']['imports']]}, "
        f"exports {[e['name'] for e in plain['cache']['exports']]}; rawjson gives the same records"
    )


def main_tty(cachelens, name, tty_log, plain_log, expected):
    expected = json.loads(expected)
    tty = steps(cachelens, tty_log, "--format-in", "tty")
    plain = steps(cachelens, plain_log)
    failures = []
    if tty["format"] != "tty" or not tty["approximate"]:
        failures.append(f"format {tty['format']}, approximate {tty['approximate']}")
    if tty["unparsed_lines"] != 0:
        failures.append(f"{tty['unparsed_lines']} unparsed lines")
    # a shared vertex takes the stage prefix of whichever stage claims it first
    # (sample-logs/real/README.md), and with it that stage's position ("[test 1/4]
    # FROM x" in one run is "[stage-2 1/3] FROM x" in the next): match
    # instructions without the prefix, and a shared FROM without its position
    def body(step):
        return step["name"].split("] ", 1)[-1] if step["position"] else step["name"]

    def same_place(p, s):
        return p["position"] == s["position"] or (
            p["instruction"] == s["instruction"] == "FROM"
        )

    unmatched = list(plain["steps"])
    for s in tty["steps"]:
        match = next(
            (
                p
                for p in unmatched
                if same_place(p, s)
                and body(p).startswith(body(s))
                and p["status"] == s["status"]
            ),
            None,
        )
        if match is None:
            failures.append(f"tty step {s['name']!r} {s['status']} is not in the plain build")
        else:
            unmatched.remove(match)
    for p in unmatched:
        failures.append(f"plain step {p['name']!r} {p['status']} is not in the tty frame")
    cacheable = [s for s in tty["steps"] if s["cacheable"]]
    cached = [s for s in cacheable if s["status"] == "cached"]
    for what, got in (("cacheable", len(cacheable)), ("cached", len(cached)), ("hit_rate", tty["hit_rate"])):
        if what in expected and got != expected[what]:
            failures.append(f"{what}: got {got!r}, expected {expected[what]!r}")
    if failures:
        print(f"FAIL {name}:", *failures, sep="\n  ")
        sys.exit(1)
    print(f"ok   {name}: {len(cached)}/{len(cacheable)} cached, {len(tty['steps'])} steps from the final tty frame, as in plain")


if __name__ == "__main__":
    main()
