"""What the end-to-end test scripts share: the audit test lock, the host's audit state, and the
runner that prints `N passed, N failed` last."""
import fcntl
import os
import subprocess
import sys
import time
import traceback

LOCK_PATH = "/run/lock/execwatch-audit-tests.lock"


def sh(*args, check=True, **kw):
    return subprocess.run(args, capture_output=True, text=True, check=check, **kw)


def audit_state():
    """Enabled flag, audit pid, backlog limit and wait time, and rules, to compare before and after a test."""
    status = sh("auditctl", "-s").stdout
    fields = dict(line.split(" ", 1) for line in status.splitlines() if " " in line)
    return {
        "enabled": fields.get("enabled"),
        "pid": fields.get("pid"),
        "backlog_limit": fields.get("backlog_limit"),
        "backlog_wait_time": fields.get("backlog_wait_time"),
        "rules": sh("auditctl", "-l").stdout,
    }


def set_audit_settings(state):
    """Sets the enabled flag, backlog limit and wait time of an `audit_state()` (not pid or rules)."""
    sh("auditctl", "-b", state["backlog_limit"])
    sh("auditctl", "--backlog_wait_time", state["backlog_wait_time"])
    sh("auditctl", "-e", state["enabled"])


class KnownAuditState:
    """Within it audit is as a fresh host has it (enabled 0, backlog limit 64, wait time 15000),
    whatever this host had; the host's own settings are put back on the way out. Use under
    `AuditLock`."""

    FRESH = {"enabled": "0", "backlog_limit": "64", "backlog_wait_time": "15000"}

    def __enter__(self):
        self.host = audit_state()
        set_audit_settings(self.FRESH)
        return audit_state()

    def __exit__(self, *exc):
        set_audit_settings(self.host)


class AuditLeftAsFound:
    """Under `AuditLock`, around an agent that changes audit with its rule key: records
    `audit_state()` on entry (returned by `with`). On the way out, also after a failure, it deletes
    the rules with that key and puts back the enabled flag and backlog settings, so the host is
    left as found; when the block ended normally it first checks that the agent itself left audit
    as found (an AssertionError naming what differs)."""

    def __init__(self, key):
        self.key = key

    def __enter__(self):
        self.before = audit_state()
        return self.before

    def __exit__(self, kind, *exc):
        after = audit_state() if kind is None else None
        subprocess.run(["auditctl", "-D", "-k", self.key], capture_output=True)
        set_audit_settings(self.before)
        if kind is None:
            assert after == self.before, f"{self.before} -> {after}"
        return False


class AuditLock:
    """The lock every test and script that touches kernel audit holds (also the Swift tests)."""

    def __enter__(self):
        os.makedirs(os.path.dirname(LOCK_PATH), exist_ok=True)
        self.fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def run_tests(namespace, script, first_name_argument):
    """Runs the `test_*` functions of `namespace` (those named on the command line from
    `first_name_argument` on, or all), as root; prints `N passed, N failed` last and exits."""
    if os.geteuid() != 0:
        print(f"{script}: needs root (real kernel audit)")
        print("0 passed, 1 failed")
        sys.exit(1)
    only = sys.argv[first_name_argument:] if len(sys.argv) > first_name_argument else None
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f) and (not only or n in only)]
    passed = failed = 0
    for name, fn in tests:
        start = time.time()
        try:
            fn()
            passed += 1
            print(f"ok   {name} ({time.time() - start:.1f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
