"""Live tests of `execwatch run` in each source mode, as root, against the real kernel.

For each mode the agent is started as a user would start it, real netcat binaries are run (the
Debian `nc` alternative, `nc.openbsd`, `nc.traditional`, `ncat`, `netcat`), with and without
arguments, also as another user, and `/bin/true`; then `execwatch incidents --json` must show
exactly the incidents the rule defines. After each audit mode the host's audit state (rules,
enabled flag, audit pid) must be as before. Tests that touch audit hold the same lock file as the
Swift audit tests, so nothing fights over audit ownership. Prints `N passed, N failed` last.
"""
import atexit
import datetime
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from host_tests import AuditLock, KnownAuditState, audit_state, run_tests, set_audit_settings, sh  # noqa: E402

BUILT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/execwatch")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(ROOT, "rules")
NETCATS = {"nc", "ncat", "netcat", "netcat.openbsd", "netcat.traditional"}  # the rule's IN list
OTHER_USER = "nobody"

WORK = tempfile.mkdtemp(prefix="execwatch-live-")
atexit.register(shutil.rmtree, WORK, True)
BIN = os.path.join(WORK, "execwatch")
shutil.copy2(BUILT, BIN)




class Agent:
    """`execwatch run` in a state directory of its own."""

    def __init__(self, name, source, extra_env=None, args=()):
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, exist_ok=True)  # an existing one: the agent starts again in it
        self.socket = os.path.join(self.dir, "agent.sock")
        env = dict(os.environ, EXECWATCH_METRICS_LISTEN="off")
        env.update(extra_env or {})
        self.log = open(os.path.join(self.dir, "agent.log"), "a")
        self.proc = subprocess.Popen(
            [BIN, "run", "--source", source, "--state-dir", self.dir, "--status-socket", self.socket,
             "--rules", RULES, "--host", "live-test", *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited {self.proc.returncode}:\n{self.log_text()}")
            if self.status() is not None:
                # Status answers while the source is still being set up, and execs run then are
                # missed: wait for it to run too (a test of an agent whose source never runs goes
                # on once the time is up, as before).
                self.running(strict=False)
                return
            time.sleep(0.1)
        raise AssertionError(f"agent did not answer status:\n{self.log_text()}")

    def status(self):
        proc = subprocess.run([BIN, "status", "--json", "--socket", self.socket], capture_output=True, text=True)
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def running(self, strict=True):
        """Waits until its source runs: set up (audit state recorded or put back), privileges
        dropped; from then on every exec must be seen. Status answers earlier, while the source
        is still being set up. (A /proc polling source says so only after its first scan, which
        records what already runs and reports none of it; the proc connector once subscribed.)
        Not `strict`: returns the last status (None if none) when the agent exits or after 20 s,
        instead of failing."""
        deadline = time.time() + 20
        status = None
        while time.time() < deadline:
            status = self.status() or status
            if status and status["sourceRunning"]:
                return status
            if self.proc.poll() is not None:
                if not strict:
                    return status
                raise AssertionError(f"agent exited {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.05)
        if not strict:
            return status
        raise AssertionError(f"source not running: {self.status()}\n{self.log_text()}")

    def settle(self, seconds=1.5):
        """Lets in-flight events complete and incidents reach the journal."""
        time.sleep(seconds)
        deadline = time.time() + 10
        while time.time() < deadline:
            status = self.status()
            if status and status["incidentsStored"] == status["incidentsCreated"] + status["incidentsUpdated"]:
                return status
            time.sleep(0.1)
        raise AssertionError(f"incidents not all stored: {self.status()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        assert code == 0, f"agent exit status {code}\n{self.log_text()}"

    def incidents(self):
        proc = sh(BIN, "incidents", "--json", "--state-dir", self.dir)
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    def log_text(self):
        self.log.flush()
        with open(os.path.join(self.dir, "agent.log")) as f:
            return f.read()[-4000:]


def quick_runs():
    """Short netcat runs (audit modes see every exec): (argv, user)."""
    return [
        (["/usr/bin/nc", "-h"], "root"),
        (["/usr/bin/nc", "-h"], "root"),
        (["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "9"], "root"),
        (["/usr/bin/nc"], "root"),
        (["nc.openbsd", "-h"], "root"),
        (["nc.traditional", "-h"], "root"),
        (["ncat", "--version"], "root"),
        (["netcat", "-h"], "root"),
        (["/usr/bin/nc", "-h"], OTHER_USER),
        (["ncat", "--version"], OTHER_USER),
        (["/bin/true"], "root"),
    ]


def run_as(argv, user, hold=0.0):
    cmd = argv if user == "root" else ["runuser", "-u", user, "--", *argv]
    if hold:
        # Long enough for /proc sources to read it, then ended.
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(hold)
        proc.kill()
        proc.wait()
    else:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=10)


def expected_incidents(runs):
    """What the rule defines: one incident per (user, procName, swParam) of a netcat name it lists."""
    groups = {}
    for argv, user in runs:
        proc_name = os.path.basename(argv[0])
        if proc_name.lower() in NETCATS:
            key = (user, proc_name, " ".join(argv[1:]))
            groups[key] = groups.get(key, 0) + 1
    return groups


def check_incidents(agent, runs):
    got = {}
    for incident in agent.incidents():
        a = incident["attributes"]
        key = (a["user"], a["procName"], a["swParam"])
        assert key not in got, f"two incidents for {key}"
        got[key] = incident
        assert incident["ruleId"] == "PH_Rule_TH_Linux_23" and incident["hostName"] == "live-test"
    expected = expected_incidents(runs)
    assert set(got) == set(expected), f"incidents differ: missing {set(expected) - set(got)}, extra {set(got) - set(expected)}"
    for key, count in expected.items():
        assert got[key]["count"] == count, f"{key}: count {got[key]['count']}, expected {count}"
    assert not any(k[1] == "true" for k in got)


def audit_mode_test(source, agent_args=(), setup=None, teardown=None):
    with AuditLock():
        before = audit_state()
        context = setup() if setup else None
        try:
            during_before = audit_state()
            agent = Agent(source.replace("-", "_"), source, args=agent_args)
            try:
                status = agent.status()
                assert status["source"] == source, status
                runs = quick_runs()
                for argv, user in runs:
                    run_as(argv, user)
                agent.settle()
                check_incidents(agent, runs)
                status = agent.status()
                assert status["kernelLost"] == 0 and status["agentDrops"] == 0, status
            finally:
                agent.stop()
            after_agent = audit_state()
            assert after_agent == during_before, f"audit state changed:\nbefore {during_before}\nafter {after_agent}"
        finally:
            if teardown:
                teardown(context)
        assert audit_state() == before


def start_auditd(plugin_conf=None):
    conf_dir = tempfile.mkdtemp(prefix="auditd-", dir=WORK)
    plugins = os.path.join(conf_dir, "plugins.d")
    os.makedirs(plugins)
    if plugin_conf:
        with open(os.path.join(plugins, "execwatch.conf"), "w") as f:
            f.write(plugin_conf)
    with open(os.path.join(ROOT, "scripts", "temporary-auditd.conf")) as f:
        template = f.read()
    with open(os.path.join(conf_dir, "auditd.conf"), "w") as f:
        f.write(template.replace("@LOG_FILE@", f"{conf_dir}/audit.log").replace("@PLUGIN_DIR@", plugins)
                .replace("@FLUSH@", "INCREMENTAL_ASYNC"))
    os.chmod(os.path.join(conf_dir, "auditd.conf"), 0o640)
    enabled = audit_state()["enabled"]
    proc = subprocess.Popen(["auditd", "-n", "-s", "enable", "-c", conf_dir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.enabled_before = enabled
    deadline = time.time() + 10
    while time.time() < deadline:
        if audit_state()["pid"] == str(proc.pid):
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("auditd did not register")


def stop_auditd(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    sh("auditctl", "-e", proc.enabled_before)  # auditd -s enable changed it; hand it back


def test_audit_unicast():
    audit_mode_test("audit-unicast")


def test_second_agent_refuses_to_steal_audit():
    with AuditLock():
        before = audit_state()
        first = Agent("first", "audit-unicast")
        try:
            second_dir = os.path.join(WORK, "second")
            os.makedirs(second_dir)
            proc = subprocess.run([BIN, "run", "--source", "audit-unicast", "--state-dir", second_dir,
                                   "--status-socket", os.path.join(second_dir, "s"), "--rules", RULES],
                                  capture_output=True, text=True, timeout=30)
            assert proc.returncode != 0, proc
            assert f"pid {first.proc.pid}" in proc.stderr, proc.stderr
            # The same state directory: refused by the agent lock.
            proc = subprocess.run([BIN, "run", "--source", "proc-poll", "--state-dir", first.dir,
                                   "--status-socket", os.path.join(second_dir, "t"), "--rules", RULES],
                                  capture_output=True, text=True, timeout=30)
            assert proc.returncode != 0 and "another execwatch agent" in proc.stderr, proc.stderr
            assert first.status()["source"] == "audit-unicast"
        finally:
            first.stop()
        assert audit_state() == before


def test_audit_multicast_beside_auditd():
    audit_mode_test("audit-multicast", setup=start_auditd, teardown=stop_auditd)


def test_audisp_plugin_under_auditd():
    with AuditLock():
        before = audit_state()
        state = os.path.join(WORK, "audisp")
        os.makedirs(state)
        sock = os.path.join(state, "agent.sock")
        # auditd passes at most two arguments to a plugin: the rest comes from a config file.
        config = os.path.join(state, "agent.yaml")
        with open(config, "w") as f:
            f.write(f"source: audisp\nstateDir: {state}\nstatus:\n  socket: {sock}\nrules: [{RULES}]\n"
                    "hostName: live-test\n")
        plugin = (f"active = yes\ndirection = out\npath = {BIN}\ntype = always\n"
                  f"args = run --config={config}\nformat = string\n")
        # The plugin reads what auditd receives: auditd needs an exec rule of its own.
        auditd = start_auditd(plugin)
        try:
            sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "execve,execveat", "-k", "execwatch-live-audisp")
            try:
                deadline = time.time() + 20
                while time.time() < deadline and subprocess.run([BIN, "status", "--socket", sock], capture_output=True).returncode != 0:
                    time.sleep(0.2)
                status = json.loads(sh(BIN, "status", "--json", "--socket", sock).stdout)
                assert status["source"] == "audisp", status
                runs = quick_runs()
                for argv, user in runs:
                    run_as(argv, user)
                time.sleep(4)  # auditd writes EOE-less events; the grace time completes them
                incidents = [json.loads(l) for l in sh(BIN, "incidents", "--json", "--state-dir", state).stdout.splitlines() if l]
                got = {(i["attributes"]["user"], i["attributes"]["procName"], i["attributes"]["swParam"]): i["count"] for i in incidents}
                assert got == expected_incidents(runs), (got, expected_incidents(runs))
            finally:
                sh("auditctl", "-d", "always,exit", "-F", "arch=b64", "-S", "execve,execveat", "-k", "execwatch-live-audisp")
        finally:
            stop_auditd(auditd)
        assert audit_state() == before


def proc_mode_test(source, env=None):
    agent = Agent(source.replace("-", "_"), source, extra_env=env)
    try:
        agent.running()
        runs = [
            (["/usr/bin/nc", "-l", "127.0.0.1", "47001"], "root"),
            (["nc.traditional", "-l", "-p", "47002", "-s", "127.0.0.1"], "root"),
            (["ncat", "-l", "127.0.0.1", "47003"], "root"),
            (["/usr/bin/nc", "-l", "127.0.0.1", "47004"], OTHER_USER),
            (["/bin/sleep", "0.6"], "root"),
        ]
        for argv, user in runs:
            run_as(argv, user, hold=0.6)
        agent.settle()
        check_incidents(agent, runs)
    finally:
        agent.stop()


def test_proc_connector():
    proc_mode_test("proc-connector")


def test_proc_poll():
    proc_mode_test("proc-poll", env={"EXECWATCH_PROC_POLL_INTERVAL_MILLISECONDS": "100"})


def wait_until_attached(agent):
    """Waits until the eBPF agent's probe is attached: it then drops every capability (loading
    reads the kernel's BTF, which can take seconds on a busy host)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        status = agent.status()
        if status and status["capabilities"] == []:
            return status
        time.sleep(0.1)
    raise AssertionError(f"the probe was not attached within 30 s: {agent.status()}\n{agent.log_text()}")


def test_ebpf():
    """The eBPF source sees every exec (however short): the same incidents as the audit modes, no
    loss, audit untouched; and once the agent stops, no program of ours is left in the kernel."""
    with AuditLock():
        before = audit_state()
        probes_before = loaded_probes()
        agent = Agent("ebpf", "ebpf")
        try:
            status = wait_until_attached(agent)
            assert status["source"] == "ebpf", status
            assert "failed execs are not seen" in status["sourceLimitations"], status
            assert "exec_probe" in sh("bpftool", "prog", "show").stdout, "the probe is not loaded"
            runs = quick_runs()
            for argv, user in runs:
                run_as(argv, user)
            agent.settle()
            check_incidents(agent, runs)
            status = agent.status()
            assert status["kernelLost"] == 0 and status["agentDrops"] == 0, status
            assert status["capabilities"] == [], status  # nothing kept once the probe is attached
        finally:
            agent.stop()
        assert audit_state() == before, "the ebpf source changed audit"
    assert_probe_unloaded(probes_before)


def loaded_probes():
    """The ids of the loaded `exec_probe` programs (another agent on the host, a soak or a
    benchmark, may hold one of its own: take these before starting the agent under test)."""
    programs = json.loads(sh("bpftool", "-j", "prog", "show").stdout or "[]")
    return {p["id"] for p in programs if p.get("name") == "exec_probe"}


def assert_probe_unloaded(before):
    """Once the agent has exited no program of ours is loaded: none beyond `before`, those loaded
    when it started. The kernel frees a program whose last reference was closed after an RCU
    grace period, so it may be listed for a moment."""
    deadline = time.time() + 5
    while loaded_probes() - before:
        assert time.time() < deadline, "the probe is still loaded 5 s after the agent stopped"
        time.sleep(0.1)


FIELDS_DIR = "/tmp/execwatch-fields"
FIELDS_RULE = """<?xml version="1.0" encoding="UTF-8"?>
<Rules>
  <Rule group="TEST" id="Test_Exec_Fields" phIncidentCategory="Server" function="Security" subFunction="Execution">
    <Name>Every field of the test's execs</Name>
    <IncidentTitle>Test exec</IncidentTitle>
    <active>true</active>
    <Description>Each exec in the test's directory, by pid.</Description>
    <DetectionTechnology>Correlation</DetectionTechnology>
    <CustomerScope groupByEachCustomer="true"><Include all="true"/><Exclude/></CustomerScope>
    <IncidentDef eventType="TEST_EXEC_FIELDS" severity="1">
      <ArgList>procId = Filter.procId, procName = Filter.procName, swParam = Filter.swParam, user = Filter.user,
 exePath = Filter.exePath, cwd = Filter.cwd, uid = Filter.uid, euid = Filter.euid, auid = Filter.auid,
 invokedPath = Filter.invokedPath, parentExePath = Filter.parentExePath, parentCommandLine = Filter.parentCommandLine</ArgList>
    </IncidentDef>
    <PatternClause window="300">
      <SubPattern displayName="Filter" name="Filter">
        <SingleEvtConstr>eventType = "LINUX_PROCESS_EXEC" AND cwd = "/tmp/execwatch-fields"</SingleEvtConstr>
        <GroupByAttr>procId, procName, swParam, user, exePath, cwd, uid, euid, auid, invokedPath, parentExePath,
 parentCommandLine</GroupByAttr>
        <GroupEvtConstr>COUNT(*) &gt;= 1</GroupEvtConstr>
      </SubPattern>
    </PatternClause>
    <TriggerEventDisplay><AttrList>phRecvTime,hostName,user,procName,swParam</AttrList></TriggerEventDisplay>
  </Rule>
</Rules>
"""


def fields_workload():
    """Execs whose fields the sources must agree on, all run in FIELDS_DIR."""
    shutil.rmtree(FIELDS_DIR, ignore_errors=True)
    os.makedirs(FIELDS_DIR)
    os.chmod(FIELDS_DIR, 0o755)
    script = os.path.join(FIELDS_DIR, "script.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    os.symlink("/usr/bin/nc", os.path.join(FIELDS_DIR, "linked-nc"))
    shutil.copy2("/bin/true", os.path.join(FIELDS_DIR, "copied-true"))
    commands = [
        [b"/usr/bin/nc", b"-h"],
        [b"nc.openbsd", b"-z", b"-w", b"1", b"127.0.0.1", b"9"],
        [b"ncat", b"--version"],
        [b"./script.sh", b"an argument"],
        [b"bash", b"-c", b"exec -a renamed /bin/true after-exec-a"],
        [b"./linked-nc", b"-h"],
        [b"./copied-true", b"copied"],
        [b"/usr/bin/python3", b"-c",
         b"import os; fd = os.open('/bin/true', os.O_RDONLY); os.execve(fd, ['fexecve', 'x'], {})"],
        [b"/bin/true", b"", b"between empty", b""],
        [b"/bin/true", b"\xff\xfe not UTF-8 \xc3"],
        [b"/bin/true", b"y" * 20000],
        [b"/bin/true", *[b"%d" % n for n in range(3000)]],
        [b"runuser", b"-u", OTHER_USER, b"--", b"/usr/bin/nc", b"-h"],
        [b"sh", b"-c", b"/bin/true from-a-shell; exit 0"],
    ]
    for argv in commands:
        subprocess.run(argv, cwd=FIELDS_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, timeout=10)
    return commands


def incidents_by_pid(agent):
    """The test rule's incidents: attributes by procId and procName (a pid can exec twice)."""
    found = {}
    for incident in agent.incidents():
        if incident["ruleId"] == "Test_Exec_Fields":
            a = incident["attributes"]
            found[(a["procId"], a["procName"])] = a
    return found


def test_ebpf_and_audit_unicast_report_the_same_fields():
    """Both sources at once on one workload: every exec the audit source reports, the eBPF source
    reports with the same procName, swParam, user, exePath, cwd, uid, euid, auid, invokedPath (the
    path given to execve, absolute: both sources give it alike; neither has one for fexecve), and
    the parent's parentExePath and parentCommandLine (from its exec, or /proc for this test's own
    process)."""
    rules = os.path.join(WORK, "fields-rules")
    os.makedirs(rules, exist_ok=True)
    with open(os.path.join(rules, "fields.xml"), "w") as f:
        f.write(FIELDS_RULE)
    with AuditLock():
        before = audit_state()
        ebpf = Agent("fields_ebpf", "ebpf", args=("--rules", rules))
        try:
            wait_until_attached(ebpf)
            audit = Agent("fields_audit", "audit-unicast", args=("--rules", rules))
            try:
                fields_workload()
                ebpf.settle()
                audit.settle()
                from_ebpf = incidents_by_pid(ebpf)
                from_audit = incidents_by_pid(audit)
            finally:
                audit.stop()
                shutil.rmtree(FIELDS_DIR, ignore_errors=True)
        finally:
            ebpf.stop()
        assert audit_state() == before
    assert len(from_audit) >= 13, f"the audit source saw only {sorted(from_audit)}"
    missing = set(from_audit) - set(from_ebpf)
    assert not missing, f"the ebpf source missed {missing}"
    for key, expected in from_audit.items():
        got = from_ebpf[key]
        differing = {name: (got.get(name), value) for name, value in expected.items() if got.get(name) != value}
        assert not differing, f"{key}: ebpf differs from audit-unicast (ebpf, audit): {differing}"
    names = {name for (_, name) in from_ebpf}
    # `exec -a renamed /bin/true`: procName is the path given to execve, as audit's PATH record says.
    for name in ["nc", "nc.openbsd", "ncat", "script.sh", "linked-nc", "copied-true", "true", "runuser"]:
        assert name in names, f"{name} not seen: {sorted(names)}"
    big = [a for a in from_ebpf.values() if a["procName"] == "true" and a["swParam"] == "y" * 20000]
    assert big, "the 20000-byte argument is not whole"
    many = [a for a in from_ebpf.values() if a["swParam"] == " ".join(str(n) for n in range(3000))]
    assert many, "the 3000 arguments are not whole"
    other = [a for a in from_ebpf.values() if a["user"] == OTHER_USER and a["procName"] == "nc"]
    assert other and other[0]["uid"] == 65534, other
    # The parent's facts come from its own exec, seen by the agent.
    assert other[0]["parentCommandLine"] == f"runuser -u {OTHER_USER} -- /usr/bin/nc -h", other
    assert other[0]["parentExePath"].endswith("/runuser"), other
    from_shell = [a for a in from_ebpf.values() if a["swParam"] == "from-a-shell"]
    assert from_shell and from_shell[0]["parentCommandLine"] == "sh -c /bin/true from-a-shell; exit 0", from_shell
    assert from_shell[0]["parentExePath"] == os.path.realpath("/bin/sh"), from_shell
    # invokedPath is the path as given, made absolute; exePath is resolved.
    linked = [a for a in from_ebpf.values() if a["procName"] == "linked-nc"]
    assert linked and linked[0]["invokedPath"] == f"{FIELDS_DIR}/linked-nc", linked
    assert linked[0]["exePath"] == os.path.realpath("/usr/bin/nc"), linked
    scripts = [a for a in from_ebpf.values() if a["procName"] == "script.sh"]
    assert scripts and scripts[0]["invokedPath"] == f"{FIELDS_DIR}/script.sh", scripts


def test_ebpf_reads_200_kib_of_arguments_whole_and_cuts_beyond_256_kib():
    """Arguments come in 16 KiB chunks through the ring, up to 256 KiB (one argument is at most
    128 KiB: the kernel's MAX_ARG_STRLEN); beyond that the event has what fits."""
    agent = Agent("ebpf_big", "ebpf")
    try:
        wait_until_attached(agent)
        whole = ["-h", "z" * (100 * 1024), "y" * (100 * 1024)]
        run_as(["/usr/bin/nc", *whole], "root")
        run_as(["/usr/bin/nc", "-h", *("w" * (100 * 1024) for _ in range(3))], "root")
        agent.settle()
        swparams = {i["attributes"]["swParam"] for i in agent.incidents()}
        assert " ".join(whole) in swparams, f"200 KiB of arguments not whole: {[len(p) for p in swparams]}"
        cut = [p for p in swparams if p.startswith("-h www")]
        assert len(cut) == 1 and 250 * 1024 < len(cut[0]) < 256 * 1024, [len(p) for p in cut]
        status = agent.status()
        assert status["kernelLost"] == 0 and status["argumentsTruncated"] == 1, status
    finally:
        agent.stop()


def test_ebpf_tiny_ring_counts_what_it_drops_and_keeps_running():
    agent = Agent("ebpf_tiny", "ebpf", extra_env={"EXECWATCH_EBPF_RING_BUFFER_BYTES": "4096"})
    try:
        wait_until_attached(agent)
        for n in range(30):
            run_as(["/bin/true", "x" * 8000, str(n)], "root")  # a chunk larger than the whole ring
        time.sleep(1.5)
        status = agent.status()
        assert status["kernelLost"] >= 30, status
        run_as(["/usr/bin/nc", "-h"], "root")  # still delivering what fits
        agent.settle()
        assert any(i["attributes"]["procName"] == "nc" for i in agent.incidents())
        assert agent.proc.poll() is None
    finally:
        agent.stop()


def memory_kib(pid):
    """VmHWM and VmRSS of `pid`, and the resident KiB of its BPF map mappings (the ring)."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f.read().splitlines())
    ring = 0
    with open(f"/proc/{pid}/smaps") as f:
        in_map = False
        for line in f:
            if "-" in line.split(" ", 1)[0]:
                in_map = line.rstrip().endswith("anon_inode:bpf-map")
            elif in_map and line.startswith("Rss:"):
                ring += int(line.split()[1])
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0]), ring


def released_code_kib(agent):
    """What the agent's "start-up code pages released KiB=N" line says, or None. Waited for up to
    10 s: the agent writes it just after dropping privileges, which status may show first."""
    deadline = time.time() + 10
    while True:
        found = re.search(r"start-up code pages released KiB=(\d+)", agent.log_text())
        if found or time.time() > deadline:
            return int(found.group(1)) if found else None
        time.sleep(0.05)


def test_ebpf_ring_and_probe_loading_stay_small_in_the_agents_memory():
    """Issue 10's RSS goal (<= 30 MB, the release build: scripts/bench-live.sh measures it) rests
    on three things pinned here in any build: the default ring is 2 MiB (libbpf maps its pages
    twice, all resident: 16 MiB cost 32 MB); libbpf relocates the probe in a child process, so the
    kernel BTF it reads (twice 5 MB) never raises the agent's peak; and once set up the agent gives
    back the code pages only starting up touched (half the binary). A burst of 3000 execs fits."""
    agent = Agent("ebpf_memory", "ebpf")
    try:
        wait_until_attached(agent)
        released = released_code_kib(agent)
        peak, resident, ring = memory_kib(agent.proc.pid)
        assert ring <= 2 * 2048 + 12, f"the ring's mappings hold {ring} KiB"
        assert released is not None and released >= 4096, agent.log_text()
        assert resident <= peak - 4096, f"VmRSS {resident} KiB is not below the start-up peak {peak} KiB"
        # Before the release the resident set was at most resident + released: the peak is that,
        # not a moment of loading above it.
        assert peak - (resident + released) <= 3 * 1024, f"peak {peak} KiB, resident {resident} + released {released} KiB"
        load = exec_load()
        sh(load, "1000", "3")
        time.sleep(1.5)
        status = agent.status()
        assert status["kernelLost"] == 0 and status["events"] >= 3000, status
        peak, resident, ring = memory_kib(agent.proc.pid)
        assert ring <= 2 * 2048 + 12, f"the ring's mappings hold {ring} KiB"
        print(f"  ebpf agent after 3000 execs: VmHWM {peak} KiB, VmRSS {resident} KiB, ring {ring} KiB", flush=True)
    finally:
        agent.stop()


def exec_load():
    """scripts/lib/exec-load.c, compiled once: `exec-load RATE SECONDS` spawns /bin/true."""
    load = os.path.join(WORK, "exec-load")
    if not os.path.exists(load):
        sh("gcc", "-O2", "-Wall", "-o", load, os.path.join(ROOT, "scripts", "lib", "exec-load.c"))
    return load


def rfc3339_seconds(text):
    """An incident's time ("2026-12-07T00:20:00.123Z") as seconds since the epoch."""
    parsed = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def delays_under_a_stream(agent, rule_id, command, rounds=8):
    """Runs `command + [marker]` `rounds` times while exec-load spawns 1000 /bin/true a second
    (a program no rule names: the agent drains those on its timer, not at each exec). Returns
    how long after each run started the agent read its exec, in ms: the firstSeen of the
    incident `rule_id` made of it (its swParam holds the marker), which is the time the agent
    read the exec, minus the time just before the run."""
    background = subprocess.Popen([exec_load(), "1000", str(1 + rounds * 0.3)], stdout=subprocess.DEVNULL)
    started = {}
    try:
        time.sleep(0.5)  # the stream is on: the agent drains on its timer
        for k in range(rounds):
            marker = f"prompt-{k}-{time.time_ns()}"
            started[marker] = time.time()
            run_as([*command, marker], "root")
            time.sleep(0.05 + 0.07 * (k % 4))  # other phases of the drain timer
    finally:
        background.wait(timeout=60)
    agent.settle()
    seen = {}
    for incident in agent.incidents():
        for marker in started:
            if incident["ruleId"] == rule_id and marker in incident["attributes"].get("swParam", ""):
                seen[marker] = rfc3339_seconds(incident["firstSeen"])
    assert set(seen) == set(started), (sorted(seen), sorted(started), agent.log_text())
    return [(seen[m] - started[m]) * 1000 for m in started]


def voluntary_context_switches(pid):
    """The times the process's threads went to sleep (and were woken), all threads summed."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            total += sum(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
    return total


def test_ebpf_drains_execs_no_rule_names_on_its_timer():
    """Issue 10's CPU goal at 1000 exec/s: the probe wakes the agent at once only for the execs of
    programs a rule names (netcat here); the others (/bin/true) wait in the ring for its drain
    timer (100 ms). So under 1000 such execs a second the agent wakes about ten times a second,
    not hundreds (with a 4 ms timer: 250), and still reads every one of them, losing none."""
    agent = Agent("ebpf_drain", "ebpf")
    try:
        wait_until_attached(agent)
        before = agent.status()["events"]
        background = subprocess.Popen([exec_load(), "1000", "3"], stdout=subprocess.DEVNULL)
        try:
            time.sleep(1)
            switches = voluntary_context_switches(agent.proc.pid)
            time.sleep(1.5)
            per_second = (voluntary_context_switches(agent.proc.pid) - switches) / 1.5
        finally:
            background.wait(timeout=60)
        time.sleep(0.5)
        status = agent.status()
        print(f"  the agent's threads slept and woke {per_second:.0f} times a second under 1000 exec/s", flush=True)
        assert per_second < 50, per_second
        assert status["events"] - before >= 3000 and status["kernelLost"] == 0, status
    finally:
        agent.stop()


def test_ebpf_wakes_at_once_for_a_program_a_rule_names_under_a_stream_of_others():
    """While the agent drains the ring on its timer (execs of /bin/true, which no rule names), the
    exec of a program the rules name (nc) wakes it at once: its incident's time is within a few
    milliseconds of the exec, not up to a drain interval (100 ms) later."""
    agent = Agent("ebpf_prompt", "ebpf")
    try:
        wait_until_attached(agent)
        delays = delays_under_a_stream(agent, "PH_Rule_TH_Linux_23", ["/usr/bin/nc", "-h"])
        print(f"  nc under 1000 other exec/s reached the agent in {', '.join(f'{d:.0f}' for d in delays)} ms",
              flush=True)
        assert max(delays) < 40, delays
        assert agent.status()["kernelLost"] == 0
    finally:
        agent.stop()


def test_ebpf_learns_the_programs_rules_name_after_sighup():
    """A rule reload (SIGHUP) that adds a rule naming another program (printenv) tells the probe:
    that program's execs then wake the agent at once too."""
    rules_dir = os.path.join(WORK, "prompt-reload-rules")
    os.makedirs(rules_dir, exist_ok=True)
    shutil.copy(os.path.join(RULES, "PH_Rule_TH_Linux_23.xml"), rules_dir)
    agent = Agent("ebpf_prompt_reload", "ebpf", args=("--rules", rules_dir))
    try:
        wait_until_attached(agent)
        with open(os.path.join(rules_dir, "printenv.xml"), "w") as f:
            f.write('<Rule id="LOCAL_PRINTENV"><Name>printenv ran</Name><IncidentDef eventType="LOCAL_PRINTENV" '
                    'severity="2"><ArgList>swParam = F.swParam</ArgList></IncidentDef><PatternClause window="60">'
                    '<SubPattern name="F"><SingleEvtConstr>procName = "PrintEnv"</SingleEvtConstr>'
                    '<GroupByAttr>swParam</GroupByAttr><GroupEvtConstr>COUNT(*) &gt;= 1</GroupEvtConstr>'
                    '</SubPattern></PatternClause></Rule>')
        agent.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and agent.status()["rules"] != 2:
            time.sleep(0.1)
        assert agent.status()["rules"] == 2, agent.log_text()
        time.sleep(1.5)  # the capture thread takes the new rules at its next input or idle check
        delays = delays_under_a_stream(agent, "LOCAL_PRINTENV", ["/usr/bin/printenv"])
        print(f"  printenv, named after the reload, reached the agent in {', '.join(f'{d:.0f}' for d in delays)} ms",
              flush=True)
        assert max(delays) < 40, delays
    finally:
        agent.stop()


def test_ebpf_wakes_at_once_for_a_lone_exec():
    """Under a stream of execs the agent drains the ring on a timer and the probe does not wake it
    per record; when the stream stops it goes back to sleeping until a record wakes it. A lone
    exec after a quiet second, even of a program no rule names (/bin/true), must then arrive at
    once, not at the next one-second idle check (the probe reads the agent's flag after reserving
    its record: no wake-up is lost)."""
    agent = Agent("ebpf_wakeup", "ebpf")
    try:
        wait_until_attached(agent)
        load = exec_load()
        delays = []
        for round in range(6):
            sh(load, "1000", "0.3")  # a stream: the agent drains on its timer
            time.sleep(1.1)  # quiet: it sleeps until woken
            before = agent.status()["events"]
            started = time.monotonic()
            subprocess.run(["/bin/true"], check=True)
            while agent.status()["events"] == before and time.monotonic() - started < 5:
                time.sleep(0.005)
            delays.append(time.monotonic() - started)
        print(f"  a lone exec after a quiet second reached the agent in {', '.join(f'{d * 1000:.0f}' for d in delays)} ms",
              flush=True)
        assert max(delays) < 0.4, delays
        assert agent.status()["kernelLost"] == 0
    finally:
        agent.stop()


def test_ebpf_with_a_missing_btf_file_fails_clearly_and_auto_goes_on():
    env = {"EXECWATCH_EBPF_BTF_PATH": "/nonexistent/vmlinux"}
    state = os.path.join(WORK, "ebpf_nobtf")
    os.makedirs(state, exist_ok=True)
    proc = subprocess.run(
        [BIN, "run", "--source", "ebpf", "--state-dir", state, "--status-socket", os.path.join(state, "s.sock"),
         "--rules", RULES], capture_output=True, text=True, timeout=30,
        env=dict(os.environ, EXECWATCH_METRICS_LISTEN="off", **env))
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "the BTF file /nonexistent/vmlinux (ebpf.btfPath) cannot be read" in proc.stderr, proc.stderr
    with AuditLock():
        before = audit_state()
        agent = Agent("ebpf_auto", "auto", extra_env=env)
        try:
            status = agent.status()
            assert status["source"] != "ebpf", status
            assert "/nonexistent/vmlinux" in status["sourceReason"], status
            assert "source ebpf cannot be used: " in agent.log_text()
        finally:
            agent.stop()
        assert audit_state() == before


def test_auto_picks_ebpf_when_the_probe_loads():
    agent = Agent("ebpf_auto_ok", "auto")
    try:
        status = wait_until_attached(agent)
        assert status["source"] == "ebpf", status
        assert "eBPF probe loads" in status["sourceReason"], status
    finally:
        agent.stop()


def test_sighup_reloads_rules_and_keeps_windows_of_unchanged_ones():
    rules_dir = os.path.join(WORK, "reload-rules")
    os.makedirs(rules_dir)
    shutil.copy(os.path.join(RULES, "PH_Rule_TH_Linux_23.xml"), rules_dir)
    with AuditLock():
        before = audit_state()
        agent = Agent("reload", "audit-unicast", args=("--rules", rules_dir))
        try:
            run_as(["/usr/bin/nc", "-h"], "root")
            agent.settle()
            first = {i["ruleId"]: i for i in agent.incidents()}
            assert set(first) == {"PH_Rule_TH_Linux_23"} and first["PH_Rule_TH_Linux_23"]["count"] == 1, (first, agent.log_text())
            with open(os.path.join(rules_dir, "true.xml"), "w") as f:
                f.write('<Rule id="LOCAL_TRUE"><Name>true ran</Name><IncidentDef eventType="LOCAL_TRUE" severity="2"/>'
                        '<PatternClause window="60"><SubPattern name="F"><SingleEvtConstr>procName = "true"'
                        '</SingleEvtConstr><GroupByAttr>hostName, user</GroupByAttr><GroupEvtConstr>COUNT(*) &gt;= 1'
                        '</GroupEvtConstr></SubPattern></PatternClause></Rule>')
            agent.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while time.time() < deadline and agent.status()["rules"] != 2:
                time.sleep(0.1)
            assert agent.status()["rules"] == 2, agent.log_text()
            run_as(["/bin/true"], "root")
            run_as(["/usr/bin/nc", "-h"], "root")
            agent.settle()
            second = {i["ruleId"]: i for i in agent.incidents()}
            assert set(second) == {"PH_Rule_TH_Linux_23", "LOCAL_TRUE"}, second.keys()
            netcat = second["PH_Rule_TH_Linux_23"]
            assert netcat["incidentId"] == first["PH_Rule_TH_Linux_23"]["incidentId"]
            assert netcat["count"] == 2 and netcat["version"] == 2, netcat
            assert "rules reloaded" in agent.log_text()
        finally:
            agent.stop()
        assert audit_state() == before


def test_sigkill_loses_no_stored_incident():
    key = "execwatch-live-kill"
    with AuditLock():
        before = audit_state()
        agent = restarted = None
        try:
            agent = Agent("kill", "audit-unicast", extra_env={"EXECWATCH_AUDIT_KEY": key})
            agent.running()
            for n in range(20):
                run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", str(40000 + n)], "root")
            status = agent.settle()
            stored = status["incidentsStored"]
            assert stored == 20, status
            agent.proc.send_signal(signal.SIGKILL)
            agent.proc.wait(timeout=10)
            # Killed, the agent could not clean up: its rules stay, and its record of the audit
            # state it found tells the restarted agent what to put back on stop.
            assert os.path.exists(os.path.join(agent.dir, "audit-state"))
            got = {i["attributes"]["swParam"] for i in agent.incidents()}
            assert got == {f"-z -w 1 127.0.0.1 {40000 + n}" for n in range(20)}, got
            # A restart on the same state directory continues the same incidents.
            agent.log.close()
            restarted = Agent.__new__(Agent)
            restarted.dir = agent.dir
            restarted.socket = agent.socket
            restarted.log = open(os.path.join(agent.dir, "agent.log"), "a")
            env = dict(os.environ, EXECWATCH_METRICS_LISTEN="off", EXECWATCH_AUDIT_KEY=key)
            restarted.proc = subprocess.Popen(
                [BIN, "run", "--source", "audit-unicast", "--state-dir", agent.dir, "--status-socket", agent.socket,
                 "--rules", RULES, "--host", "live-test"], stdout=restarted.log, stderr=subprocess.STDOUT, env=env)
            deadline = time.time() + 20
            while time.time() < deadline and restarted.status() is None:
                assert restarted.proc.poll() is None, restarted.log_text()
                time.sleep(0.1)
            try:
                # Status answers while the source is still being set up: an nc run then was missed.
                restarted.running()
                run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "40000"], "root")
                restarted.settle()
                again = {i["attributes"]["swParam"]: i for i in restarted.incidents()}
                assert len(again) == 20
                repeated = again["-z -w 1 127.0.0.1 40000"]
                assert repeated["count"] == 2 and repeated["version"] == 2, (repeated, restarted.log_text())
            finally:
                restarted.stop()
            assert not os.path.exists(os.path.join(agent.dir, "audit-state"))
            after = audit_state()
        finally:
            # Only if the agent failed to: the host must not keep a test's leftovers (an agent an
            # assertion left running would keep owning audit and fail every later audit test).
            for left in (getattr(a, "proc", None) for a in (agent, restarted)):
                if left is not None and left.poll() is None:
                    left.kill()
                    left.wait(timeout=10)
            subprocess.run(["auditctl", "-D", "-k", key], capture_output=True)
            set_audit_settings(before)
        assert after == before, f"{before} -> {after}"


def start_killed_agent(name, key, runs=3):
    """An audit-unicast agent that saw a few execs, then SIGKILLed (it restores nothing)."""
    agent = Agent(name, "audit-unicast", extra_env={"EXECWATCH_AUDIT_KEY": key})
    for n in range(runs):
        run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", str(41000 + n)], "root")
    agent.settle()
    during = audit_state()
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(timeout=10)
    agent.log.close()
    return agent, during


def test_sigkill_restart_stop_leaves_audit_as_before_the_first_start():
    key = "execwatch-live-crash"
    with AuditLock(), KnownAuditState() as before:
        try:
            agent, during = start_killed_agent("crash-restart", key)
            # The leak the restarted agent must not take for the host's state.
            assert during["enabled"] == "1" and during["backlog_limit"] == "8192", during
            assert during["backlog_wait_time"] == "0" and f"key={key}" in during["rules"], during
            record = open(os.path.join(agent.dir, "audit-state")).read()
            assert "enabled 0\nbacklog_limit 64\nbacklog_wait_time 15000\n" in record, record
            restarted = Agent("crash-restart", "audit-unicast", extra_env={"EXECWATCH_AUDIT_KEY": key})
            try:
                restarted.running()
                assert "put back the audit state a killed agent left changed" in restarted.log_text()
                run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "41000"], "root")
                restarted.settle()
                # Its own rules only, once: the dead agent's were removed before.
                assert audit_state()["rules"].count(f"key={key}") == during["rules"].count(f"key={key}")
            finally:
                restarted.stop()
            assert not os.path.exists(os.path.join(agent.dir, "audit-state"))
            after = audit_state()
        finally:
            subprocess.run(["auditctl", "-D", "-k", key], capture_output=True)
        assert after == before, f"{before} -> {after}"


def test_sigkill_then_audit_restore_leaves_audit_as_found():
    key = "execwatch-live-restore"
    with AuditLock(), KnownAuditState() as before:
        try:
            agent, during = start_killed_agent("crash-restore", key)
            assert during != before
            restored = sh(BIN, "audit", "restore", "--state-dir", agent.dir).stdout
            assert "put back" in restored and "enabled=0, backlog_limit=64, backlog_wait_time=15000" in restored, restored
            after = audit_state()
            assert not os.path.exists(os.path.join(agent.dir, "audit-state"))
            again = sh(BIN, "audit", "restore", "--state-dir", agent.dir).stdout
            assert "nothing to restore" in again, again
        finally:
            subprocess.run(["auditctl", "-D", "-k", key], capture_output=True)
        assert after == before, f"{before} -> {after}"


def test_audit_restore_leaves_a_running_agents_audit_alone():
    key = "execwatch-live-restore-running"
    with AuditLock(), KnownAuditState() as before:
        try:
            agent = Agent("restore-running", "audit-unicast", extra_env={"EXECWATCH_AUDIT_KEY": key})
            try:
                during = audit_state()
                said = sh(BIN, "audit", "restore", "--state-dir", agent.dir).stdout
                assert "another execwatch agent" in said and "restores audit when it stops" in said, said
                assert audit_state() == during
                assert os.path.exists(os.path.join(agent.dir, "audit-state"))
            finally:
                agent.stop()
            after = audit_state()
        finally:
            subprocess.run(["auditctl", "-D", "-k", key], capture_output=True)
        assert after == before, f"{before} -> {after}"


def write_record_from_another_boot(state_dir, key):
    """A record an agent wrote before a reboot: its settings must not be applied in this boot."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    path = os.path.join(state_dir, "audit-state")
    with open(path, "w") as f:
        f.write("boot_id 00000000-0000-0000-0000-000000000000\nenabled 1\nbacklog_limit 999\n"
                f"backlog_wait_time 7\nrule b64 execve,execveat {key}\n")
    os.chmod(path, 0o600)
    return path


def test_audit_state_record_from_another_boot_is_ignored():
    key = "execwatch-live-other-boot"
    with AuditLock(), KnownAuditState() as before:
        try:
            # By `audit restore`: removed, audit untouched.
            path = write_record_from_another_boot(os.path.join(WORK, "other-boot-restore"), key)
            said = sh(BIN, "audit", "restore", "--state-dir", os.path.dirname(path)).stdout
            assert "another boot" in said and "nothing to restore" in said, said
            assert not os.path.exists(path)
            assert audit_state() == before
            # By the agent at start: not taken as what it found, so its stop puts back this boot's state.
            path = write_record_from_another_boot(os.path.join(WORK, "other-boot-agent"), key)
            agent = Agent("other-boot-agent", "audit-unicast", extra_env={"EXECWATCH_AUDIT_KEY": key})
            try:
                agent.running()
                assert "a record from another boot" in agent.log_text(), agent.log_text()
                assert "boot_id 00000000-0000-0000-0000-000000000000" not in open(path).read()
            finally:
                agent.stop()
            assert not os.path.exists(path)
            after = audit_state()
        finally:
            subprocess.run(["auditctl", "-D", "-k", key], capture_output=True)
        assert after == before, f"{before} -> {after}"


def test_capture_thread_keeps_only_what_its_source_needs():
    with AuditLock():
        before = audit_state()
        agent = Agent("caps_root", "audit-unicast")
        try:
            assert agent.running()["capabilities"] == ["cap_audit_control"], agent.status()
            assert agent.status()["user"] == "root"
        finally:
            agent.stop()
        assert audit_state() == before


def test_switches_user_and_still_detects_and_hands_audit_back():
    os.chmod(WORK, 0o755)  # the agent's user must reach its state directory
    with AuditLock():
        before = audit_state()
        agent = Agent("as_nobody", "audit-unicast", extra_env={"EXECWATCH_USER": OTHER_USER})
        try:
            deadline = time.time() + 10
            while time.time() < deadline and agent.status()["user"] != OTHER_USER:
                time.sleep(0.1)
            status = agent.status()
            assert status["user"] == OTHER_USER and status["capabilities"] == ["cap_audit_control"], status
            # Every live thread runs as the user; only one (the capture thread) keeps a capability:
            # CAP_AUDIT_CONTROL (bit 30).
            capability_sets = []
            for task in os.listdir(f"/proc/{agent.proc.pid}/task"):
                with open(f"/proc/{agent.proc.pid}/task/{task}/status") as f:
                    fields = dict(line.split(":", 1) for line in f.read().splitlines())
                assert fields["Uid"].split() == ["65534"] * 4, (task, fields["Uid"])
                capability_sets.append(int(fields["CapEff"].strip(), 16))
            assert sorted(capability_sets)[-1] == 1 << 30 and sorted(capability_sets)[:-1] == [0] * (len(capability_sets) - 1), capability_sets
            run_as(["/usr/bin/nc", "-h"], "root")
            agent.settle()
            assert [i["attributes"]["procName"] for i in agent.incidents()] == ["nc"]
            assert os.stat(os.path.join(agent.dir, "agent.db")).st_uid == 65534
        finally:
            agent.stop()
        assert audit_state() == before
        # The state directory is the user's now: the agent starts again in it with that user...
        agent = Agent("as_nobody", "audit-unicast", extra_env={"EXECWATCH_USER": OTHER_USER})
        try:
            assert agent.status()["incidentsStored"] == 0
            assert [i["attributes"]["procName"] for i in agent.incidents()] == ["nc"]
        finally:
            agent.stop()
        assert audit_state() == before
    # ... but not as root without `user:`: another user controls that directory.
    proc = start_refused(agent.dir)
    assert f"{agent.dir}: owned by nobody (uid 65534), not by root (uid 0)" in proc.stderr, proc.stderr


def test_privileges_that_cannot_be_dropped_stop_the_agent_with_a_fatal_line_and_exit_1():
    """A bounding set without CAP_SETGID and CAP_SETUID (what a unit's CapabilityBoundingSet= can
    leave out): the source sets up, switching to `user` fails, and the agent must not go on
    (nor pretend it stopped normally)."""
    os.chmod(WORK, 0o755)  # the agent's user must reach its state directory
    state = os.path.join(WORK, "no_setuid")
    proc = subprocess.run(
        ["setpriv", "--bounding-set", "-setuid,-setgid", BIN, "run", "--source", "proc-poll", "--state-dir", state,
         "--status-socket", os.path.join(WORK, "no_setuid.sock"), "--rules", RULES],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, EXECWATCH_METRICS_LISTEN="off", EXECWATCH_USER=OTHER_USER))
    assert proc.returncode == 1, f"exit {proc.returncode}, expected 1\n{proc.stderr}"
    fatal = [line for line in proc.stderr.splitlines() if line.startswith("<3>")]
    assert len(fatal) == 1 and "cannot drop privileges" in fatal[0] and "setgroups" in fatal[0] \
        and "Operation not permitted" in fatal[0], proc.stderr
    assert not any(line.startswith(("<0>", "<1>", "<2>")) for line in proc.stderr.splitlines()), proc.stderr


def test_parent_started_before_the_agent_is_named_from_proc():
    """A parent the agent never saw exec gets its name and command line from
    /proc/PPID (checked against its start time), in the audit and the eBPF source alike."""
    for source in ("audit-unicast", "ebpf"):
        parent_started_before_the_agent(source)


def parent_started_before_the_agent(source):
    script = "read line; /usr/bin/nc -h; read line"
    with AuditLock():
        before = audit_state()
        # The parent runs before the agent starts, so the agent never saw it exec; it stays until
        # the agent has handled its child's exec (a parent already gone cannot be read in /proc).
        parent = subprocess.Popen(["/bin/bash", "-c", script], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            agent = Agent("parent_before_" + source.replace("-", "_"), source)
            try:
                if source == "ebpf":
                    wait_until_attached(agent)
                parent.stdin.write(b"go\n")
                parent.stdin.flush()
                agent.settle()
                parent.communicate(b"done\n", timeout=10)
                incidents = [i for i in agent.incidents() if i["triggerEvents"][0]["parentProcId"] == parent.pid]
                assert len(incidents) == 1, incidents  # other programs on the host may run nc too
                event = incidents[0]["triggerEvents"][0]
                assert event["parentProcId"] == parent.pid and event.get("parentProcName") == "bash", event
                # Neither source keeps cap_sys_ptrace once set up: /proc/PPID/exe of a root process
                # with all capabilities fails the kernel's ptrace check (cmdline and comm do not).
                assert "parentExePath" not in event, event
                assert event.get("parentCommandLine") == f"/bin/bash -c {script}", event
                assert event.get("invokedPath") == "/usr/bin/nc", event
            finally:
                agent.stop()
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
        assert audit_state() == before


def test_plain_http_to_another_host_is_refused_at_start():
    state = os.path.join(WORK, "plain-http")
    os.makedirs(state)
    config = os.path.join(state, "agent.yaml")
    with open(config, "w") as f:
        f.write("forward:\n  url: http://192.0.2.1:8443\n")
    proc = start_refused(state, "--config", config)
    assert 'forward.url "http://192.0.2.1:8443": plain http:// is allowed only to a loopback address' in proc.stderr, proc.stderr


def start_refused(state_dir, *args):
    """`execwatch run` (proc-poll, so audit is not touched) in `state_dir`, expected to refuse to start."""
    proc = subprocess.run([BIN, "run", "--source", "proc-poll", "--state-dir", state_dir, "--status-socket",
                           os.path.join(WORK, "refused.sock"), "--rules", RULES, *args],
                          capture_output=True, text=True, timeout=30, env=dict(os.environ, EXECWATCH_METRICS_LISTEN="off"))
    assert proc.returncode == 2, f"exit {proc.returncode}, expected 2 (configuration error)\n{proc.stderr}"
    return proc


def make_victim(name):
    """A root-owned file outside any state directory, that links in one point at."""
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write("do not touch\n")
    os.chmod(path, 0o644)
    return path


def assert_untouched(victim):
    info = os.stat(victim)
    with open(victim) as f:
        assert f.read() == "do not touch\n", victim
    assert (info.st_uid, info.st_mode & 0o7777) == (0, 0o644), (info.st_uid, oct(info.st_mode))


def test_state_directory_links_are_not_followed():
    victim = make_victim("victim")
    for name in ["agent.lock", "agent.db", "agent-id"]:
        state = os.path.join(WORK, "linked-" + name)
        os.makedirs(state, mode=0o700)
        os.symlink(victim, os.path.join(state, name))
        proc = start_refused(state)
        assert f"{state}/{name}: is a symbolic link; refusing to follow it" in proc.stderr, proc.stderr
        assert_untouched(victim)
    # `execwatch incidents` reads no journal through a link either.
    proc = subprocess.run([BIN, "incidents", "--state-dir", os.path.join(WORK, "linked-agent.db")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "agent.db: is a symbolic link" in proc.stderr, proc
    assert_untouched(victim)
    # Nor is a linked state directory.
    os.symlink(os.path.join(WORK, "linked-agent.lock"), os.path.join(WORK, "linked-dir"))
    proc = start_refused(os.path.join(WORK, "linked-dir"))
    assert f"{WORK}/linked-dir: is a symbolic link" in proc.stderr, proc.stderr


def test_state_directory_others_can_change_is_refused():
    state = os.path.join(WORK, "open-state")
    os.makedirs(state)
    os.chmod(state, 0o777)
    proc = start_refused(state)
    assert f"{state}: the state directory is writable by group or others (mode 0777)" in proc.stderr, proc.stderr
    assert os.listdir(state) == [], os.listdir(state)
    os.chmod(state, 0o700)
    os.chown(state, 65534, 65534)
    proc = start_refused(state)
    assert f"{state}: owned by nobody (uid 65534), not by root (uid 0)" in proc.stderr, proc.stderr
    assert os.listdir(state) == [], os.listdir(state)


def test_a_new_state_directory_is_made_0700():
    # As the README's `execwatch run --state-dir /tmp/ew`: a directory that does not exist yet.
    parent = os.path.join(WORK, "new-state")
    os.makedirs(parent)
    state = os.path.join(parent, "ew")
    sock = os.path.join(parent, "agent.sock")
    proc = subprocess.Popen([BIN, "run", "--source", "proc-poll", "--state-dir", state, "--status-socket", sock,
                             "--rules", RULES], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, EXECWATCH_METRICS_LISTEN="off"))
    try:
        deadline = time.time() + 20
        while time.time() < deadline and subprocess.run([BIN, "status", "--socket", sock], capture_output=True).returncode != 0:
            assert proc.poll() is None, f"agent exited {proc.returncode}"
            time.sleep(0.1)
        info = os.stat(state)
        assert (info.st_uid, info.st_mode & 0o7777) == (0, 0o700), (info.st_uid, oct(info.st_mode))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_auto_without_audit_capabilities_picks_the_proc_connector():
    state = os.path.join(WORK, "nocaps")
    os.makedirs(state)
    sock = os.path.join(state, "agent.sock")
    env = dict(os.environ, EXECWATCH_METRICS_LISTEN="off")
    command = f"exec {BIN} run --source auto --state-dir {state} --status-socket {sock} --rules {RULES}"
    # Without CAP_BPF and CAP_PERFMON, the eBPF source is passed over first.
    proc = subprocess.Popen(["capsh", "--drop=cap_audit_control,cap_audit_read,cap_bpf,cap_perfmon", "--", "-c", command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 20
        status = None
        while time.time() < deadline and status is None:
            result = subprocess.run([BIN, "status", "--json", "--socket", sock], capture_output=True, text=True)
            status = json.loads(result.stdout) if result.returncode == 0 else None
            time.sleep(0.1)
        assert status is not None, "agent did not start"
        assert status["source"] == "proc-connector", status
        assert "CAP_AUDIT_CONTROL is missing" in status["sourceReason"], status["sourceReason"]
        assert "CAP_BPF and CAP_PERFMON are missing" in status["sourceReason"], status["sourceReason"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_outbox_bound_drops_oldest_changes_and_counts_them():
    with AuditLock():
        before = audit_state()
        agent = Agent("outbox", "audit-unicast", extra_env={"EXECWATCH_OUTBOX_MAX_DEPTH": "3"})
        try:
            for n in range(5):
                run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", str(41000 + n)], "root")
            status = agent.settle()
            assert status["outboxDepth"] == 3 and status["outboxDropped"] == 2, status
            assert len(agent.incidents()) == 5  # the journal keeps every incident
        finally:
            agent.stop()
        assert audit_state() == before


def test_status_reports_loss_counters_and_capabilities():
    agent = Agent("status", "proc-poll", extra_env={"EXECWATCH_METRICS_LISTEN": "127.0.0.1:19466"})
    try:
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:19466/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'execwatch_source_info{source="proc-poll"} 1' in metrics, metrics
        for name in ["events_total", "failed_execs_total", "kernel_lost", "agent_drops_total", "outbox_depth",
                     "arguments_truncated_total",
                     "outbox_dropped_total",
                     "incidents_stored_total", "resident_memory_bytes"]:
            assert f"# TYPE execwatch_{name} " in metrics, name
        try:
            urllib.request.urlopen("http://127.0.0.1:19466/other", timeout=5)
            raise AssertionError("/other answered")
        except urllib.error.HTTPError as error:
            assert error.code == 404
        status = agent.status()
        for key in ["source", "sourceReason", "uptimeSeconds", "events", "eventsPerSecond", "failedExecs",
                    "malformedRecords", "kernelLost", "agentDrops", "incidentsCreated", "outboxDepth", "outboxDropped",
                    "capabilities", "residentBytes"]:
            assert key in status, key
        assert "polling" in status["sourceLimitations"]
        assert status["residentBytes"] > 0
    finally:
        agent.stop()


def main():
    run_tests(globals(), os.path.basename(__file__), 2)


if __name__ == "__main__":
    main()
