// /init of the VM's initramfs (busybox sh, PID 1 until it execs airlock-guest). Everything it
// reads comes from the kernel command line the provisioner wrote (airlock.* keys), never from the
// job. Disks are found by their virtio serial (root, scratch, node), not by probe order.
//
// Layout: the image's ext4 read-only at /newroot (the job's /); the machine's scratch disk at
// /scratch (outside the job's root), its folders bound onto /airlock/{workspace,temp,actions,
// toolcache} and the home; the node disk read-only at /airlock/externals/node; fresh /proc, /sys,
// /dev, /dev/shm and /tmp; loopback up (and no other network device exists). Processes of the
// job are counted in the cgroup /sys/fs/cgroup/job (pids.max), one child cgroup per exec.
// Timestamps (/proc/uptime) go to the console log for the boot time breakdown.
export const INIT_SCRIPT = `#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
say() { echo "airlock-init: $* $($B cut -d' ' -f1 /proc/uptime)" > /dev/console; }
fail() { say "FAILED: $*"; $B poweroff -f; }
say start
for kv in $($B cat /proc/cmdline); do
  case "$kv" in
    airlock.home=*) A_home=\${kv#*=} ;;
    airlock.nofile=*) A_nofile=\${kv#*=} ;;
    airlock.pids=*) A_pids=\${kv#*=} ;;
    airlock.tmp=*) A_tmp=\${kv#*=} ;;
    airlock.shm=*) A_shm=\${kv#*=} ;;
    airlock.egress=1) A_egress=--egress ;;
    airlock.services=1) A_services=--services ;;
    airlock.probe=1) A_probe=1 ;;
    airlock.userns=1) A_userns=1 ;;
  esac
done
for m in virtio_ring virtio virtio_mmio virtio_blk virtio_console; do
  $B insmod /lib/modules/$m.ko || fail "insmod $m"
done
say modules
[ -n "$A_probe" ] && { say probe; $B poweroff -f; }
dev_of() {
  for d in /sys/block/vd*; do
    [ "$($B cat $d/serial 2>/dev/null)" = "$1" ] && { echo /dev/\${d##*/}; return; }
  done
}
R=/newroot
$B mount -t ext4 -o ro "$(dev_of root)" $R || fail "root disk"
$B mount -t ext4 -o nosuid,nodev "$(dev_of scratch)" /scratch || fail "scratch disk"
for d in workspace temp actions toolcache; do $B mount --bind /scratch/$d $R/airlock/$d || fail "bind $d"; done
# Actions: read-only for the job (only copyIn writes them, through /scratch).
$B mount -o remount,bind,ro,nosuid,nodev $R/airlock/actions || fail "actions read-only"
$B mount --bind /scratch/home "$R$A_home" || fail "bind home"
$B mount -t ext4 -o ro,nodev "$(dev_of node)" $R/airlock/externals/node || fail "node disk"
# hidepid: the job sees its own processes only (not PID 1, not kernel threads).
$B mount -t proc -o hidepid=invisible proc $R/proc
$B mount -t sysfs -o ro,nosuid,nodev,noexec sys $R/sys
$B mount -t devtmpfs dev $R/dev
$B mkdir -p $R/dev/pts $R/dev/shm
$B mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
$B mount -t tmpfs -o nosuid,nodev,mode=1777,size=\${A_shm:-64}m shm $R/dev/shm
$B mount -t tmpfs -o nosuid,nodev,mode=1777,size=\${A_tmp:-1024}m tmp $R/tmp
$B ifconfig lo 127.0.0.1 up
$B hostname airlock
# The same kernel surface a sandbox job has: no new user namespaces (unless the pool allows them),
# no kernel log, addresses, BPF or perf events for unprivileged processes.
[ -n "$A_userns" ] || echo 0 > /proc/sys/user/max_user_namespaces
echo 4194304 > /proc/sys/kernel/threads-max
echo 1 > /proc/sys/kernel/dmesg_restrict
echo 2 > /proc/sys/kernel/kptr_restrict
echo 3 > /proc/sys/kernel/perf_event_paranoid
echo 1 > /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null
$B mount -t cgroup2 cgroup2 /sys/fs/cgroup && echo +pids > /sys/fs/cgroup/cgroup.subtree_control
$B mkdir /sys/fs/cgroup/job
[ -n "$A_pids" ] && echo "$A_pids" > /sys/fs/cgroup/job/pids.max
P=
for p in /sys/class/virtio-ports/*; do
  [ "$($B cat $p/name)" = airlock.ctl ] && P=/dev/\${p##*/}
done
[ -n "$P" ] || fail "no control port"
say mounted
exec /bin/airlock-guest --port "$P" --root $R --uid 1001 --gid 1001 \${A_nofile:+--nofile $A_nofile} $A_egress $A_services
`;
