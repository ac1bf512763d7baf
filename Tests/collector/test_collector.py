"""The agent's forwarder against `execwatch-collector`, end to end, for real.

Real TLS with a CA and certificates generated here by openssl, real agents capturing real netcat
runs through kernel audit (root), real collector processes on loopback, a real PostgreSQL server
(scripts/postgres-for-tests.sh), real process kills, and Debian's chromium for the web page.
Tests that run an agent hold the audit test lock, so nothing fights over audit ownership.
Prints `N passed, N failed` last.

Usage: test_collector.py PATH/TO/execwatch PATH/TO/execwatch-collector [TEST_NAME...]
"""
import atexit
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from host_tests import AuditLock, audit_state, run_tests, sh  # noqa: E402

AGENT_BIN_BUILT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/execwatch")
COLLECTOR_BIN_BUILT = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".build/debug/execwatch-collector")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(ROOT, "rules")

WORK = tempfile.mkdtemp(prefix="execwatch-collector-")
atexit.register(shutil.rmtree, WORK, True)
AGENT_BIN = os.path.join(WORK, "execwatch")
COLLECTOR_BIN = os.path.join(WORK, "execwatch-collector")
shutil.copy2(AGENT_BIN_BUILT, AGENT_BIN)
shutil.copy2(COLLECTOR_BIN_BUILT, COLLECTOR_BIN)
PROCESSES = []


@atexit.register
def _kill_leftovers():
    for proc in PROCESSES:
        if proc.poll() is None:
            proc.kill()




def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last}")


# --- certificates -------------------------------------------------------------------------------

class CA:
    """A certificate authority made with openssl, issuing server and client certificates."""

    def __init__(self, name):
        self.dir = os.path.join(WORK, "pki-" + name)
        os.makedirs(self.dir)
        self.name = name
        self.cert = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "ca.key")
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", self.key, "-out", self.cert, "-days", "30", "-subj", f"/CN=execwatch test CA {name}")

    def issue(self, cn, server=False, expired=False):
        key = os.path.join(self.dir, cn + ".key")
        csr = os.path.join(self.dir, cn + ".csr")
        cert = os.path.join(self.dir, cn + ".pem")
        ext = os.path.join(self.dir, cn + ".ext")
        with open(ext, "w") as f:
            if server:
                f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
           "-out", csr, "-subj", f"/CN={cn}")
        if expired:
            self._issue_expired(csr, cert, ext)
        else:
            sh("openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
               "-out", cert, "-days", "7", "-extfile", ext)
        os.chmod(key, 0o600)
        return cert, key

    def _issue_expired(self, csr, cert, ext):
        db = os.path.join(self.dir, "index.txt")
        open(db, "a").close()
        conf = os.path.join(self.dir, "ca.cnf")
        with open(conf, "w") as f:
            f.write(f"""[ca]
default_ca = test
[test]
database = {db}
new_certs_dir = {self.dir}
certificate = {self.cert}
private_key = {self.key}
serial = {os.path.join(self.dir, 'serial')}
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
""")
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        sh("openssl", "ca", "-batch", "-config", conf, "-in", csr, "-out", cert, "-startdate", "20200101000000Z",
           "-enddate", "20200102000000Z", "-extfile", ext, "-notext")


# --- PostgreSQL ---------------------------------------------------------------------------------

def postgres_url():
    url = os.environ.get("EXECWATCH_TEST_POSTGRES_URL")
    if not url:
        sh(os.path.join(ROOT, "scripts", "postgres-for-tests.sh"), "start")
        url = sh(os.path.join(ROOT, "scripts", "postgres-for-tests.sh"), "url").stdout.strip()
    return url


