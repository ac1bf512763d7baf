#!/usr/bin/env python3
"""check-trace.py UNIT_FILE TRACE_FILE PROGRAM — does a program, as traced by `strace -f -y`,
stay inside what its systemd unit allows? Used by scripts/test-deb.sh, where no systemd runs:
the program is started as the unit's ExecStart= under strace, and this checks what systemd would
have enforced.

Only the processes and threads of PROGRAM count (from its successful execve on; the setpriv/env
wrappers before it are not the service). Checked against the unit's settings:

  SystemCallFilter=         every system call made is in the allow list (groups expanded with
                            `systemd-analyze syscall-filter`, ~ entries removed, in order)
  MemoryDenyWriteExecute=   no mmap with PROT_WRITE|PROT_EXEC, no mprotect/pkey_mprotect adding
                            PROT_EXEC, no shmat with SHM_EXEC
  RestrictAddressFamilies=  every socket()'s family is listed
  ProtectSystem=strict      files are created, written, renamed or removed only under
                            StateDirectory=, RuntimeDirectory=, ReadWritePaths=, /tmp and /var/tmp
                            (PrivateTmp=) and /dev/null
  ProtectHome=              nothing under /home, /root, /run/user is touched
  PrivateDevices=           only pseudo devices are opened under /dev
  ProcSubset=pid            only the process's own /proc/PID (self, thread-self) is opened

Two refusals are expected and tolerated (printed):
- glibc's getaddrinfo(AI_ADDRCONFIG) opens a NETLINK_ROUTE socket to list the host's addresses
  and, when that is refused, assumes IPv4 and IPv6 are both there;
- glibc's malloc, the first time it shrinks a secondary arena's heap, reads
  /proc/sys/vm/overcommit_memory (malloc/arena.c, check_may_shrink_heap); under ProcSubset=pid
  the open fails and malloc shrinks with MADV_DONTNEED, as it does for the default setting 0.
  Whether it happens depends on how memory was used, so a run may or may not show it.

Prints what it checked and each violation; exits 1 on any violation.
"""
import re
import subprocess
import sys

unit_path, trace_path, program = sys.argv[1:4]


def unit_settings(path):
    settings = []
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        settings.append((key.strip(), value.strip()))
    return settings


settings = unit_settings(unit_path)


def values(key):
    return [v for k, v in settings if k == key]


def last(key, default=""):
    found = values(key)
    return found[-1] if found else default


group_cache = {}


def expand(item):
    if not item.startswith("@"):
        return {item}
    if item not in group_cache:
        out = subprocess.run(["systemd-analyze", "syscall-filter", item], check=True,
                             capture_output=True, text=True).stdout
        names = set()
        for line in out.splitlines()[1:]:
            word = line.strip()
            if not word or word.startswith("#"):
                continue
            names |= expand(word)
        group_cache[item] = names
    return group_cache[item]


def syscall_allow_list():
    allowed, mode = None, None
    for value in values("SystemCallFilter"):
        if value == "":
            allowed, mode = None, None
            continue
        deny = value.startswith("~")
        items = value.lstrip("~").split()
        if mode is None:
            if deny:
                sys.exit("check-trace: only allow-list SystemCallFilter= is supported")
            mode, allowed = "allow", set()
        for item in items:
            names = expand(item)
            allowed = allowed - names if deny else allowed | names
    return allowed


allowed_syscalls = syscall_allow_list()
families = set()
for value in values("RestrictAddressFamilies"):
    families = set() if value == "" else families | set(value.split())
write_roots = ["/dev/null"]
for key, prefix in (("StateDirectory", "/var/lib/"), ("RuntimeDirectory", "/run/"),
                    ("CacheDirectory", "/var/cache/"), ("LogsDirectory", "/var/log/")):
    for value in values(key):
        write_roots += [prefix + d for d in value.split()]
for value in values("ReadWritePaths"):
    write_roots += [p.lstrip("-+") for p in value.split()]
