"""Live: the agent (eBPF source) with every corpus Sigma rule loaded sees real commands and raises
the rules that name them (root).

A netcat reverse shell (`ncat -e /bin/sh` to a loopback listener, and `nc.traditional` reached
through a link named `nc`, which only the path as invoked matches), a base64-decoded pipe to sh,
`chmod +x` of a file in /tmp and running it (a script: the resolved executable is the shell, the
path as invoked is in /tmp), and two discovery commands. `execwatch incidents --json` must hold
each expected rule's incident for the command that should raise it (by ruleId, ruleName and the
command's procName and swParam). Reuses the agent harness of Tests/live. Prints `N passed, N
failed` last.

Usage: test_live.py PATH/TO/execwatch
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "live"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import test_live  # noqa: E402  (Tests/live: Agent, wait_until_attached, loaded_probes, assert_probe_unloaded)
from host_tests import AuditLock, audit_state, run_tests  # noqa: E402

CORPUS = os.environ.get("EXECWATCH_SIGMA_CORPUS",
                        os.path.join(HERE, "..", "..", "..", "shared", "corpora", "sigma", "rules"))

REVERSE_SHELL = ("7f734ed0-4f47-46c0-837f-6ee62505abd9", "Potential Netcat Reverse Shell Execution")
BASE64_DECODE = ("e2072cab-8c9a-459b-b63c-40ae79e27031", "Decode Base64 Encoded Text")
BASE64_PIPE = ("ba592c6d-6888-43c3-b8c6-689b8fe47337", "Linux Base64 Encoded Pipe to Shell")
SHELL_PIPE = ("880973f3-9708-491c-a77b-2a35a1921158", "Linux Shell Pipe to Shell")
CHMOD_TMP = ("6419afd1-3742-47a5-a7e6-b50386cd15f8", "Chmod Targeting Sensitive Directories")
EXEC_FROM_TMP = ("312b42b1-bded-4441-8b58-163a3af58775", "Potentially Suspicious Execution From Tmp Folder")
ACCOUNTS_DISCOVERY = ("b45e3d6f-42c6-47d8-a478-df6bd6cf534c", "Local System Accounts Discovery - Linux")
SYSTEM_INFO = ("42df45e7-e6e9-43b5-8f26-bec5b39cc239", "System Information Discovery")


def loopback_listener():
    """A listener on 127.0.0.1 that tells the shell connecting to it to exit; returns its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(10)

    def serve():
        try:
            connection, _ = server.accept()
            connection.sendall(b"exit\n")
            connection.settimeout(5)
            try:
                connection.recv(1024)
            except OSError:
                pass
            connection.close()
        except OSError:
            pass
        finally:
            server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def run(argv):
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                   timeout=15)


def test_corpus_rules_raise_incidents_for_real_commands():
    assert os.path.isdir(CORPUS), f"the Sigma corpus is missing: {CORPUS}"
    work = tempfile.mkdtemp(prefix="sigma-live-", dir="/tmp")
    link = os.path.join(work, "nc")
    os.symlink("/usr/bin/nc.traditional", link)
    payload = os.path.join(work, "payload")
    with open(payload, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    # (argv, the rules it must raise)
    port1, port2 = loopback_listener(), loopback_listener()
    commands = [
        (["/usr/bin/ncat", "-e", "/bin/sh", "127.0.0.1", str(port1)], [REVERSE_SHELL]),
        ([link, "-e", "/bin/sh", "127.0.0.1", str(port2)], [REVERSE_SHELL]),
        (["sh", "-c", "echo ZWNobyBzaWdtYS1saXZlCg== | base64 -d | sh"], [BASE64_PIPE, SHELL_PIPE]),
        (["/usr/bin/chmod", "+x", payload], [CHMOD_TMP]),
        ([payload], [EXEC_FROM_TMP]),
        (["/usr/bin/id"], [ACCOUNTS_DISCOVERY]),
        (["/usr/bin/uname", "-a"], [SYSTEM_INFO]),
    ]
    with AuditLock():
        before = audit_state()
        probes_before = test_live.loaded_probes()
        agent = test_live.Agent("sigma", "ebpf", args=["--rules", CORPUS])
        try:
            status = test_live.wait_until_attached(agent)
            assert status["source"] == "ebpf", status
            for argv, _ in commands:
                run(argv)
            agent.settle()
            incidents = agent.incidents()
        finally:
            agent.stop()
            subprocess.run(["rm", "-rf", work])
        assert audit_state() == before, "the agent changed audit"
    test_live.assert_probe_unloaded(probes_before)
    # base64, started by the pipe's sh, raises its own rule
    commands.append((["base64", "-d"], [BASE64_DECODE]))
    missing = []
    for argv, rules in commands:
        # The command's incidents: its procName, and its arguments in swParam (a script's
        # arguments as the kernel passes them to the interpreter start with the script's path).
        proc_name, arguments = os.path.basename(argv[0]), " ".join(argv[1:])
        mine = {(i["ruleId"], i["ruleName"]) for i in incidents
                if i.get("attributes", {}).get("procName") == proc_name
                and arguments in (i.get("attributes", {}).get("swParam") or "")}
        for rule in rules:
            if rule not in mine:
                missing.append(f"{' '.join(argv)}: no incident of {rule[1]} ({rule[0]}); its incidents: {sorted(mine)}")
    seen = sorted({(i["ruleName"], i.get("attributes", {}).get("procName")) for i in incidents})
    assert not missing, "\n".join(missing) + f"\nall incidents (rule, procName): {seen}"


def main():
    run_tests(globals(), os.path.basename(__file__), 2)


if __name__ == "__main__":
    main()