def fresh_postgres_database(name):
    """A database of its own for one test, on the test cluster (created by its superuser over the
    cluster's unix socket); returns its URL."""
    url = postgres_url()
    base, _, query = url.partition("?")
    server = base.rsplit("/", 1)[0]
    port = server.rsplit(":", 1)[1]
    socket_dir = os.path.join(os.environ.get("EXECWATCH_TEST_PG_DIR", "/tmp/execwatch-test-pg"), "run")
    sh("runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-h", socket_dir, "-p", port, "-U", "postgres",
       "-d", "postgres", "-v", "ON_ERROR_STOP=1",
       "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "-c", f"CREATE DATABASE {name} OWNER execwatch")
    return f"{server}/{name}" + (f"?{query}" if query else "")


# --- the collector ------------------------------------------------------------------------------

class Collector:
    """`execwatch-collector serve` with a configuration file of its own."""

    def __init__(self, name, ca=None, client_auth="off", storage_url=None, web_auth=None, tls=True, port=None,
                 max_body_bytes=None):
        self.dir = os.path.join(WORK, "collector-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.ca = ca
        self.config = os.path.join(self.dir, "collector.yaml")
        lines = [f"listen: 127.0.0.1:{self.port}", f"stateDir: {self.dir}/state"]
        if tls:
            cert, key = ca.issue("collector-" + name, server=True)
            lines += ["tls:", f"  certFile: {cert}", f"  keyFile: {key}", f"  clientAuth: {client_auth}"]
            if client_auth != "off":
                lines.append(f"  clientCAFile: {ca.cert}")
        if storage_url:
            lines.append(f"storage:\n  url: \"{storage_url}\"")
        if web_auth:
            lines.append(f"web:\n  auth: {web_auth}")
        if max_body_bytes:
            lines.append(f"limits:\n  maxBodyBytes: {max_body_bytes}")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        # With client certificates required, even /healthz needs one.
        self.probe_cert = ca.issue("probe-" + name) if tls and client_auth == "required" else None
        self.scheme = "https" if tls else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = os.path.join(self.dir, "collector.log")

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([COLLECTOR_BIN, "serve", "--config", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        PROCESSES.append(self.proc)
        wait_for(lambda: self.proc.poll() is not None or self._healthy(), 30, "collector /healthz")
        assert self.proc.poll() is None, f"collector exited {self.proc.returncode}:\n{self.log_text()}"
        return self

    def _healthy(self):
        try:
            status, _, _ = self.request("GET", "/healthz", auth=False, client_cert=self.probe_cert)
            return status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(timeout=20)
            assert code == 0, f"collector exit status {code}\n{self.log_text()}"

    def cli(self, *args):
        """`execwatch-collector ARGS --config CONFIG`, as the test's shell would run it."""
        return sh(COLLECTOR_BIN, *args, "--config", self.config)

    def add_agent(self, name, kind="agents"):
        """`agents add NAME` (or `readers add NAME`): the token and the file it is written to."""
        out = self.cli(kind, "add", name).stdout
        token = out.strip().splitlines()[-1].strip()
        path = os.path.join(self.dir, f"{name}.token")
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o600)
        return token, path

    def incidents(self):
        """What the collector stored, through its own command (`incidents --json`)."""
        out = self.cli("incidents", "--json", "--limit", "1000").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def ssl_context(self, client_cert=None):
        context = ssl.create_default_context(cafile=self.ca.cert)
        if client_cert:
            context.load_cert_chain(*client_cert)
        return context

    def add_reader(self, name):
        return self.add_agent(name, kind="readers")

    def request(self, method, path, body=None, headers=None, token=None, auth=True, client_cert=None):
        if self.scheme == "https":
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                               context=self.ssl_context(client_cert))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        if auth and token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def metrics(self):
        """`GET /metrics` as text."""
        status, _, body = self.request("GET", "/metrics", auth=False, client_cert=self.probe_cert)
        assert status == 200, (status, body)
        return body.decode()

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]


# --- the agent ----------------------------------------------------------------------------------

# Every agent of these tests runs with `--host fwd-test`: the name it must be registered under
# (`agents add fwd-test`), and the CN of its client certificate.
AGENT_HOST = "fwd-test"


class Agent:
    """`execwatch run` (audit unicast) forwarding to a collector, in a state directory of its own."""

    def __init__(self, name, forward, audit_key="execwatch-fwd-test", metrics_port=None):
        self.audit_key = audit_key
        self.dir = os.path.join(WORK, "agent-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "agent.sock")
        self.config = os.path.join(self.dir, "agent.yaml")
        self.metrics_port = metrics_port
        listen = f"127.0.0.1:{metrics_port}" if metrics_port else "off"
        with open(self.config, "w") as f:
            f.write(f"metrics:\n  listen: {listen}\nforward:\n")
            for key, value in forward.items():
                f.write(f"  {key}: {value}\n")
        self.proc = None
        self.log_path = os.path.join(self.dir, "agent.log")

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [AGENT_BIN, "run", "--config", self.config, "--source", "audit-unicast", "--state-dir", self.dir,
             "--status-socket", self.socket, "--rules", RULES, "--host", AGENT_HOST],
            stdout=self.log, stderr=subprocess.STDOUT, env=dict(os.environ, EXECWATCH_AUDIT_KEY=self.audit_key))
        PROCESSES.append(self.proc)
        # Until its source runs, not only until status answers (it answers while audit is still
        # being set up): a test's first nc runs came before that and were missed now and then.
        wait_for(lambda: self.proc.poll() is not None or (s := self.status()) is not None and s["sourceRunning"],
                 20, "the agent's source running")
        assert self.proc.poll() is None, f"agent exited {self.proc.returncode}:\n{self.log_text()}"
        return self

    def status(self):
        proc = subprocess.run([AGENT_BIN, "status", "--json", "--socket", self.socket], capture_output=True,
                              text=True)
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(timeout=30)
            assert code == 0, f"agent exit status {code}\n{self.log_text()}"

    def metrics(self):
        """The agent's `GET /metrics` as text (with `metrics_port`)."""
        with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=5) as conn:
            conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        return data.decode()

    def kill(self):
        """SIGKILL: the agent cannot clean up; its audit rules stay until the test removes them."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def journal(self):
        out = sh(AGENT_BIN, "incidents", "--json", "--state-dir", self.dir).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]


def netcat_runs(count, first_port=42000):
    """`count` netcat runs with distinct arguments: `count` distinct incidents."""
    for n in range(count):
        subprocess.run(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", str(first_port + n)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)


def expect_forwarded(agent, collector, count, timeout=30):
    def done():
        stored = collector.incidents()
        return stored if len(stored) >= count else None
    try:
        stored = wait_for(done, timeout, f"{count} incidents at the collector")
    except AssertionError:
        raise AssertionError(f"agent status: {agent.status()}\nagent log:\n{agent.log_text()}\n"
                             f"collector log:\n{collector.log_text()}")
    ids = [i["incidentId"] for i in stored]
    assert len(ids) == len(set(ids)) == count, f"stored {len(ids)} ({len(set(ids))} distinct), expected {count}"
    return stored


def expect_refused(agent, collector, reason, timeout=20):
    def failing():
        status = agent.status()
        error = (status or {}).get("forwardLastError") or ""
        return status if reason.lower() in error.lower() else None
    try:
        status = wait_for(failing, timeout, f"forwardLastError containing {reason!r}")
    except AssertionError:
        raise AssertionError(f"agent status: {agent.status()}\nagent log:\n{agent.log_text()}")
    assert collector.incidents() == [], "the collector stored incidents from a refused agent"
    assert status["outboxDepth"] > 0, status
    assert reason.lower() in agent.log_text().lower(), "the reason is not in the agent's log"
    return status


def journal_outbox_depth(state_dir):
    """Rows in a (stopped) agent's outbox, read from its journal."""
    import sqlite3
    db = sqlite3.connect(f"file:{os.path.join(state_dir, 'agent.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    finally:
        db.close()


def with_agent(name, forward, body, **options):
    with AuditLock():
        before = audit_state()
        agent = Agent(name, forward, **options).start()
        try:
            body(agent)
        finally:
            agent.stop()
        assert audit_state() == before, "audit state not restored"


# --- tests --------------------------------------------------------------------------------------

def test_token_auth_over_tls():
    ca = CA("token")
    collector = Collector("token", ca).start()
    try:
        _, token_file = collector.add_agent(AGENT_HOST)

        def body(agent):
            netcat_runs(3)
            stored = expect_forwarded(agent, collector, 3)
            assert {i["ruleId"] for i in stored} == {"PH_Rule_TH_Linux_23"}
            assert {i["hostName"] for i in stored} == {"fwd-test"}
            assert {i["attributes"]["swParam"] for i in stored} == {f"-z -w 1 127.0.0.1 {42000 + n}" for n in range(3)}
            status = wait_for(lambda: (s := agent.status()) and s["outboxDepth"] == 0 and s, 10, "empty outbox")
            assert status["incidentsForwarded"] >= 3 and status["forwardLastError"] in (None, ""), status
        with_agent("token", {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file}, body)
    finally:
        collector.stop()


def test_an_incident_too_large_for_the_collector_is_kept_as_a_dead_letter():
    """413 for one incident alone: it leaves the outbox for the journal's dead letters (never deleted),
    the others are delivered, and `status` and `incidents --rejected` show it."""
    ca = CA("deadletter")
    collector = Collector("deadletter", ca, max_body_bytes=8192).start()
    try:
        _, token_file = collector.add_agent("fwd-test")

        def body(agent):
            netcat_runs(2, first_port=43000)
            expect_forwarded(agent, collector, 2)
            large = "A" * 20000
            subprocess.run(["/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", "43010", large],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            netcat_runs(1, first_port=43020)
            expect_forwarded(agent, collector, 3)
            status = wait_for(lambda: (s := agent.status()) and s["deadLettered"] == 1 and s["outboxDepth"] == 0
                              and s, 20, "one dead letter and an empty outbox")
            assert status["forwardRejected"] == 1, status
            assert all(large not in i["attributes"]["swParam"] for i in collector.incidents())
            out = sh(AGENT_BIN, "incidents", "--rejected", "--json", "--state-dir", agent.dir).stdout
            rejected = [json.loads(line) for line in out.splitlines() if line.strip()]
            assert len(rejected) == 1, rejected
            assert rejected[0]["status"] == 413 and rejected[0]["reason"].startswith("413 "), rejected[0]
            assert rejected[0]["incident"]["attributes"]["swParam"].endswith(large), rejected[0]["reason"]
            table = sh(AGENT_BIN, "incidents", "--rejected", "--state-dir", agent.dir).stdout
            assert "REFUSED AT" in table and " 413 " in table and rejected[0]["incidentId"] in table, table
        with_agent("deadletter", {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file,
                                  "gzip": "false"}, body)
    finally:
        collector.stop()


def test_wrong_token_is_refused_with_401():
    ca = CA("wrongtoken")
    collector = Collector("wrongtoken", ca).start()
    try:
        collector.add_agent("web-1")
        token_file = os.path.join(collector.dir, "forged.token")
        with open(token_file, "w") as f:
            f.write("ewt_" + "0" * 64 + "\n")
        os.chmod(token_file, 0o600)

        def body(agent):
            netcat_runs(1)
            expect_refused(agent, collector, "401")
        with_agent("wrongtoken", {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file}, body)
    finally:
        collector.stop()


def test_revoked_token_stops_working():
    ca = CA("revoke")
    collector = Collector("revoke", ca).start()
    try:
        token, _ = collector.add_agent("web-1")
        body = json.dumps([]).encode()
        headers = {"Content-Type": "application/json"}
        assert collector.request("POST", "/api/v1/incidents", body, headers, token=token)[0] == 200
        sh(COLLECTOR_BIN, "agents", "revoke", "web-1", "--config", collector.config)
        wait_for(lambda: collector.request("POST", "/api/v1/incidents", body, headers, token=token)[0] == 401, 15,
                 "the revoked token refused")
    finally:
        collector.stop()


def test_agent_refuses_a_collector_from_an_unknown_ca():
    ca, other = CA("servers"), CA("agents-trust")
    collector = Collector("unknownca", ca).start()
    try:
        _, token_file = collector.add_agent(AGENT_HOST)

        def body(agent):
            netcat_runs(1)
            expect_refused(agent, collector, "unknown CA")
        with_agent("unknownca", {"url": collector.url, "caFile": other.cert, "tokenFile": token_file}, body)
    finally:
        collector.stop()


def test_agent_refuses_an_expired_collector_certificate():
    ca = CA("expired")
    collector = Collector("expired", ca)
    cert, key = ca.issue("collector-expired-cert", server=True, expired=True)
    with open(collector.config) as f:
        text = f.read()
    text = "\n".join(f"  certFile: {cert}" if l.startswith("  certFile:") else
                     f"  keyFile: {key}" if l.startswith("  keyFile:") else l for l in text.splitlines())
    with open(collector.config, "w") as f:
        f.write(text + "\n")
    collector.proc = subprocess.Popen([COLLECTOR_BIN, "serve", "--config", collector.config],
                                      stdout=open(collector.log_path, "a"), stderr=subprocess.STDOUT)
    PROCESSES.append(collector.proc)
    try:
        wait_for(lambda: _port_open(collector.port), 30, "collector listening")
        _, token_file = collector.add_agent(AGENT_HOST)

        def body(agent):
            netcat_runs(1)
            expect_refused(agent, collector, "expired")
        with_agent("expired", {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file}, body)
    finally:
        collector.stop()


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_mutual_tls_required():
    ca, other = CA("mtls"), CA("mtls-other")
    collector = Collector("mtls", ca, client_auth="required").start()
    try:
        collector.add_agent(AGENT_HOST)
        good = ca.issue(AGENT_HOST)
        foreign = other.issue(AGENT_HOST)
        unregistered = ca.issue("agent-unregistered")

        def with_cert(agent):
            netcat_runs(2)
            stored = expect_forwarded(agent, collector, 2)
            assert all(i["hostName"] == AGENT_HOST for i in stored)
        with_agent("mtls-good", {"url": collector.url, "caFile": ca.cert, "certFile": good[0], "keyFile": good[1]},
                   with_cert)
        # From here on, nothing else may arrive.
        before = len(collector.incidents())

        def refused_because(reason):
            def check(agent):
                netcat_runs(1, first_port=43000)
                try:
                    wait_for(lambda: reason in ((agent.status() or {}).get("forwardLastError") or ""), 20, reason)
                except AssertionError:
                    raise AssertionError(f"status: {agent.status()}\n{agent.log_text()}")
                assert reason in agent.log_text()
                assert len(collector.incidents()) == before
            return check
        with_agent("mtls-none", {"url": collector.url, "caFile": ca.cert},
                   refused_because("requires a client certificate"))
        with_agent("mtls-foreign", {"url": collector.url, "caFile": ca.cert, "certFile": foreign[0],
                                    "keyFile": foreign[1]}, refused_because("client certificate refused"))
        # A certificate of the right CA whose CN is no registered agent: 401, saying so.
        with_agent("mtls-unregistered", {"url": collector.url, "caFile": ca.cert, "certFile": unregistered[0],
                                         "keyFile": unregistered[1]},
                   refused_because('client certificate CN "agent-unregistered" is not a registered agent'))
        # And a plain TLS client without a certificate cannot even ask for the health page.
        try:
            status = collector.request("GET", "/healthz", auth=False)[0]
            raise AssertionError(f"a client without certificate got HTTP {status}")
        except (ssl.SSLError, ConnectionError, OSError):
            pass
    finally:
        collector.stop()


def _outage(storage_url, name):
    ca = CA(name)
    collector = Collector(name, ca, storage_url=storage_url)
    collector.start()
    _, token_file = collector.add_agent(AGENT_HOST)
    collector.stop()

    def body(agent):
        netcat_runs(100)
        wait_for(lambda: (s := agent.status()) and s["outboxDepth"] >= 100 and s, 30, "100 rows in the outbox")
        # Between attempts the forwarder is retrying; an attempt in flight shows `sending` for a moment.
        wait_for(lambda: (s := agent.status()) and "refused" in (s["forwardLastError"] or "")
                 and s["forwardState"] == "retrying" and s, 10, "retrying after connection refused")
        collector.start()
        expect_forwarded(agent, collector, 100, timeout=60)
        wait_for(lambda: (s := agent.status()) and s["outboxDepth"] == 0, 30, "an empty outbox")
        time.sleep(1)
        assert len(collector.incidents()) == 100
    try:
        with_agent(name, {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file}, body)
    finally:
        collector.stop()


def test_outage_then_all_100_stored_once_sqlite():
    _outage(None, "outage-sqlite")


def test_outage_then_all_100_stored_once_postgres():
    _outage(fresh_postgres_database("execwatch_outage"), "outage-pg")


def test_sigkill_while_sending_loses_and_duplicates_nothing():
    ca = CA("crash")
    collector = Collector("crash", ca).start()
    try:
        _, token_file = collector.add_agent(AGENT_HOST)
        forward = {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file, "batchMaxIncidents": 1}
        with AuditLock():
            before = audit_state()
            agent = Agent("crash", forward, audit_key="execwatch-fwd-kill").start()
            runner = threading.Thread(target=netcat_runs, args=(200,))
            runner.start()
            # Killed while it is sending: some incidents at the collector, others still in the outbox.
            wait_for(lambda: len(collector.incidents()) >= 5, 30, "the first incidents at the collector")
            agent.kill()
            runner.join()
            sent_before = len(collector.incidents())
            unsent = journal_outbox_depth(agent.dir)
            assert unsent > 0, "the kill came after everything was sent"
            try:
                agent = Agent("crash", forward, audit_key="execwatch-fwd-kill").start()
                try:
                    netcat_runs(20, first_port=44000)
                    late = {f"-z -w 1 127.0.0.1 {44000 + n}" for n in range(20)}
                    def journal_with_late_runs():
                        entries = agent.journal()
                        return entries if late <= {i["attributes"]["swParam"] for i in entries} else None
                    journal = wait_for(journal_with_late_runs, 30, "the runs after the restart in the journal")
                    wait_for(lambda: (s := agent.status()) and s["outboxDepth"] == 0, 60, "an empty outbox")
                finally:
                    agent.stop()
            finally:
                sh("auditctl", "-D", "-k", "execwatch-fwd-kill", check=False)
                sh("auditctl", "-e", before["enabled"], check=False)
            assert audit_state() == before
        stored = collector.incidents()
        assert sent_before < len(journal)
        by_id = {i["incidentId"]: i for i in stored}
        assert len(by_id) == len(stored), "an incident stored twice"
        assert {i["incidentId"]: i["version"] for i in journal} == {k: v["version"] for k, v in by_id.items()}
    finally:
        collector.stop()


def _incident(n, version=1, host="pg-test"):
    event = {"eventType": "LINUX_PROCESS_EXEC", "eventTime": "2026-11-28T10:00:00.123Z", "hostName": host,
             "user": "alice", "procName": "nc", "swParam": f"-z {n}", "procId": 1000 + n, "parentProcId": 1,
             "exePath": "/usr/bin/nc.openbsd", "uid": 1000, "args": ["nc", "-z", str(n)]}
    return {"incidentId": f"{n:032x}", "ruleId": "PH_Rule_TH_Linux_23",
            "ruleName": "Linux: Netcat Process Activity", "incidentType": "PH_RULE_TH_LINUX_23", "severity": 7,
            "category": "Security", "tactics": ["Execution"], "techniques": ["T1059.004"], "hostName": host,
            "attributes": {"hostName": host, "user": "alice", "procName": "nc", "swParam": f"-z {n}"},
            "count": version, "firstSeen": "2026-11-28T10:00:00.123Z", "lastSeen": "2026-11-28T10:00:00.123Z",
            "version": version, "agentId": "agent-1", "triggerEvents": [event]}


def test_two_collectors_on_one_postgres_store_each_incident_once():
    url = fresh_postgres_database("execwatch_two")
    ca = CA("two")
    a = Collector("two-a", ca, storage_url=url).start()
    b = Collector("two-b", ca, storage_url=url).start()
    try:
        token, _ = a.add_agent("pg-test")
        headers = {"Content-Type": "application/json"}
        batches = [[_incident(n, version=v) for n in range(start, start + 50)]
                   for start in range(0, 300, 50) for v in (1, 2)]
        errors = []

        def send(collector):
            for batch in batches:
                status, _, reply = collector.request("POST", "/api/v1/incidents", json.dumps(batch).encode(),
                                                     headers, token=token)
                if status != 200:
                    errors.append((status, reply))
        threads = [threading.Thread(target=send, args=(c,)) for c in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        for collector in (a, b):
            stored = collector.incidents()
            assert len(stored) == 300, len(stored)
            assert len({i["incidentId"] for i in stored}) == 300
            assert {i["version"] for i in stored} == {2}
        count = sh("psql", url.split("?")[0], "-At", "-c", "SELECT count(*), count(DISTINCT incident_id) FROM incidents")
        assert count.stdout.strip() == "300|300", count.stdout
    finally:
        a.stop()
        b.stop()


def test_bad_requests_get_a_4xx_with_a_reason():
    ca = CA("bad")
    collector = Collector("bad", ca).start()
    try:
        token, _ = collector.add_agent("pg-test")
        good = json.dumps([_incident(1)]).encode()
        json_type = {"Content-Type": "application/json"}

        def post(body, headers=json_type, token=token):
            status, _, reply = collector.request("POST", "/api/v1/incidents", body, headers, token=token)
            return status, json.loads(reply or b"{}").get("error", "")

        assert post(good)[0] == 200
        status, reason = post(good, token=None)
        assert status == 401 and "token" in reason, (status, reason)
        status, reason = post(good, {"Content-Type": "text/plain"})
        assert status == 415 and "application/json" in reason, (status, reason)
        status, reason = post(b"[" + b"1," * (40 << 20) + b"1]")
        assert status == 413, (status, reason)
        zipped = gzip.compress(good)
        status, reason = post(zipped[: len(zipped) // 2], dict(json_type, **{"Content-Encoding": "gzip"}))
        assert status == 400 and "gzip" in reason, (status, reason)
        bomb = gzip.compress(b"[" + b" " * (64 << 20) + b"]")
        status, reason = post(bomb, dict(json_type, **{"Content-Encoding": "gzip"}))
        assert status == 413, (status, reason)
        assert post(zipped, dict(json_type, **{"Content-Encoding": "gzip"}))[0] == 200
        status, reason = post(b'[{"incidentId": ')
        assert status == 400 and reason, (status, reason)
        wrong = _incident(2)
        wrong["count"] = "many"
        status, reason = post(json.dumps([_incident(3), wrong]).encode())
        assert status == 400 and "count" in reason and "1" in reason, (status, reason)
        missing = _incident(4)
        del missing["ruleId"]
        status, reason = post(json.dumps([missing]).encode())
        assert status == 400 and "ruleId" in reason, (status, reason)
        bad_value = dict(_incident(5), severity="high")
        status, reason = post(json.dumps([bad_value]).encode())
        assert status == 400 and "severity" in reason, (status, reason)
        huge = _incident(6)
        huge["attributes"]["swParam"] = "A" * (5 << 20)
        status, reason = post(json.dumps([huge]).encode())
        assert status in (400, 413) and ("swParam" in reason or status == 413), (status, reason)
        # None of the refused batches stored anything; the collector still works.
        assert {i["incidentId"] for i in collector.incidents()} == {f"{1:032x}"}
        assert collector.request("GET", "/healthz", auth=False)[0] == 200
    finally:
        collector.stop()


def test_web_page_in_headless_chromium():
    ca = CA("web")
    collector = Collector("web", ca, tls=False).start()
    try:
        agent_token, _ = collector.add_agent("page-host")
        token, _ = collector.add_reader("viewer")
        incident = _incident(7, host="page-host")
        incident["attributes"]["swParam"] = "-e /bin/sh <script>alert(1)</script> 10.0.0.1 4444"
        status, _, reply = collector.request("POST", "/api/v1/incidents", json.dumps([incident]).encode(),
                                             {"Content-Type": "application/json"}, token=agent_token)
        assert status == 200, reply
        assert collector.request("GET", "/", auth=False)[0] == 401
        assert collector.request("GET", "/", token=agent_token)[0] == 403
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        assert browser, "chromium is not installed (scripts/install-deps.sh test installs it)"
        profile = tempfile.mkdtemp(prefix="chromium-", dir=WORK)
        url = f"http://viewer:{token}@127.0.0.1:{collector.port}/?hostName=page-host"
        proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
                              capture_output=True, text=True, timeout=120)
        dom = proc.stdout
        assert "page-host" in dom and "PH_Rule_TH_Linux_23" in dom, f"page without the incident:\n{dom[:2000]}\n{proc.stderr[-2000:]}"
        assert "alice" in dom and "-e /bin/sh" in dom
        assert "<script>alert(1)</script>" not in dom and "&lt;script&gt;" in dom
        screenshot = os.path.join(WORK, "page.png")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        f"--screenshot={screenshot}", "--window-size=1400,600", url],
                       capture_output=True, text=True, timeout=120)
        assert os.path.getsize(screenshot) > 1000
        keep = os.environ.get("EXECWATCH_KEEP_SCREENSHOT")
        if keep:
            shutil.copy(screenshot, keep)
    finally:
        collector.stop()


def _chromium_dom(url, profile):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed (scripts/install-deps.sh test installs it)"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    assert "</html>" in proc.stdout, f"chromium printed no page for {url}:\n{proc.stderr[-2000:]}"
    return proc.stdout


SEVERITIES = [1, 3, 5, 7, 9]
PAGE_HOSTS = ["page-a", "page-b", "page-c"]


def _many_rules_incidents(host, now_ms):
    """100 rules × 5 severities (rule k has severity SEVERITIES[k % 5]) on one host, first seen over
    the last 20 hours; Sigma-like provenance on most (an https source, a path, a javascript: URL)."""
    incidents = []
    for k in range(100):
        n = PAGE_HOSTS.index(host) * 1000 + k
        incident = _incident(n, host=host)
        incident["incidentId"] = f"{n:032x}"
        incident["ruleId"] = f"rule-{k:03d}"
        incident["ruleName"] = f"Rule {k:03d}"
        incident["severity"] = SEVERITIES[k % 5]
        incident["techniques"] = [f"T{1000 + k}.{k:03d}"]
        first = now_ms - (k % 20) * 3_600_000 - 60_000
        last = first + k * 1000
        incident["firstSeen"] = _rfc3339(first)
        incident["lastSeen"] = _rfc3339(last)
        if k % 4 == 0:
            incident["ruleAuthor"] = f"Author {k} <b>"
            incident["ruleSource"] = f"https://github.com/SigmaHQ/sigma/blob/master/rules/linux/r{k}.yml"
        elif k % 4 == 1:
            incident["ruleSource"] = f"/etc/execwatch/rules.d/r{k}.yml"
        elif k % 4 == 2:
            incident["ruleSource"] = "javascript:alert(1)"
        incidents.append(incident)
    return incidents


def _rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _page_with_many_rules(name, storage_url):
    import re
    ca = CA(name)
    collector = Collector(name, ca, tls=False, storage_url=storage_url).start()
    try:
        token, _ = collector.add_reader("viewer")
        now_ms = int(time.time() * 1000)
        for host in PAGE_HOSTS:
            agent_token, _ = collector.add_agent(host)
            batch = _many_rules_incidents(host, now_ms)
            if host == "page-a":
                hostile = batch[7]
                hostile["triggerEvents"][0]["args"] = ["sh", "-c", "echo <script>alert(1)</script>"]
                hostile["triggerEvents"][0]["cwd"] = "/tmp/<x>"
                hostile["triggerEvents"][0]["parentProcName"] = "bash"
                hostile["triggerEvents"][0]["parentExePath"] = "/usr/bin/bash"
                hostile["triggerEvents"][0]["parentCommandLine"] = "bash -i <img src=x onerror=alert(2)>"
            for start in range(0, 100, 50):
                status, _, reply = collector.request("POST", "/api/v1/incidents",
                                                     json.dumps(batch[start:start + 50]).encode(),
                                                     {"Content-Type": "application/json"}, token=agent_token)
                assert status == 200, reply
        status, headers, body = collector.request("GET", "/?sort=severity", token=token)
        assert status == 200, body
        csp = headers.get("Content-Security-Policy", "")
        assert csp.startswith("default-src 'none';") and "script-src" not in csp, csp
        status, _, body = collector.request("GET", "/?sort=size", token=token)
        assert status == 400 and b"sort" in body, (status, body)
        # The API returns author and source; the collector's own command too.
        status, _, body = collector.request("GET", "/api/v1/incidents?ruleId=rule-004&hostName=page-b", token=token)
        listed = json.loads(body)["incidents"]
        assert [(i["ruleAuthor"], i["ruleSource"]) for i in listed] == [
            ("Author 4 <b>", "https://github.com/SigmaHQ/sigma/blob/master/rules/linux/r4.yml")], listed
        by_cli = {i["incidentId"]: i for i in collector.incidents()}
        assert len(by_cli) == 300
        assert by_cli[f"{1005:032x}"]["ruleSource"] == "/etc/execwatch/rules.d/r5.yml"
        assert "ruleAuthor" not in by_cli[f"{1005:032x}"]

        profile = tempfile.mkdtemp(prefix="chromium-", dir=WORK)
        base = f"http://viewer:{token}@127.0.0.1:{collector.port}"
        row = re.compile(r'<tr data-incident-id="([0-9a-f]{32})"><td class="sev sev-\w+" title="\w+">(\d+)</td>')

        dom = _chromium_dom(base + "/?sort=severity&limit=300", profile)
        rows = row.findall(dom)
        assert len(rows) == 300, f"{len(rows)} rows:\n{dom[:3000]}"
        severities = [int(s) for _, s in rows]
        assert severities == sorted(severities, reverse=True) and severities[0] == 9 and severities[-1] == 1
        # Provenance: an https source is a link, anything else text; the author escaped.
        assert 'href="https://github.com/SigmaHQ/sigma/blob/master/rules/linux/r4.yml"' in dom
        assert "by Author 4 &lt;b&gt;" in dom
        assert 'href="javascript' not in dom and "source: javascript:alert(1)" in dom
        assert "source: /etc/execwatch/rules.d/r5.yml" in dom
        assert 'href="https://attack.mitre.org/techniques/T1004/004/"' in dom
        # Charts: by rule (8 named series and the others), by host (the three hosts).
        charts = dom.split('data-series-of="host"')
        assert len(charts) == 2 and "<svg" in charts[0] and "<svg" in charts[1], dom[:3000]
        rule_series = re.findall(r'<g class="series" data-key="([^"]*)"><title>', charts[0])
        host_series = re.findall(r'<g class="series" data-key="([^"]*)"><title>', charts[1])
        assert len(rule_series) == 9 and rule_series[-1] == "", rule_series
        assert sorted(host_series) == PAGE_HOSTS, host_series
        assert "<polyline" in charts[0]

        dom = _chromium_dom(base + "/?limit=50", profile)
        ids = [i for i, _ in row.findall(dom)]
        last_seen = {i["incidentId"]: i["lastSeen"] for i in by_cli.values()}
        assert len(ids) == 50
        assert [last_seen[i] for i in ids] == sorted((last_seen[i] for i in ids), reverse=True)
        assert 'rel="next"' in dom

        hostile_id = f"{7:032x}"
        dom = _chromium_dom(base + f"/incidents/{hostile_id}", profile)
        assert "<code>echo &lt;script&gt;alert(1)&lt;/script&gt;</code>" in dom, dom[:3000]
        assert "<script>" not in dom and "<img" not in dom
        assert "/tmp/&lt;x&gt;" in dom and "/usr/bin/bash" in dom
        assert "bash -i &lt;img src=x onerror=alert(2)&gt;" in dom

        screenshot = os.path.join(WORK, f"{name}.png")
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        f"--screenshot={screenshot}", "--window-size=1400,1200", base + "/?sort=severity"],
                       capture_output=True, text=True, timeout=120)
        assert os.path.getsize(screenshot) > 1000
        keep = os.environ.get("EXECWATCH_KEEP_SCREENSHOT")
        if keep:
            shutil.copy(screenshot, keep.replace(".png", "") + f"-{name}.png")
    finally:
        collector.stop()