if last("PrivateTmp") in ("yes", "true", "1"):
    write_roots += ["/tmp", "/var/tmp"]
protect_system_strict = last("ProtectSystem") == "strict"
protect_home = last("ProtectHome") in ("yes", "true", "1", "read-only", "tmpfs")
private_devices = last("PrivateDevices") in ("yes", "true", "1")
proc_subset_pid = last("ProcSubset") == "pid"
mdwe = last("MemoryDenyWriteExecute") in ("yes", "true", "1")
pseudo_devices = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                  "/dev/ptmx", "/dev/log", "/dev/stdin", "/dev/stdout", "/dev/stderr"}
pseudo_device_dirs = ("/dev/pts/", "/dev/shm/", "/dev/mqueue/", "/dev/hugepages/", "/dev/fd/")

line_re = re.compile(r"^(\d+)\s+(.*)$")
call_re = re.compile(r"^([a-z_0-9]+)\((.*)$")
resumed_re = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>(.*)$")
result_re = re.compile(r"\)\s+=\s+(-?\d+|\?)")

root_pid = None  # strace's child: setpriv, then env, then the program (one pid, exec after exec)
started = False  # the root pid has exec'd the program
service_pids = set()
violations = []
notes = []  # what the unit refuses but the program expects to be refused, and handles
seen_syscalls = {}


def violation(kind, pid, text):
    entry = f"{kind}: [{pid}] {text[:220]}"
    if entry not in violations:
        violations.append(entry)


