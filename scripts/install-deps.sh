#!/usr/bin/env bash
# install-deps.sh SET... — install the Debian packages a part of execwatch needs, if missing.
#
#   build    what `swift build` of execwatch needs beyond the Swift toolchain: libaudit and
#            libcap headers for live capture (the CAudit and CLibcap shims), libbpf headers (the
#            eBPF probe and its loader, CLibbpf), zlib headers (gzip bodies), libpq headers (the
#            collector's PostgreSQL store), libyaml headers (configuration files and Sigma rules,
#            CYAML), pkg-config
#   test     what `make test` needs (also PostgreSQL, openssl for test certificates, chromium
#            for the collector's page, curl; gcc for the fault tests' exec load, unshare from
#            util-linux for their tmpfs; python3-venv for Tests/sigma's pySigma from PyPI; bpftool,
#            with which the eBPF tests check that no BPF program outlives them)
#   run      what `make run` needs: openssl for the local CA, curl, a netcat to try
#   deb      what `make deb` and scripts/test-deb.sh need (dpkg-dev, binutils, lintian, strace,
#            bpftool to find the installed agent's probe, …)
#   systemd  what scripts/test-systemd.sh needs beyond `deb`: debootstrap, qemu (with 9p), mkfs.ext4
#   fixture  what scripts/capture-audit-fixture.sh needs (auditd, real netcat binaries)
#   bench    what the scripts/bench-*.sh need: `build` (they build execwatch), auditd, laurel,
#            GNU time, jq, bpftool, a C compiler for the load generator, make for
#            bench-host-tax.sh's workload, netcat
#   soak     what scripts/soak.sh needs: `build` (it builds execwatch), auditctl, jq, a C compiler
#            for the load generator, netcat, openssl for its CA, gnuplot for the plot
#
# Idempotent: asks apt only for packages that are not installed, and runs `apt-get update` once,
# only when something must be installed.
set -euo pipefail

build_packages=(libaudit-dev libcap-dev libbpf-dev zlib1g-dev libpq-dev libyaml-dev pkg-config)
packages=()
for set in "$@"; do
    case "$set" in
        build) packages+=("${build_packages[@]}") ;;
        test)
            packages+=(ca-certificates auditd netcat-openbsd netcat-traditional ncat libcap2-bin python3 python3-venv)
            packages+=(postgresql openssl chromium curl gcc libc6-dev util-linux bpftool)
            ;;
        run) packages+=(ca-certificates openssl curl netcat-openbsd) ;;
        deb) packages+=(dpkg-dev binutils lintian strace openssl netcat-openbsd python3 auditd util-linux bpftool) ;;
        systemd) packages+=(debootstrap qemu-system-x86 e2fsprogs debian-archive-keyring) ;;
        fixture) packages+=(auditd python3 netcat-openbsd netcat-traditional ncat) ;;
        bench) packages+=("${build_packages[@]}" auditd laurel time python3 jq bpftool gcc libc6-dev make netcat-openbsd perl-base) ;;
        soak) packages+=("${build_packages[@]}" auditd python3 jq gcc libc6-dev netcat-openbsd openssl gnuplot-nox) ;;
        *) echo "install-deps.sh: unknown set '$set' (build, test, run, deb, systemd, fixture, bench, soak)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${packages[@]+"${packages[@]}"}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