def test_page_with_a_hundred_rules_in_headless_chromium_sqlite():
    _page_with_many_rules("many-sqlite", None)


def test_page_with_a_hundred_rules_in_headless_chromium_postgres():
    _page_with_many_rules("many-pg", fresh_postgres_database("execwatch_page"))


def test_root_commands_leave_the_store_to_the_owner_of_the_state_directory():
    state = tempfile.mkdtemp(prefix="execwatch-owned-")  # outside WORK (0700): nobody must reach it
    atexit.register(shutil.rmtree, state, True)
    shutil.chown(state, "nobody", "nogroup")
    config = os.path.join(WORK, "owned.yaml")
    with open(config, "w") as f:
        f.write(f"stateDir: {state}\n")
    sh(COLLECTOR_BIN, "agents", "add", "web-1", "--config", config)
    sh(COLLECTOR_BIN, "readers", "add", "ops", "--config", config)
    sh(COLLECTOR_BIN, "incidents", "--config", config)
    owners = {name: os.stat(os.path.join(state, name)).st_uid for name in os.listdir(state)}
    assert owners and set(owners.values()) == {pwd_uid("nobody")}, owners


def pwd_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


# --- ownership, readers, revocation of certificates, compatibility (issue 9) ---------------------

def _post(collector, batch, token=None, client_cert=None):
    status, _, reply = collector.request("POST", "/api/v1/incidents", json.dumps(batch).encode(),
                                         {"Content-Type": "application/json"}, token=token, client_cert=client_cert)
    return status, json.loads(reply or b"{}")


