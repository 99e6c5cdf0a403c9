#!/usr/bin/env bash
# The USB lab: a QEMU guest (Debian's kernel, busybox, plain TCG) with a real USB stack (xHCI,
# usbcore, usbfs) and emulated USB devices, which runs one command of the host inside it.
#
#   lab/usb/lab.sh prepare
#       Fetches Debian's kernel and busybox-static (apt-get download, dpkg -x) into the cache
#       folder ($MANCOM_LAB_CACHE, default ~/.cache/mancom-usb-lab) and builds an initramfs.
#       Done once; later calls return at once. Prints the cache folder.
#
#   lab/usb/lab.sh run [--serial PORT]... [--qmp SOCKET] [--mem MB] [--timeout SECONDS] -- COMMAND...
#       Boots the guest with one emulated FTDI USB-serial device (0403:6001) per --serial: the
#       device's other end is a TCP server socket on 127.0.0.1:PORT of the host, and the device
#       attaches (is plugged in) once something connects there. The first is chardev c0 on
#       device ftdi0, the next c1/ftdi1, and so on. --qmp SOCKET opens QEMU's monitor (QMP) on a
#       unix socket, for device_del / device_add. The guest mounts the host's root read-only
#       over 9p, binds /dev, /proc and /sys into it, mounts a tmpfs at /run (scratch: /run/lab-tmp) and runs
#       COMMAND there with `chroot` (with sh -c when it is one word with spaces), as root, in
#       the current folder. The command's output is printed; the exit status is the command's
#       (124 when --timeout passed, 125 when the guest failed before running it).
#
# Environment: MANCOM_LAB_CACHE (the cache folder), MANCOM_LAB_LOG (keep the full console log
# there), QEMU (the qemu binary, default qemu-system-x86_64).
set -euo pipefail

CACHE=${MANCOM_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mancom-usb-lab}
QEMU=${QEMU:-qemu-system-x86_64}
# Loaded in this order in the guest: the USB host stack, then virtio and 9p for the host's root.
MODULES="usb-common usbcore xhci-hcd xhci-pci virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"
FORMAT=$(sha256sum "$0" | cut -c1-16) # the prepared guest is rebuilt whenever this script changes

die() { echo "lab: $*" >&2; exit 125; }

prepare() {
  if [ -f "$CACHE/ready" ] && [ "$(cat "$CACHE/ready")" = "$FORMAT" ]; then
    echo "$CACHE"; return 0
  fi
  for t in apt-get apt-cache dpkg cpio depmod gzip; do
    command -v "$t" >/dev/null || die "prepare needs $t (apt-get install cpio kmod)"
  done
  mkdir -p "$CACHE"
  local work; work=$(mktemp -d "$CACHE/prepare.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  local kpkg
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$kpkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on (apt-get update?)"
  echo "lab: fetching $kpkg and busybox-static" >&2
  # apt-get download writes into the current folder; as root it warns that _apt cannot
  # write there, which is harmless.
  (cd "$work" && apt-get download -q "$kpkg" busybox-static >&2) || die "apt-get download $kpkg busybox-static failed"
  dpkg -x "$work"/linux-image-*.deb "$work/k"
  dpkg -x "$work"/busybox-static_*.deb "$work/bb"
  local kver; kver=$(ls "$work/k/lib/modules" | head -n1)
  [ -n "$kver" ] || die "no modules in $kpkg"
  local root="$work/root"
  mkdir -p "$root"/{bin,dev,proc,sys,host,tmp,etc} "$root/lib/modules/$kver"
  cp "$work/bb/bin/busybox" "$root/bin/busybox"
  local m f order=""
  for m in $MODULES; do
    f=$(find "$work/k/lib/modules/$kver/kernel" \( -name "$m.ko*" -o -name "${m//-/_}.ko*" -o -name "${m//_/-}.ko*" \) | head -n1)
    [ -n "$f" ] || die "module $m is not in $kpkg"
    local rel=${f#"$work/k/lib/modules/$kver/"}
    mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
    case "$f" in
      *.ko.xz) xz -dc "$f" > "$root/lib/modules/$kver/${rel%.xz}"; rel=${rel%.xz} ;;
      *.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$kver/${rel%.zst}"; rel=${rel%.zst} ;;
      *) cp "$f" "$root/lib/modules/$kver/$rel" ;;
    esac
    order="$order /lib/modules/$kver/$rel"
  done
  echo "$order" > "$root/etc/modules.load"
  for f in modules.builtin modules.builtin.modinfo modules.order; do
    [ -f "$work/k/lib/modules/$kver/$f" ] && cp "$work/k/lib/modules/$kver/$f" "$root/lib/modules/$kver/"
  done
  depmod -b "$root" "$kver"
  cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { printf '\n@@LAB %s\n' "$*" > /dev/ttyS0; }
finish() { say "EXIT $1"; sync; poweroff -f; sleep 5; }
for m in $(cat /etc/modules.load); do insmod "$m" || { say "insmod $m failed"; finish 125; }; done
cmd=; cwd=/
for a in $(cat /proc/cmdline); do
  case "$a" in lab.cmd=*) cmd=${a#lab.cmd=} ;; lab.cwd=*) cwd=${a#lab.cwd=} ;; esac
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host || { say "cannot mount the host's root"; finish 125; }
cp "/host$cmd" /cmd.sh || { say "no command script $cmd"; finish 125; }
mount --bind /dev /host/dev || { say "cannot bind /dev"; finish 125; }
mount -t proc proc /host/proc || { say "cannot mount /proc"; finish 125; }
mount -t sysfs sysfs /host/sys || { say "cannot mount /sys"; finish 125; }
# The host's /tmp stays visible (read-only), so a checkout or build under /tmp works in the
# guest too; the guest writes to a tmpfs of its own at /run/lab-tmp (TMPDIR, java.io.tmpdir).
mount -t tmpfs -o mode=755 tmpfs /host/run || { say "cannot mount /run"; finish 125; }
mkdir -p /host/run/lab-tmp && chmod 1777 /host/run/lab-tmp
cp /cmd.sh /host/run/.lab-cmd.sh
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
say BEGIN
chroot /host /bin/sh -c "cd '$cwd' 2>/dev/null || cd /; exec /bin/sh /run/.lab-cmd.sh" < /dev/null > /dev/ttyS0 2>&1
finish $?
INIT
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"
  cp "$work"/k/boot/vmlinuz-* "$work/vmlinuz"
  mv "$work/vmlinuz" "$work/initrd.gz" "$CACHE/"
  echo "$kver" > "$CACHE/kernel-version"
  echo "$FORMAT" > "$CACHE/ready"
  echo "$CACHE"
}

