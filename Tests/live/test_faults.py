"""Faults injected into a running agent, as root, against the real kernel (issue 11): each test
states the outcome the README's "What happens when…" section promises, and leaves the host as
found (no mount, no auditd, audit state as before). Run by Tests/live/test-live.sh after
test_live.py; prints `N passed, N failed` last.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import BIN, ROOT, RULES, WORK, Agent, run_as, wait_until_attached  # noqa: E402
from host_tests import AuditLeftAsFound, AuditLock, audit_state, run_tests, sh  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    return {line.split(" ")[0]: line.split(" ")[1] for line in lines if line and not line.startswith("#")}


def wait_for(what, condition, seconds=20, interval=0.2):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class AgentOnSmallDisk(Agent):
    """`execwatch run` whose state directory is a small tmpfs mounted in a mount namespace of its
    own (`unshare -m`): the mount goes away with the agent. The shell around it copies the
    journal out after the agent stopped, so the test can read what it left."""

    def __init__(self, name, source, size, extra_env=None):
        self.dir = os.path.join(WORK, name)
        self.after = os.path.join(WORK, name + "-after")
        os.makedirs(self.dir)
        os.makedirs(self.after)
        self.socket = os.path.join(WORK, name + ".sock")
        env = dict(os.environ, EXECWATCH_METRICS_LISTEN="off")
        env.update(extra_env or {})
        self.log = open(os.path.join(WORK, name + ".log"), "a")
        self.log_path = self.log.name
        script = (
            'dir=$1 after=$2; shift 2\n'
            f'mount -t tmpfs -o size={size},mode=0700 execwatch-test "$dir" || exit 99\n'
            '"$@" & agent=$!\n'
            'trap \'kill -TERM $agent\' TERM\n'
            'wait $agent; code=$?\n'
            'while kill -0 $agent 2>/dev/null; do wait $agent; code=$?; done\n'
            'cp -a "$dir"/. "$after"/ && exit $code\n'
        )
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", self.dir, self.after,
             BIN, "run", "--source", source, "--state-dir", self.dir, "--status-socket", self.socket,
             "--rules", RULES, "--host", "live-test"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for("the agent's status", lambda: self.proc.poll() is not None or self.status() is not None)
        assert self.proc.poll() is None, f"agent exited {self.proc.returncode}:\n{self.log_text()}"
        children = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
        assert len(children) == 1, children
        self.agent_pid = int(children[0])
        # The state directory as the agent sees it (its mount namespace).
        self.inside = f"/proc/{self.agent_pid}/root{self.dir}"

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-6000:]

    def fill(self):
        """Fills the tmpfs to the last byte."""
        path = os.path.join(self.inside, "filler")
        with open(path, "wb", buffering=0) as f:
            chunk = b"\0" * 65536
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
            try:
                while True:
                    f.write(b"\0")
            except OSError:
                pass
        return path

    def incidents_after(self):
        proc = sh(BIN, "incidents", "--json", "--state-dir", self.after)
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_state_directory_full_keeps_detecting_counts_and_resumes():
    key = "execwatch-live-disk-full"
    port = free_port()
    with AuditLock(), AuditLeftAsFound(key):
        agent = AgentOnSmallDisk("disk-full", "audit-unicast", "1m", extra_env={
            "EXECWATCH_AUDIT_KEY": key, "EXECWATCH_METRICS_LISTEN": f"127.0.0.1:{port}"})
        try:
            run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "42000"], "root")
            assert agent.settle()["incidentsStored"] == 1
            filler = agent.fill()
            # Three new incidents and two updates while nothing can be written.
            for port_number in [42001, 42002, 42003, 42000, 42000]:
                run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", str(port_number)], "root")
            full = wait_for("the changes to wait", lambda: (lambda s: s if s["incidentsCreated"] == 4
                            and s["incidentsUpdated"] == 2 and s["journalWaiting"] == 5 else None)(agent.status()))
            assert full["incidentsStored"] == 1 and full["journalStoreFailures"] > 0, full
            assert "full" in full["journalError"], full
            assert full["agentDrops"] == 0, full
            exposed = metrics(port)
            assert exposed["execwatch_journal_waiting"] == "5", exposed
            assert int(exposed["execwatch_journal_store_failures_total"]) > 0, exposed
            # Detection goes on: another exec is still seen while the disk is full.
            run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "42004"], "root")
            wait_for("a fifth incident", lambda: agent.status()["incidentsCreated"] == 5)
            time.sleep(7)  # several retries fail: still one line, not one per retry or per change
            log = agent.log_text()
            assert log.count(": cannot store incident changes") == 1, log
            os.unlink(filler)
            status = agent.settle(seconds=0)
            assert status["incidentsStored"] == 7 and status["journalWaiting"] == 0, status
            assert status.get("journalError") is None, status
            assert "storing incident changes again" in agent.log_text(), agent.log_text()
        finally:
            os.kill(agent.proc.pid, signal.SIGTERM)
            code = agent.proc.wait(timeout=30)
            agent.log.close()
        assert code == 0, f"exit {code}\n{agent.log_text()}"
        # Nothing stored was lost: every incident with every change, in the journal left behind.
        got = {i["attributes"]["swParam"]: (i["count"], i["version"]) for i in agent.incidents_after()}
        assert got == {
            "-z -w 1 127.0.0.1 42000": (3, 3),
            "-z -w 1 127.0.0.1 42001": (1, 1),
            "-z -w 1 127.0.0.1 42002": (1, 1),
            "-z -w 1 127.0.0.1 42003": (1, 1),
            "-z -w 1 127.0.0.1 42004": (1, 1),
        }, got
        assert "execwatch-test" not in open("/proc/self/mounts").read()


def test_auditd_started_while_the_agent_owns_audit_is_refused_noticed_and_capture_goes_on():
    """And its rules removed by another program are noticed and added again."""
    key = "execwatch-live-auditd-claims"
    with AuditLock(), AuditLeftAsFound(key):
        conf_dir = os.path.join(WORK, "claiming-auditd")
        os.makedirs(os.path.join(conf_dir, "plugins.d"))
        with open(os.path.join(ROOT, "scripts", "temporary-auditd.conf")) as f:
            template = f.read()
        with open(os.path.join(conf_dir, "auditd.conf"), "w") as f:
            f.write(template.replace("@LOG_FILE@", f"{conf_dir}/audit.log")
                    .replace("@PLUGIN_DIR@", f"{conf_dir}/plugins.d").replace("@FLUSH@", "INCREMENTAL_ASYNC"))
        os.chmod(os.path.join(conf_dir, "auditd.conf"), 0o640)
        auditd = None
        agent = Agent("auditd-claims", "audit-unicast", extra_env={"EXECWATCH_AUDIT_KEY": key})
        try:
            owned = wait_for("the agent to own audit", lambda: (lambda s: s if s["pid"] == str(agent.proc.pid)
                                                                 and s["rules"].count(key) == 2 else None)(audit_state()))
            started = time.time()
            auditd = subprocess.Popen(["auditd", "-n", "-s", "enable", "-c", conf_dir],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            # The kernel refuses auditd while the agent is the live audit daemon...
            assert auditd.wait(timeout=20) != 0, "auditd took audit from a live agent"
            # ... tells the agent, which says so within seconds, naming who tried.
            log = wait_for("the agent's warning", lambda: (lambda t: t if "asked to become the audit daemon" in t
                                                           else None)(agent.log_text()), seconds=5)
            assert time.time() - started < 10
            line = next(l for l in log.splitlines() if "asked to become the audit daemon" in l)
            assert line.startswith("<4>") and f"pid {auditd.pid}" in line and "refused" in line, line
            status = agent.status()
            assert status["source"] == "audit-unicast" and status["auditClaimsRefused"] >= 1, status
            assert audit_state() == owned, "the refused auditd changed audit"
            # Capture goes on from audit, which still works.
            run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "43000"], "root")
            agent.settle()
            assert [i["attributes"]["swParam"] for i in agent.incidents()] == ["-z -w 1 127.0.0.1 43000"]
            # What auditd's `augenrules --load` (`-D` first) does to the agent's rules: noticed
            # within seconds, said, and the rules added again.
            sh("auditctl", "-D", "-k", key)
            status = wait_for("the rules to be added again", lambda: (lambda s: s if s["auditRulesRestored"] == 2
                                                                      else None)(agent.status()), seconds=15)
            assert audit_state() == owned
            line = next(l for l in agent.log_text().splitlines() if "removed this agent's audit exec rules" in l)
            assert line.startswith("<4>") and f"key {key}" in line, line
            run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "43000"], "root")
            agent.settle()
            assert [i["count"] for i in agent.incidents()] == [2]
        finally:
            agent.stop()
            if auditd and auditd.poll() is None:
                auditd.kill()
                auditd.wait()


def kernel_lost():
    fields = dict(line.split(" ", 1) for line in sh("auditctl", "-s").stdout.splitlines() if " " in line)
    return int(fields["lost"])


def exec_load():
    """scripts/lib/exec-load.c, compiled once into the work directory."""
    path = os.path.join(WORK, "exec-load")
    if not os.path.exists(path):
        sh("gcc", "-O2", "-Wall", "-o", path, os.path.join(ROOT, "scripts", "lib", "exec-load.c"))
    return path


def exec_load_at(rate, seconds, generators=4):
    """`rate` exec/s for `seconds` from `generators` exec-load processes at once (one process
    launches one exec after the other, so under audit it tops out well below 1000/s), and the rate
    they measured: (launched, launched per second over the longest run, failed)."""
    load = exec_load()
    procs = [subprocess.Popen([load, str(rate // generators), str(seconds)], stdout=subprocess.PIPE, text=True)
             for _ in range(generators)]
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 60)
        reports.append(dict(field.split("=") for field in out.split()))
    launched = sum(int(r["launched"]) for r in reports)
    failed = sum(int(r["failed"]) for r in reports)
    return launched, launched / max(float(r["elapsed_s"]) for r in reports), failed


def test_sigstop_for_30s_under_1000_execs_per_second_counts_kernel_drops_and_recovers():
    """Both sources that can lose in the kernel at once, stopped for the same 30 s: audit-unicast
    (the kernel's audit backlog and the agent's socket fill, then the kernel drops and counts
    `lost`) and ebpf (the ring fills, then the probe counts what it had no room for)."""
    key = "execwatch-live-sigstop"
    with AuditLock(), AuditLeftAsFound(key):
        lost_at_start = kernel_lost()  # kernelLost counts from the agent's set-up on
        # A small kernel backlog (320 records): with the default (8192) this kernel was seen not
        # to count a loss within the 30 s (its audit thread waits on the stopped agent's socket).
        audit = Agent("sigstop-audit", "audit-unicast",
                      extra_env={"EXECWATCH_AUDIT_KEY": key, "EXECWATCH_AUDIT_BACKLOG_LIMIT": "320"})
        ebpf = Agent("sigstop-ebpf", "ebpf")
        agents = [audit, ebpf]
        try:
            wait_until_attached(ebpf)
            wait_for("audit to be set up", lambda: audit.status()["sourceRunning"]
                     and audit_state()["rules"].count(f"key={key}") == 2)
            lost_before = kernel_lost()
            for agent in agents:
                agent.proc.send_signal(signal.SIGSTOP)
            launched, rate, failed = exec_load_at(1000, 30)
            lost_while_stopped = kernel_lost() - lost_before
            for agent in agents:
                agent.proc.send_signal(signal.SIGCONT)
            print(f"  while stopped: {rate:.0f} exec/s launched, audit lost {lost_while_stopped} records", flush=True)
            # The load this test is about, measured: not met is a failure, never a quiet pass.
            assert rate >= 900 and failed == 0, \
                f"the machine launched only {rate:.0f} exec/s ({failed} failed) while the agents were stopped; needs >= 900"
            # The kernel dropped what neither its backlog nor the agent's socket could hold.
            assert lost_while_stopped > 0
            # Recovered without a restart: the same processes have read what waited and report
            # the kernel's own figures.
            status = wait_for("the kernel's lost counter in status", lambda: (
                lambda s: s if s["kernelLost"] == kernel_lost() - lost_at_start
                and s["kernelBacklog"] < 100 else None)(audit.status()), seconds=30)
            assert status["kernelLost"] >= lost_while_stopped, status
            assert status["uptimeSeconds"] >= 30, status
            # The ring held what it could (~200 bytes an exec); the rest is counted: every exec
            # is an event or at least one record lost (the host's other execs add to both).
            status = wait_for("the ring's losses in status", lambda: (
                lambda s: s if s["kernelLost"] > 0 and s["events"] + s["kernelLost"] >= launched
                else None)(ebpf.status()), seconds=10)
            assert status["events"] > 1000 and status["uptimeSeconds"] >= 30, status
            # And both still detect.
            run_as(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "44000"], "root")
            for agent in agents:
                agent.settle()
                assert agent.proc.poll() is None
                # (another program's netcat execs on the host may add incidents of their own)
                assert "-z -w 1 127.0.0.1 44000" in [i["attributes"]["swParam"] for i in agent.incidents()]
        finally:
            for agent in agents:
                agent.proc.send_signal(signal.SIGCONT)
                agent.stop()


def main():
    run_tests(globals(), os.path.basename(__file__), 2)


if __name__ == "__main__":
    main()