def test_an_agent_cannot_create_or_update_another_hosts_incident():
    ca = CA("owner")
    collector = Collector("owner", ca).start()
    try:
        token_a, _ = collector.add_agent("host-a")
        token_b, _ = collector.add_agent("host-b")
        theirs = _incident(21, host="host-b")
        assert _post(collector, [theirs], token_b)[0] == 200
        before = collector.incidents()

        # A sends B's incident (higher version and count): 403 naming the index and the hostName.
        forged = dict(_incident(21, version=99, host="host-b"), count=12345)
        status, reply = _post(collector, [_incident(22, host="host-a"), forged], token_a)
        assert status == 403, (status, reply)
        assert reply["error"].startswith('incident 1: hostName "host-b" is not this agent\'s host'), reply
        # A sends its own hostName with B's incident id: 403 naming the index and the id.
        collision = _incident(21, version=99, host="host-a")
        status, reply = _post(collector, [collision], token_a)
        assert status == 403 and reply["error"] == f"incident 0: incidentId {21:032x} is another host's incident", \
            (status, reply)
        # Stored nowhere: not A's valid incident of the same batch, not the forged versions.
        assert collector.incidents() == before, collector.incidents()
        assert collector.incidents()[0]["version"] == 1 and collector.incidents()[0]["count"] == 1
    finally:
        collector.stop()


