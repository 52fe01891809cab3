#!/bin/bash
# HaPowerShell kernel lab, stage 2: PID 1 of the guest after switch_root.
#
# The root file system is the host's / (read-only 9p) under a tmpfs overlay, so all
# the host's tools (bash, ip, ipvsadm, dotnet, pwsh...) are here. This script
# finishes the set-up of the guest, runs the user's script as root and powers the
# machine off. It talks to the host only through the lab I/O share, /run/lab:
#
#   in:   script.sh   the user's script (run with bash)
#         env.sh      `export NAME='value'` lines: the caller's -Environment
#         workdir     the working directory, one line (a host path, the same here)
#   out:  booted      the guest's uptime in seconds when this stage started
#         output.log  the script's combined stdout and stderr (also on the console)
#         exit-code   the script's exit status
#         out/        $LAB_OUT: anything the script wants to hand back
#
# PID 1 must never exit (the kernel would panic), so every path ends in power_off.

LAB_IO=/run/lab

power_off() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 10
}

# Reports a set-up failure the same way as a script failure, so the host shows it.
fail() {
    echo "KERNEL-LAB-STAGE2-FAILED: $*" | tee "$LAB_IO/stage2-error"
    echo 125 > "$LAB_IO/exit-code"
    power_off
}

cut -d' ' -f1 /proc/uptime > "$LAB_IO/booted"

# Pseudo file systems (stage 1 moved /dev, /proc and /sys here already).
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null   # optional

# The unpacked kernel's modules, so modprobe (and the kernel's autoloader) work.
mkdir -p /lib/modules
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro labmods /lib/modules \
    || fail "cannot mount the kernel modules share (9p tag labmods)"
[ -d "/lib/modules/$(uname -r)" ] || fail "no modules for kernel $(uname -r) in /lib/modules"

IFS= read -r workdir < "$LAB_IO/workdir" || fail "the lab I/O share has no workdir file"

# A private /tmp. If the working directory is under the host's /tmp, keep that one
# directory tree visible (through the overlay, so it stays writable).
mkdir -p /run/lab-host-tmp
mount --bind /tmp /run/lab-host-tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "cannot mount /tmp"
case "$workdir" in
    /tmp/?*)
        top=${workdir#/tmp/}
        top=${top%%/*}
        if [ -d "/run/lab-host-tmp/$top" ]; then
            mkdir -p "/tmp/$top"
            mount --bind "/run/lab-host-tmp/$top" "/tmp/$top"
        fi
        ;;
esac

echo haps-lab > /proc/sys/kernel/hostname
echo '127.0.1.1 haps-lab' >> /etc/hosts
ip link set lo up
modprobe -q virtio_rng 2>/dev/null   # entropy from the host's virtio-rng-pci, if any

mkdir -p "$LAB_IO/out"

# The script runs with a clean, predictable environment; env.sh (the caller's
# -Environment) is sourced last and may override any of it.
env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/root/.dotnet/tools \
    HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
    LANG=C.UTF-8 TERM=dumb \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off \
    LAB_OUT="$LAB_IO/out" HAPS_KERNEL_LAB=1 LAB_WORKDIR="$workdir" \
    /bin/bash --noprofile --norc -c '
        . /run/lab/env.sh || { echo "kernel-lab: cannot read env.sh" >&2; exit 125; }
        cd -- "$LAB_WORKDIR" || { echo "kernel-lab: cannot cd to $LAB_WORKDIR" >&2; exit 125; }
        exec /bin/bash /run/lab/script.sh
    ' </dev/null 2>&1 | tee "$LAB_IO/output.log"
rc=${PIPESTATUS[0]}

echo "$rc" > "$LAB_IO/exit-code"
power_off