def within(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def resolve(dirfd, path):
    if path.startswith("/"):
        return path
    match = re.match(r"^(?:-?\d+|AT_FDCWD)(?:<(.*)>)?$", dirfd.strip())
    base = match.group(1) if match and match.group(1) else "/"  # systemd starts services in /
    return base.rstrip("/") + "/" + path


def string_args(args):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', args)


WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")


def check_paths(pid, name, args):
    """Returns (path, writes) pairs for the file system calls we judge."""
    strings = string_args(args)
    parts = [p.strip() for p in args.split(",")]
    out = []
    if name in ("open", "creat") and strings:
        out.append((strings[0], name == "creat" or any(f in args for f in WRITE_FLAGS)))
    elif name in ("openat", "openat2") and strings:
        out.append((resolve(parts[0], strings[0]), any(f in args for f in WRITE_FLAGS)))
    elif name in ("mkdir", "unlink", "rmdir", "truncate", "chmod", "chown", "lchown", "mknod",
                  "utimes", "utime") and strings:
        out.append((strings[0], True))
    elif name in ("mkdirat", "unlinkat", "fchmodat", "fchownat", "mknodat", "utimensat") and strings:
        out.append((resolve(parts[0], strings[0]), True))
    elif name in ("rename", "link", "symlink") and len(strings) >= 2:
        out += [(strings[0], name != "symlink"), (strings[1], True)]
    elif name in ("renameat", "renameat2", "linkat") and len(strings) >= 2:
        dirfds = [p for p in parts if re.match(r"^(AT_FDCWD|-?\d+)(<.*>)?$", p)]
        first = resolve(dirfds[0] if dirfds else "AT_FDCWD", strings[0])
        second = resolve(dirfds[1] if len(dirfds) > 1 else "AT_FDCWD", strings[1])
        out += [(first, name != "linkat"), (second, True)]
    elif name == "symlinkat" and len(strings) >= 2:
        out.append((resolve(parts[1], strings[1]), True))
    elif name == "bind" and "AF_UNIX" in args and strings:
        out.append((strings[0], True))
    return out


for raw in open(trace_path, encoding="utf-8", errors="replace"):
    m = line_re.match(raw.rstrip("\n"))
    if not m:
        continue
    pid, rest = int(m.group(1)), m.group(2)
    if rest.startswith(("+++", "---")):
        continue
    resumed = resumed_re.match(rest)
    if resumed:
        name, args = resumed.group(1), resumed.group(2)
    else:
        call = call_re.match(rest)
        if not call:
            continue
        name, args = call.group(1), call.group(2)
    result = result_re.search(rest)
    if root_pid is None:
        root_pid = pid
    if pid == root_pid and not started:
        if name in ("execve", "execveat") and result and result.group(1) == "0" \
                and string_args(args)[:1] == [program]:
            started = True
            service_pids.add(pid)
        continue
    # The program, or one of its threads (every other pid of the trace was made by it).
    service_pids.add(pid)
    if not resumed:
        seen_syscalls[name] = seen_syscalls.get(name, 0) + 1
    if resumed and name not in ("mmap", "mprotect", "pkey_mprotect", "socket"):
        continue  # arguments of the call were judged on its first line
    if allowed_syscalls is not None and name not in allowed_syscalls:
        violation("SystemCallFilter", pid, rest)
    if mdwe:
        if name in ("mmap", "mmap2") and "PROT_WRITE" in args and "PROT_EXEC" in args:
            violation("MemoryDenyWriteExecute", pid, rest)
        if name in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in args:
            violation("MemoryDenyWriteExecute", pid, rest)
        if name == "shmat" and "SHM_EXEC" in args:
            violation("MemoryDenyWriteExecute", pid, rest)
    if name in ("socket", "socketpair") and families:
        family = args.split(",")[0].strip()
        if family == "AF_NETLINK" and "NETLINK_ROUTE" in args and family not in families:
            # glibc's getaddrinfo(AI_ADDRCONFIG) asks the kernel for the host's addresses
            # (RTM_GETADDR); refused (EAFNOSUPPORT), it assumes IPv4 and IPv6 are both configured.
            note = "RestrictAddressFamilies: getaddrinfo's NETLINK_ROUTE address probe will be refused (glibc then assumes IPv4 and IPv6)"
            if note not in notes:
                notes.append(note)
        elif family.startswith("AF_") and family not in families:
            violation("RestrictAddressFamilies", pid, rest)
    for path, writes in check_paths(pid, name, args):
        if protect_home and within(path, ["/home", "/root", "/run/user"]):
            violation("ProtectHome", pid, rest)
        if writes and protect_system_strict and not within(path, write_roots):
            violation("ProtectSystem=strict (not a writable path)", pid, rest)
        if private_devices and path.startswith("/dev/") and path not in pseudo_devices \
                and not path.startswith(pseudo_device_dirs):
            violation("PrivateDevices", pid, rest)
        if proc_subset_pid and path.startswith("/proc/"):
            first = path.split("/")[2]
            if path == "/proc/sys/vm/overcommit_memory":
                # glibc malloc's check_may_shrink_heap: refused, it shrinks with MADV_DONTNEED.
                note = "ProcSubset=pid: malloc's read of /proc/sys/vm/overcommit_memory will be refused (glibc then shrinks heaps with MADV_DONTNEED)"
                if note not in notes:
                    notes.append(note)
            elif first not in ("self", "thread-self") and not (first.isdigit() and int(first) in service_pids):
                violation("ProcSubset=pid / ProtectProc=invisible", pid, rest)

if not service_pids:
    sys.exit(f"check-trace: no successful execve of {program} in {trace_path}")
print(f"check-trace: {program}: {len(service_pids)} processes/threads, {sum(seen_syscalls.values())}"
      f" calls of {len(seen_syscalls)} system calls: {' '.join(sorted(seen_syscalls))}")
print(f"check-trace: checked SystemCallFilter ({len(allowed_syscalls or [])} allowed), "
      f"MemoryDenyWriteExecute={'yes' if mdwe else 'no'}, RestrictAddressFamilies={' '.join(sorted(families))}, "
      f"writable {' '.join(write_roots)}, ProtectHome, PrivateDevices, ProcSubset={'pid' if proc_subset_pid else 'all'}")
for n in notes:
    print("check-trace: tolerated: " + n)
for v in violations:
    print("check-trace: VIOLATION " + v)
sys.exit(1 if violations else 0)