def test_readers_read_agents_do_not():
    ca = CA("readers")
    collector = Collector("readers", ca).start()
    try:
        agent_token, _ = collector.add_agent("host-a")
        reader_token, _ = collector.add_reader("ops")
        assert _post(collector, [_incident(31, host="host-a")], agent_token)[0] == 200
        for path in ("/api/v1/incidents", "/", "/api/v1/incidents?hostName=host-a"):
            status, _, body = collector.request("GET", path, token=agent_token)
            assert status == 403 and b"readers add" in body and b"PH_Rule" not in body, (path, status, body)
        status, _, body = collector.request("GET", "/api/v1/incidents", token=reader_token)
        assert status == 200 and json.loads(body)["incidents"][0]["incidentId"] == f"{31:032x}", (status, body)
        basic = "Basic " + __import__("base64").b64encode(f"ops:{reader_token}".encode()).decode()
        assert collector.request("GET", "/", headers={"Authorization": basic})[0] == 200
        # A reader sends nothing.
        assert _post(collector, [_incident(32, host="ops")], reader_token)[0] == 403
        listed = sh(COLLECTOR_BIN, "readers", "list", "--config", collector.config, "--json").stdout
        assert [json.loads(line)["name"] for line in listed.splitlines()] == ["ops"], listed
        agents = sh(COLLECTOR_BIN, "agents", "list", "--config", collector.config, "--json").stdout
        assert [json.loads(line)["name"] for line in agents.splitlines()] == ["host-a"], agents
        # Names are unique among agents and readers.
        taken = sh(COLLECTOR_BIN, "agents", "add", "ops", "--config", collector.config, check=False)
        assert taken.returncode == 1 and 'a reader named "ops" exists already' in taken.stderr, taken.stderr
        # Revoked: refused within the collector's 10 s cache.
        sh(COLLECTOR_BIN, "readers", "revoke", "ops", "--config", collector.config)
        wait_for(lambda: collector.request("GET", "/api/v1/incidents", token=reader_token)[0] == 401, 12,
                 "the revoked reader refused")
    finally:
        collector.stop()


