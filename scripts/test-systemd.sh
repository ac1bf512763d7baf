#!/usr/bin/env bash
# test-systemd.sh — the Debian packages under a real systemd (`make test-systemd`; root; not in
# `make test` nor CI: it boots a virtual machine).
#
#   1. `make deb` (dist/), unless TEST_SYSTEMD_SKIP_MAKE=1.
#   2. A Debian 12 root file system made by debootstrap (its kernel and initrd, systemd as init,
#      netcat-openbsd, the packages' libraries; no auditd, only auditctl taken from Debian's
#      auditd package) in $TEST_SYSTEMD_CACHE (default /var/tmp/execwatch-systemd), made once and
#      reused (delete the folder to make it again).
#   3. A fresh ext4 image of it per run (mkfs.ext4 -d) with a oneshot unit that mounts a 9p
#      share of the run's folder, runs packaging/test/systemd-guest.sh with both .debs (its
#      header lists the checks), writes its output to the share and the second serial port, and
#      powers the guest off.
#   4. Boots it with qemu (KVM when /dev/kvm works, else TCG; no network device: the collector
#      and the agent talk over the guest's loopback), the guest's own kernel and initrd, console
#      on the first serial port (console.log in the run's folder). Prints the guest's ok/FAIL
#      lines as they come, and PASS only when the guest said PASS. qemu is killed at the end in
#      any case (timeout: TEST_SYSTEMD_TIMEOUT seconds, default 900 with KVM, 3600 without).
#
# The run's folder (console.log, guest.log, journal.txt) is kept when the test fails or with
# TEST_SYSTEMD_KEEP_WORK=1. Environment: TEST_SYSTEMD_SKIP_MAKE=1, TEST_SYSTEMD_CACHE,
# TEST_SYSTEMD_MIRROR (default http://deb.debian.org/debian), TEST_SYSTEMD_TIMEOUT,
# TEST_SYSTEMD_ACCEL (kvm or tcg, default: kvm when it works).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
CACHE=${TEST_SYSTEMD_CACHE:-/var/tmp/execwatch-systemd}
MIRROR=${TEST_SYSTEMD_MIRROR:-http://deb.debian.org/debian}
ROOTFS=$CACHE/rootfs
# The guest's packages beyond debootstrap's minbase: a kernel, systemd as init, what the tests
# run, and the libraries the packages depend on (the guest has no network to fetch them).
GUEST_PACKAGES=linux-image-amd64,systemd-sysv,systemd,udev,kmod,adduser,netcat-openbsd,procps
GUEST_PACKAGES+=,libaudit1,libauparse0,libbpf1,libelf1,libcap2,libcap-ng0,zlib1g,libyaml-0-2,libpq5,libsqlite3-0,libstdc++6,libgcc-s1,init-system-helpers
GUEST_HOSTNAME=execwatch-guest

log() { echo "test-systemd: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run me as root: debootstrap, mkfs and the guest's image need it"
"$REPO/scripts/install-deps.sh" deb systemd || die "cannot install what the test needs"

WORK=$(mktemp -d /var/tmp/test-systemd.XXXXXX)
QEMU_PID=
RESULT=FAILED
cleanup() {
    local rc=$?
    set +e
    if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
        log "stopping qemu (pid $QEMU_PID)"
        kill -TERM "$QEMU_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$QEMU_PID" 2>/dev/null
        wait "$QEMU_PID" 2>/dev/null
    fi
    [[ -n ${TAIL_PID:-} ]] && kill "$TAIL_PID" 2>/dev/null
    rm -f "$WORK/root.img"
    if [[ $RESULT == PASS && $rc == 0 && ${TEST_SYSTEMD_KEEP_WORK:-} != 1 ]]; then
        rm -rf "$WORK"
    else
        log "kept $WORK (console.log: the guest's console; share/out/: guest.log, journal.txt)"
    fi
    [[ $RESULT == PASS && $rc == 0 ]] && log "PASS" || log "FAILED"
    [[ $RESULT == PASS ]] || rc=1
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. packages ----------------------------------------------------------------------------
VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
[[ $ARCH == amd64 ]] || die "the guest is amd64; this machine builds $ARCH packages"
if [[ ${TEST_SYSTEMD_SKIP_MAKE:-} != 1 ]]; then
    log "make deb"
    make deb
fi
DEBS=("dist/execwatch_${VERSION}_${ARCH}.deb" "dist/execwatch-collector_${VERSION}_${ARCH}.deb")
for deb in "${DEBS[@]}"; do [[ -f $deb ]] || die "$deb is missing (make deb)"; done

# --- 2. the guest's root file system, made once -----------------------------------------------
if [[ ! -d $ROOTFS ]]; then
    mkdir -p "$CACHE"
    rm -rf "$ROOTFS.partial"
    log "debootstrap bookworm into $ROOTFS (once; a few minutes)"
    debootstrap --variant=minbase --include="$GUEST_PACKAGES" bookworm "$ROOTFS.partial" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed: see $CACHE/debootstrap.log"
    # auditctl alone, to read and set the kernel's audit state: auditd would take audit.
    chroot "$ROOTFS.partial" apt-get -qq update >>"$CACHE/debootstrap.log" 2>&1 &&
        (cd "$ROOTFS.partial/tmp" && chroot "$ROOTFS.partial" sh -c 'cd /tmp && apt-get -qq download auditd') \
            >>"$CACHE/debootstrap.log" 2>&1 || die "cannot download auditd: see $CACHE/debootstrap.log"
    dpkg-deb --fsys-tarfile "$ROOTFS.partial"/tmp/auditd_*.deb | tar -xO ./sbin/auditctl \
        >"$ROOTFS.partial/usr/local/sbin/auditctl"
    chmod 0755 "$ROOTFS.partial/usr/local/sbin/auditctl"
    rm -f "$ROOTFS.partial"/tmp/auditd_*.deb
    chroot "$ROOTFS.partial" apt-get -qq clean
    rm -rf "$ROOTFS.partial"/var/lib/apt/lists/*
    mv "$ROOTFS.partial" "$ROOTFS"
fi
# The packages' Depends, as built now, installed into the cached root too (the list above may be
# older than the packages: a new library, e.g. libbpf1, would leave dpkg -i unconfigured).
missing=()
for deb in "${DEBS[@]}"; do
    for name in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g'); do
        chroot "$ROOTFS" dpkg -s "$name" >/dev/null 2>&1 || missing+=("$name")
    done
done
if ((${#missing[@]})); then
    log "installing into the cached root what the packages now depend on: ${missing[*]}"
    { chroot "$ROOTFS" apt-get -qq update &&
        chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "${missing[@]}" &&
        chroot "$ROOTFS" apt-get -qq clean && rm -rf "$ROOTFS"/var/lib/apt/lists/*; } \
        >>"$CACHE/debootstrap.log" 2>&1 || die "cannot install ${missing[*]} into $ROOTFS: see $CACHE/debootstrap.log"
fi
KERNEL=$(ls "$ROOTFS"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
INITRD=$(ls "$ROOTFS"/boot/initrd.img-* 2>/dev/null | sort -V | tail -1)
[[ -f $KERNEL && -f $INITRD ]] || die "no kernel or initrd in $ROOTFS/boot (delete $ROOTFS to make it again)"
[[ -x $ROOTFS/usr/local/sbin/auditctl ]] ||
    die "no auditctl in $ROOTFS (delete it to make it again)"

# The guest's settings and the test's runner: written on every run (cheap, so a change here needs
# no new debootstrap).
echo "$GUEST_HOSTNAME" >"$ROOTFS/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost\n' "$GUEST_HOSTNAME" >"$ROOTFS/etc/hosts"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$ROOTFS/etc/fstab"
mkdir -p "$ROOTFS/mnt/execwatch"
cat >"$ROOTFS/etc/systemd/system/execwatch-guest-test.service" <<'EOF'
# written by scripts/test-systemd.sh: runs the test from the host's share, then powers off.
[Unit]
Description=execwatch packages under systemd (scripts/test-systemd.sh)
After=multi-user.target
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStartPre=/sbin/modprobe -a 9p 9pnet_virtio
ExecStartPre=/bin/mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 execwatch /mnt/execwatch
ExecStart=/bin/sh -c '/bin/bash /mnt/execwatch/in/systemd-guest.sh /mnt/execwatch/in 2>&1 | tee /mnt/execwatch/out/guest.log >/dev/ttyS1; journalctl -b --no-pager -o short-precise >/mnt/execwatch/out/journal.txt; sync'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
ln -sf ../execwatch-guest-test.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/execwatch-guest-test.service"
# No login prompt on the consoles, nothing else that waits for a network.
ln -sf /dev/null "$ROOTFS/etc/systemd/system/serial-getty@.service"
ln -sf /dev/null "$ROOTFS/etc/systemd/system/getty@.service"

# --- 3. this run's image and share ------------------------------------------------------------
mkdir -p "$WORK/share/in" "$WORK/share/out"
cp "${DEBS[@]}" packaging/test/systemd-guest.sh "$WORK/share/in/"
log "mkfs.ext4 -d $ROOTFS $WORK/root.img"
mkfs.ext4 -q -F -L execwatch-guest -d "$ROOTFS" "$WORK/root.img" 4G >"$WORK/mkfs.log" 2>&1 ||
    die "mkfs.ext4 failed: $(cat "$WORK/mkfs.log")"

# --- 4. boot -------------------------------------------------------------------------------------
# KVM when it boots the guest's kernel: its "Linux version" banner on the serial console within
# 20 s (/dev/kvm may exist and still not run a guest, e.g. nested under another hypervisor); the
# host's CPU model, else the same without IA32_ARCH_CAPABILITIES (nested KVM may refuse that
# MSR). Else TCG.
kvm_boots() { # kvm_boots CPU_MODEL
    [[ -w /dev/kvm ]] || return 1
    local probe=$WORK/kvm-probe.log pid i
    : >"$probe"
    # Under timeout(1), in case this script dies first. qemu may abort (an MSR refused): bash's
    # report of that crash goes to the caller's stderr (/dev/null).
    timeout 30 qemu-system-x86_64 -machine q35 -accel kvm -cpu "$1" -m 512 -nodefaults -display none \
        -no-reboot -kernel "$KERNEL" -append "console=ttyS0 panic=-1" -serial "file:$probe" \
        </dev/null >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 200; i++)); do
        grep -q 'Linux version' "$probe" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    grep -q 'Linux version' "$probe"
}
ACCEL=${TEST_SYSTEMD_ACCEL:-}
CPU_MODEL=max
if [[ $ACCEL != tcg ]]; then
    for model in host host,-arch-capabilities; do
        if kvm_boots "$model" 2>/dev/null; then ACCEL=kvm CPU_MODEL=$model; break; fi
    done
    if [[ $CPU_MODEL == max ]]; then # no model booted
        log "KVM does not boot the guest's kernel here: TCG (slow)"
        [[ -z $ACCEL ]] || die "TEST_SYSTEMD_ACCEL=$ACCEL, but KVM does not boot the guest here"
        ACCEL=tcg
    fi
fi
case $ACCEL in
    kvm) TIMEOUT=${TEST_SYSTEMD_TIMEOUT:-900} ;;
    tcg) TIMEOUT=${TEST_SYSTEMD_TIMEOUT:-3600} ;;
    *) die "TEST_SYSTEMD_ACCEL=$ACCEL: kvm or tcg" ;;
esac
CPU=(-accel "$ACCEL" -cpu "$CPU_MODEL")
touch "$WORK/guest-serial.log"
log "booting $(basename "$KERNEL") with qemu ($ACCEL, -cpu $CPU_MODEL, timeout ${TIMEOUT} s); console: $WORK/console.log"
qemu-system-x86_64 -machine q35 "${CPU[@]}" -smp 2 -m 2048 -nodefaults -display none -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.show_status=1 panic=-1" \
    -drive "file=$WORK/root.img,format=raw,if=virtio,cache=unsafe" \
    -virtfs "local,path=$WORK/share,mount_tag=execwatch,security_model=none,id=execwatch" \
    -serial "file:$WORK/console.log" -serial "file:$WORK/guest-serial.log" \
    -nic none </dev/null >"$WORK/qemu.log" 2>&1 &
QEMU_PID=$!
tail -n +1 -f --pid="$QEMU_PID" "$WORK/guest-serial.log" | sed -u 's/\r$//' &
TAIL_PID=$!
start=$SECONDS
while kill -0 "$QEMU_PID" 2>/dev/null && ((SECONDS - start < TIMEOUT)); do sleep 1; done
if kill -0 "$QEMU_PID" 2>/dev/null; then
    log "FAIL: the guest did not power off within $TIMEOUT s"
else
    wait "$QEMU_PID" || log "qemu exited with status $?: $(tail -3 "$WORK/qemu.log")"
    QEMU_PID=
    wait "$TAIL_PID" || true # tail --pid ends within a second of qemu, after the last line
    TAIL_PID=
    log "the guest powered off after $((SECONDS - start)) s"
fi
if [[ -s $WORK/share/out/guest.log ]] && tail -1 "$WORK/share/out/guest.log" | grep -qx 'systemd-guest: PASS'; then
    RESULT=PASS
elif [[ ! -s $WORK/share/out/guest.log ]]; then
    log "FAIL: the guest wrote no result; the console's end:"
    tail -30 "$WORK/console.log" | tr -d '\r' | sed 's/^/    /' >&2
fi
