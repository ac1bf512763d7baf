"""Differential test: every corpus Sigma rule, on events made from its own detection values,
evaluated by execwatch (`rules test`) and by pySigma (the rule as SQL over SQLite).

Usage: test_differential.py PATH/TO/execwatch [RULE-FILE-NAME...]

For each rule execwatch loads: one `execwatch rules test` run over all the rule's events, each
event with its own hostName (`ev-N`), so each match is its own incident (incidents group by rule,
host, user, procName, swParam) and names the event. pySigma's answer is the set of rows its SQL
selects (see pysigma_oracle.py for the table and how `Image` is two columns). Prints per rule the
events, agreements and differences; every difference is listed with the event. A difference
passes only when a documented pySigma departure from the specification (DEPARTURES below, also
in README.md under "Sigma: where pySigma differs") explains it. Rules execwatch refuses are listed
with its reason; fewer than MIN_COMPARED compared rules fail the test. Prints `N passed, N
failed` last (one test per rule).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import yaml

import pysigma_oracle
import sigma_events

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.environ.get("EXECWATCH_SIGMA_CORPUS", os.path.join(ROOT, "..", "shared", "corpora", "sigma", "rules"))
README = os.path.join(ROOT, "README.md")
MIN_COMPARED = 130
EVENT_TIME = 1_796_000_000  # 2026-11-29, all events at once: windows never matter here

# pySigma departures from the Sigma specification: name → (what, a test of one difference).
# A test gets (rule document, event, execwatch's answer, pySigma's answer) and says whether the
# departure explains it. Each name must appear in README.md's "Sigma: where pySigma differs".
DEPARTURES = {}


def run_execwatch(binary, rule_path, events, work):
    """The event numbers execwatch matches, or raises Refused with its message."""
    events_path = os.path.join(work, "events.jsonl")
    with open(events_path, "w") as f:
        for number, event in events:
            f.write(json.dumps(sigma_events.as_exec_event(number, event, EVENT_TIME)) + "\n")
    proc = subprocess.run([binary, "rules", "test", "--events", events_path, "--rules", rule_path],
                          capture_output=True, text=True)
    if proc.returncode == 2:
        raise Refused(proc.stderr.strip())
    if proc.returncode != 0:
        raise AssertionError(f"rules test exit {proc.returncode}: {proc.stderr[-3000:]}")
    matched = set()
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        incident = json.loads(line)
        host = incident.get("hostName") or incident.get("attributes", {}).get("hostName")
        assert host and host.startswith("ev-"), f"incident without an event's hostName: {line[:500]}"
        assert incident.get("count", 1) == 1, f"incident of {host} counts {incident.get('count')}: {line[:500]}"
        matched.add(int(host[3:]))
    return matched, proc.stderr


class Refused(Exception):
    pass


def explain(rule, event, execwatch_says, pysigma_says):
    for name, (_what, test) in DEPARTURES.items():
        if test(rule, event, execwatch_says, pysigma_says):
            return name
    return None


def readme_departures():
    with open(README) as f:
        text = f.read()
    start = text.find("Sigma: where pySigma differs")
    if start < 0:
        return ""
    end = text.find("\n## ", start)
    return text[start:end if end > 0 else len(text)]


def main():
    built = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/execwatch"))
    only = set(sys.argv[2:])
    if not os.path.isdir(CORPUS):
        print(f"the Sigma corpus is missing: {CORPUS} (the shared corpora beside the repository; "
              f"or set EXECWATCH_SIGMA_CORPUS)")
        print("0 passed, 1 failed")
        sys.exit(1)
    work = tempfile.mkdtemp(prefix="execwatch-sigma-")
    try:
        binary = os.path.join(work, "execwatch")
        shutil.copy2(built, binary)
        passed = failed = 0
        compared = refused = 0
        totals = {"events": 0, "agree": 0, "differ": 0, "explained": 0}
        unexplained_report = []
        section = readme_departures()
        for name in DEPARTURES:
            if name not in section:
                print(f"FAIL departure {name} is not documented in README.md (\"Sigma: where pySigma differs\")")
                failed += 1
        rule_files = sorted(f for f in os.listdir(CORPUS) if f.endswith((".yml", ".yaml")))
        assert rule_files, f"no rules in {CORPUS}"
        for file_name in rule_files:
            if only and file_name not in only:
                continue
            path = os.path.join(CORPUS, file_name)
            start = time.time()
            try:
                with open(path) as f:
                    text = f.read()
                rule = yaml.safe_load(text)
                made = sigma_events.rule_events(rule, rule.get("id", file_name))
                events = list(enumerate(event for _, event in made))
                labels = [label for label, _ in made]
                try:
                    by_execwatch, warnings = run_execwatch(binary, path, events, work)
                except Refused as refusal:
                    refused += 1
                    print(f"refused {file_name}: {refusal}")
                    continue
                by_pysigma = pysigma_oracle.matching_ids(pysigma_oracle.convert(text), events)
                compared += 1
                differ = []
                explained = {}
                for number, event in events:
                    e, p = number in by_execwatch, number in by_pysigma
                    if e == p:
                        continue
                    departure = explain(rule, event, e, p)
                    if departure:
                        explained[departure] = explained.get(departure, 0) + 1
                    else:
                        differ.append((number, labels[number], event, e, p))
                n_explained = sum(explained.values())
                n_differ = len(differ) + n_explained
                totals["events"] += len(events)
                totals["differ"] += n_differ
                totals["explained"] += n_explained
                totals["agree"] += len(events) - n_differ
                matches = len(by_pysigma)
                summary = (f"{file_name}: {len(events)} events ({matches} match by pySigma, "
                           f"{len(by_execwatch)} by execwatch), {len(events) - n_differ} agree, {n_differ} differ"
                           + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(explained.items()))})" if explained else "")
                           + f" ({time.time() - start:.1f}s)")
                if differ:
                    failed += 1
                    print(f"FAIL {summary}")
                    for number, label, event, e, p in differ[:12]:
                        line = (f"     event {number} [{label}]: execwatch {'matches' if e else 'does not match'}, "
                                f"pySigma {'matches' if p else 'does not'}: "
                                f"{json.dumps(sigma_events.as_exec_event(number, event, EVENT_TIME))}")
                        print(line)
                        unexplained_report.append(f"{file_name} ({rule.get('id')}): {line.strip()}")
                    if len(differ) > 12:
                        print(f"     … and {len(differ) - 12} more")
                else:
                    passed += 1
                    print(f"ok   {summary}", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {file_name}")
                traceback.print_exc()
        print(f"{compared} rules compared, {refused} refused by execwatch; {totals['events']} events, "
              f"{totals['agree']} agree, {totals['differ']} differ ({totals['explained']} by documented departures)")
        if not only and compared < MIN_COMPARED:
            print(f"FAIL only {compared} rules compared (at least {MIN_COMPARED} must load)")
            failed += 1
        report = os.environ.get("EXECWATCH_SIGMA_DIFF_REPORT")
        if report:
            with open(report, "w") as f:
                f.write("\n".join(unexplained_report) + "\n")
        print(f"{passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)
    finally:
        shutil.rmtree(work, True)


if __name__ == "__main__":
    main()