def test_a_revoked_certificate_agent_is_refused_within_10_s():
    ca = CA("certrevoke")
    collector = Collector("certrevoke", ca, client_auth="required").start()
    try:
        collector.add_agent("cert-1")
        cert = ca.issue("cert-1")
        assert _post(collector, [_incident(41, host="cert-1")], client_cert=cert)[0] == 200
        # The certificate names the agent: its hostName must be the CN.
        status, reply = _post(collector, [_incident(42, host="other")], client_cert=cert)
        assert status == 403 and 'hostName "other"' in reply["error"], (status, reply)
        sh(COLLECTOR_BIN, "agents", "revoke", "cert-1", "--config", collector.config)
        revoked_at = time.time()
        status, reply = wait_for(lambda: (r := _post(collector, [_incident(43, host="cert-1")], client_cert=cert))
                                 [0] == 401 and r, 15, "the revoked certificate refused")
        assert time.time() - revoked_at <= 11, time.time() - revoked_at
        assert reply["error"] == 'client certificate CN "cert-1" is not a registered agent (or it was revoked)', reply
        assert {i["incidentId"] for i in collector.incidents()} <= {f"{41:032x}", f"{43:032x}"}
    finally:
        collector.stop()


def test_unknown_incident_fields_are_ignored_and_logged_once():
    ca = CA("unknown")
    collector = Collector("unknown", ca).start()
    try:
        token, _ = collector.add_agent("newer")
        for n in (51, 52):
            incident = dict(_incident(n, host="newer"), ruleLicense="DRL-1.1")
            status, reply = _post(collector, [incident], token)
            assert status == 200 and reply["created"] == 1, (status, reply)
        stored = collector.incidents()
        assert len(stored) == 2 and all("ruleLicense" not in i for i in stored), stored
        lines = [line for line in collector.log_text().splitlines() if "ruleLicense" in line]
        assert len(lines) == 1 and lines[0].startswith("<4>") and "client=newer" in lines[0], lines
    finally:
        collector.stop()


def test_a_bad_setting_in_the_environment_stops_serve_with_a_line_at_err():
    collector = Collector("bad-env", tls=False)
    env = dict(os.environ, EXECWATCH_COLLECTOR_LISTEN="nowhere")
    proc = subprocess.run([COLLECTOR_BIN, "serve", "--config", collector.config], capture_output=True, env=env,
                          timeout=30)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.decode().splitlines()
    # <3>: `journalctl -p err` shows it (it was a line without a priority: info).
    assert lines == ["<3>execwatch-collector: environment variable EXECWATCH_COLLECTOR_LISTEN: "
                     "expected host:port, got \"nowhere\""], lines