run() {
  local serials=() qmp="" mem=1536 timeout=300
  while [ $# -gt 0 ]; do
    case "$1" in
      --serial) serials+=("$2"); shift 2 ;;
      --qmp) qmp=$2; shift 2 ;;
      --mem) mem=$2; shift 2 ;;
      --timeout) timeout=$2; shift 2 ;;
      --) shift; break ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ $# -gt 0 ] || die "run needs a command after --"
  command -v "$QEMU" >/dev/null || die "$QEMU is not installed (apt-get install qemu-system-x86)"
  prepare >/dev/null
  # The command script lives on the host, in the cache, and the guest reads it over 9p.
  local dir; dir=$(mktemp -d "$CACHE/run.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  trap 'exit 143' TERM INT
  {
    echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/run/lab-tmp LANG=C.UTF-8'
    if [ $# -eq 1 ]; then printf '%s\n' "$1"; else printf '%q ' "$@"; echo; fi
  } > "$dir/cmd.sh"
  local args=(-accel tcg -m "$mem" -smp 1 -nographic -no-reboot -net none
    -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.gz"
    -append "console=ttyS0 quiet loglevel=3 panic=-1 lab.cmd=$dir/cmd.sh lab.cwd=$PWD"
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
    -device qemu-xhci,id=xhci)
  local i=0 p
  for p in "${serials[@]}"; do
    args+=(-chardev "socket,id=c$i,host=127.0.0.1,port=$p,server=on,wait=off"
      -device "usb-serial,bus=xhci.0,chardev=c$i,id=ftdi$i")
    i=$((i + 1))
  done
  [ -n "$qmp" ] && args+=(-qmp "unix:$qmp,server=on,wait=off")
  local log=${MANCOM_LAB_LOG:-$dir/console.log}
  # The console: kernel messages, then "@@LAB BEGIN", the command's output, "@@LAB EXIT n";
  # the command's output is passed on as it comes.
  local rc=0
  set +e
  timeout -k 5 "$timeout" "$QEMU" "${args[@]}" < /dev/null 2>&1 | tee "$log" | {
    # (a shell loop rather than awk: mawk reads its input in blocks, which would hold lines back)
    started=
    while IFS= read -r line; do
      line=${line%$'\r'}
      case "$line" in
        @@LAB\ EXIT\ *) break ;;
        *@@LAB\ BEGIN) started=1 ;;
        *) [ -n "$started" ] && printf '%s\n' "$line" ;;
      esac
    done
    cat > /dev/null
  }
  rc=${PIPESTATUS[0]}
  set -e
  local status
  status=$(tr -d '\r' < "$log" | sed -n 's/^@@LAB EXIT \([0-9]*\)$/\1/p' | tail -n1)
  if [ -z "$status" ]; then
    if [ "$rc" = 124 ]; then echo "lab: the guest did not finish within ${timeout}s" >&2; exit 124; fi
    echo "lab: the guest ended without running the command (qemu exit $rc); its console:" >&2
    tail -n 40 "$log" | tr -d '\r' >&2
    exit 125
  fi
  tr -d '\r' < "$log" | grep -o '@@LAB .*' | grep -v -e '^@@LAB BEGIN' -e '^@@LAB EXIT' >&2 || true
  exit "$status"
}

case "${1:-}" in
  prepare) shift; prepare "$@" ;;
  run) shift; run "$@" ;;
  *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