def test_a_busy_listen_port_stops_serve_with_one_clear_line():
    # Another program listens on the port: one line at err naming the address, the cause and the
    # setting to change (it was `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`
    # after a "serving on" line).
    collector = Collector("busy-port", tls=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, EXECWATCH_COLLECTOR_LISTEN=f"127.0.0.1:{port}")
        proc = subprocess.run([COLLECTOR_BIN, "serve", "--config", collector.config], capture_output=True, env=env,
                              timeout=30)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = [l for l in proc.stderr.decode().splitlines() if l.startswith("<") and "storage opened" not in l]
    assert lines == [f"<3>execwatch-collector: cannot listen on 127.0.0.1:{port}: the port is already in use by "
                     "another program; set `listen` (or EXECWATCH_COLLECTOR_LISTEN) to a free port"], lines


def test_serve_as_the_unit_runs_it_logs_plain_lines_naming_the_program_once():
    # As the packaged unit: no CAP_SYS_NICE, stderr the journal (systemd says so with
    # JOURNAL_STREAM=device:inode). libdispatch logs its failures to raise a thread's priority to
    # syslog; LIBDISPATCH_LOG=stderr puts them where this test reads (one thread of its own asks
    # for nice -4, which the unit's LimitNICE=-4 allows).
    collector = Collector("as-unit", tls=False)
    log_path = os.path.join(collector.dir, "stderr.log")
    with open(log_path, "wb") as log:
        st = os.fstat(log.fileno())
        env = dict(os.environ, LIBDISPATCH_LOG="stderr", JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        proc = subprocess.Popen(["setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", COLLECTOR_BIN, "serve", "--config", collector.config], stderr=log, env=env)
        PROCESSES.append(proc)
        collector.proc = proc
        wait_for(lambda: proc.poll() is not None or collector._healthy(), 30, "collector /healthz")
        for _ in range(20):
            assert collector.request("GET", "/healthz", auth=False)[0] == 200
        threads = [open(f"/proc/{proc.pid}/task/{t}/comm").read().strip() for t in os.listdir(f"/proc/{proc.pid}/task")]
        assert collector.request("GET", "/api/v1/incidents", auth=False)[0] == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    with open(log_path, "rb") as f:
        data = f.read()
    text = data.decode()
    assert b"\x1b" not in data, text
    assert not [t for t in threads if t.endswith(("initiated-qos", "interactive-qos"))], threads
    assert text.count("Failed to set thread priority") <= 1, text
    with open(os.path.join(ROOT, "packaging/systemd/execwatch-collector.service")) as f:
        assert "\nLimitNICE=-4\n" in f.read()
    lines = text.splitlines()
    assert any(l.startswith("<6>serving on http://127.0.0.1:") for l in lines), text
    # journald names the program on every line: the line itself does not.
    assert not any("execwatch-collector:" in l for l in lines), text
    ours = [l for l in lines if l and not l.startswith(("=== log file opened", "Failed to set thread priority"))]
    assert all(l.startswith("<") for l in ours), text

# --- faults at the collector's end (issue 11): its storage full or gone, collectors that hang -----

class CollectorOnSmallDisk(Collector):
    """A collector whose state directory (its SQLite database) is a tmpfs of `size`, mounted in a
    mount namespace of the collector's own (`unshare --mount`): the mount exists only for the
    collector and goes away with it. The test reaches it with `nsenter` to fill it up and free it."""

    def __init__(self, name, ca, size="4m"):
        super().__init__(name, ca)
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, mode=0o750, exist_ok=True)
        self.size = size
        self.filler = os.path.join(self.state, "filler")

    def start(self):
        self.log = open(self.log_path, "a")
        script = 'mount -t tmpfs -o size="$1",mode=0750 execwatch-test "$2" && exec "$3" serve --config "$4"'
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                                      self.size, self.state, COLLECTOR_BIN, self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        PROCESSES.append(self.proc)
        wait_for(lambda: self.proc.poll() is not None or self._healthy(), 30, "collector /healthz")
        assert self.proc.poll() is None, f"collector exited {self.proc.returncode}:\n{self.log_text()}"
        return self

    def inside(self, *args, check=True):
        """A command in the collector's mount namespace (where its tmpfs is)."""
        return sh("nsenter", "--target", str(self.proc.pid), "--mount", "--", *args, check=check)

    def cli(self, *args):
        return self.inside(COLLECTOR_BIN, *args, "--config", self.config)

    def fill(self):
        """Fills the tmpfs to the last byte."""
        out = self.inside("sh", "-c", 'cat /dev/zero > "$1"', "sh", self.filler, check=False)
        assert "No space left" in out.stderr, out.stderr
        avail = self.inside("df", "--output=avail", self.state).stdout.split()[-1]
        assert avail == "0", avail

    def free(self):
        self.inside("rm", self.filler)


def _metric(text, name, **labels):
    """The value of a metric line `name{labels…} value` (labels in any order), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0


def _expect_503_and_retry_after(agent, collector, words, cause, waiting):
    """The agent's changes get 503 `words` from a collector whose store failed: the agent keeps them
    (outbox, no dead letter), retries when Retry-After (5 s) says, and the collector goes on
    serving, its /metrics and log saying why."""
    try:
        status = wait_for(lambda: (s := agent.status()) and s["outboxDepth"] >= waiting
                          and words in (s["forwardLastError"] or "") and s, 40, f"503 {words!r}")
    except AssertionError:
        raise AssertionError(f"agent status: {agent.status()}\nagent log:\n{agent.log_text()}\n"
                             f"collector log:\n{collector.log_text()}")
    assert status["forwardLastError"] == f"503 Service Unavailable: {words}, retry later", status
    assert status["forwardState"] == "retrying" and status["deadLettered"] == 0, status
    assert reason_logged(agent, "as the collector asked (Retry-After)"), agent.log_text()
    metrics = collector.metrics()
    assert _metric(metrics, "execwatch_collector_storage_failures_total", cause=cause) >= 1, metrics
    assert _metric(metrics, "execwatch_collector_storage_available") == 0, metrics
    assert f"cannot store incidents ({cause};" in collector.log_text(), collector.log_text()
    # Retry-After: 5 s between attempts, not the backoff's 250 ms, 500 ms, 1 s, …
    posts = lambda: _metric(collector.metrics(), "execwatch_collector_http_requests_total", method="POST",
                            route="/api/v1/incidents", status="503")
    before = posts()
    time.sleep(8)
    assert 1 <= posts() - before <= 2, (before, posts())
    assert collector.proc.poll() is None and collector.request("GET", "/healthz", auth=False)[0] in (200, 503)
    status = agent.status()
    assert status["outboxDepth"] >= waiting and status["deadLettered"] == 0, status


def _expect_everything_once(agent, collector, runs):
    """Storage back: every change the journal holds arrives, each incident once, at the journal's
    version, `runs` (netcat swParams) among them. The journal is the reference, not a count: on a
    shared machine another program's netcat run is an incident too."""
    def same():
        if agent.status()["outboxDepth"] != 0:
            return None
        stored = collector.incidents()
        journal = {i["incidentId"]: i["version"] for i in agent.journal()}
        return stored if {i["incidentId"]: i["version"] for i in stored} == journal else None
    try:
        stored = wait_for(same, 60, "the journal's incidents at the collector, at the journal's versions")
    except AssertionError:
        raise AssertionError(f"agent status: {agent.status()}\nagent log:\n{agent.log_text()}\n"
                             f"collector log:\n{collector.log_text()}")
    ids = [i["incidentId"] for i in stored]
    assert len(ids) == len(set(ids)), "an incident stored twice"
    assert runs <= {i["attributes"]["swParam"] for i in stored}, runs - {i["attributes"]["swParam"] for i in stored}
    status = agent.status()
    assert status["deadLettered"] == 0 and status["forwardRejected"] == 0, status
    assert _metric(collector.metrics(), "execwatch_collector_storage_available") == 1


def _runs(count, first_port):
    """The swParams of `netcat_runs(count, first_port)`."""
    return {f"-z -w 1 127.0.0.1 {first_port + n}" for n in range(count)}


def test_collector_storage_full_is_503_then_everything_arrives_once():
    ca = CA("full")
    collector = CollectorOnSmallDisk("full", ca).start()
    try:
        _, token_file = collector.add_agent(AGENT_HOST)

        def body(agent):
            netcat_runs(3, first_port=45000)
            _expect_everything_once(agent, collector, _runs(3, 45000))
            collector.fill()
            netcat_runs(20, first_port=45100)
            _expect_503_and_retry_after(agent, collector, "storage full", "full", waiting=20)
            collector.free()
            _expect_everything_once(agent, collector, _runs(3, 45000) | _runs(20, 45100))
        with_agent("full", {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file}, body)
    finally:
        collector.stop()


def test_collector_postgres_stopped_is_503_then_everything_arrives_once():
    # A cluster of this test's own: the shared one (55432) serves other tests meanwhile.
    script = os.path.join(ROOT, "scripts", "postgres-for-tests.sh")
    env = dict(os.environ, EXECWATCH_TEST_PG_DIR=f"/tmp/execwatch-test-pg-stopped-{os.getpid()}",
               EXECWATCH_TEST_PG_PORT=str(free_port()))
    url = sh(script, "start", env=env).stdout.strip()
    try:
        ca = CA("pgstop")
        collector = Collector("pgstop", ca, storage_url=url).start()
        try:
            _, token_file = collector.add_agent(AGENT_HOST)

            def body(agent):
                netcat_runs(3, first_port=45200)
                _expect_everything_once(agent, collector, _runs(3, 45200))
                sh(script, "halt", env=env)
                netcat_runs(20, first_port=45300)
                _expect_503_and_retry_after(agent, collector, "storage unreachable", "unreachable", waiting=20)
                sh(script, "start", env=env)
                _expect_everything_once(agent, collector, _runs(3, 45200) | _runs(20, 45300))
            with_agent("pgstop", {"url": collector.url, "caFile": ca.cert, "tokenFile": token_file}, body)
        finally:
            collector.stop()
    finally:
        sh(script, "stop", env=env)


class BrokenCollector:
    """A TCP listener on 127.0.0.1 playing a collector broken in one of three ways: `silent` takes
    connections and requests and never answers; `trickle` sends a reply's head at once, then its
    body a byte a second; `full-backlog` never accepts and its accept queue is full, so the kernel
    drops new connections' SYNs and they are never set up."""

    def __init__(self, port, mode):
        self.mode = mode
        self.requests = 0
        self.connections = []  # seconds each connection lasted until the client hung up
        self.stopping = threading.Event()
        self.threads = []
        self.fillers = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        if mode == "full-backlog":
            self.sock.listen(0)
            for _ in range(3):  # Linux queues backlog + 1: the rest wait in SYN retries
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                self.fillers.append(filler)
        else:
            self.sock.listen(16)
            self.sock.settimeout(0.1)
            self._spawn(self._accept)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self._spawn(self._serve, conn)

    def _serve(self, conn):
        started = time.time()
        conn.settimeout(0.1)
        data = b""
        try:
            while not self.stopping.is_set():
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    return  # the client hung up
                data += chunk
                head, sep, body = data.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if not sep or len(body) < (length or [0])[0]:
                    continue
                self.requests += 1
                data = b""
                if self.mode == "trickle":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                    while not self.stopping.wait(1):
                        try:
                            if conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                                return
                        except (BlockingIOError, socket.timeout):
                            pass  # nothing from the client: it still waits for the reply
                        conn.send(b" ")
        except OSError:
            pass  # reset by the client
        finally:
            self.connections.append(time.time() - started)
            conn.close()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        for filler in self.fillers:
            filler.close()
        self.sock.close()


def test_collectors_that_hang_or_trickle_time_out_and_retries_go_on():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    collector = Collector("hanging", tls=False, port=port)  # the real one, once the broken ones are gone
    _, token_file = collector.add_agent(AGENT_HOST)
    no_reply = f"timeout: no complete reply from {url} within 2000 ms (forward.requestTimeoutMilliseconds)"
    no_connection = f"timeout: no connection to {url} within 1000 ms (forward.connectTimeoutMilliseconds)"
    metrics_port = free_port()

    def body(agent):
        netcat_runs(5, first_port=45400)
        wait_for(lambda: agent.status()["incidentsStored"] >= 5, 20, "5 incidents in the journal")
        for mode, reason, kind in [("silent", no_reply, "request_timeout"), ("trickle", no_reply, "request_timeout"),
                                   ("full-backlog", no_connection, "connect_timeout")]:
            peer = BrokenCollector(port, mode)
            try:
                retries = agent.status()["forwardRetries"]
                try:
                    status = wait_for(lambda: (s := agent.status()) and s["forwardRetries"] >= retries + 2
                                      and s["forwardLastError"] == reason and s, 40, f"{mode}: {reason}")
                except AssertionError:
                    raise AssertionError(f"{mode}: agent status {agent.status()}\n{agent.log_text()}")
                assert status["outboxDepth"] >= 5 and status["deadLettered"] == 0, (mode, status)
                assert status["forwardState"] in ("retrying", "sending"), (mode, status)
                metrics = agent.metrics()
                assert _metric(metrics, "execwatch_forward_failing") == 1, metrics
                assert _metric(metrics, "execwatch_forward_last_failure", kind=kind) == 1, (mode, metrics)
                if mode != "full-backlog":
                    # Each attempt was given up at the request timeout, the trickled reply's body too.
                    assert peer.requests >= 2, (mode, peer.requests)
                    assert peer.connections and max(peer.connections) < 6, (mode, peer.connections)
            finally:
                peer.stop()
        assert reason_logged(agent, no_reply) and reason_logged(agent, no_connection), agent.log_text()
        collector.start()
        _expect_everything_once(agent, collector, _runs(5, 45400))
        assert _metric(agent.metrics(), "execwatch_forward_failing") == 0
    try:
        with_agent("hanging", {"url": url, "tokenFile": token_file, "connectTimeoutMilliseconds": 1000,
                               "requestTimeoutMilliseconds": 2000, "maxBackoffMilliseconds": 1000}, body,
                   metrics_port=metrics_port)
    finally:
        collector.stop()


def reason_logged(agent, reason):
    """`reason` is on a line of the agent's log at error level (`<3>`)."""
    with open(agent.log_path) as f:
        return any(line.startswith("<3>") and reason in line for line in f)



def main():
    run_tests(globals(), os.path.basename(__file__), 3)


if __name__ == "__main__":
    main()
