#!/usr/bin/env bash
# Installs the Debian packages Airlock needs when they are missing (as root), or stops with one
# line naming what to install. Safe to run repeatedly: does nothing when all are present.
# `--with-podman`: also podman and runc (bench:start compares the sandbox with `podman run`).
set -euo pipefail
need=()
if [ "${1:-}" = "--with-podman" ]; then
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
fi
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
# --- container provisioner (src/provisioners/container): rootful podman with runc (crun fails on
# hybrid cgroup hosts); its tests and the escape suite run it.
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
# Rootless mode (agent not root) maps the user's subordinate ids with newuidmap/newgidmap.
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
# Tests only: a real registry (distribution) to pull job containers from, with TLS (openssl makes
# the self-signed certificate) and htpasswd (bcrypt) authentication (test/helpers/registry.ts).
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# --- end container provisioner
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v git >/dev/null 2>&1 || need+=(git)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v ps >/dev/null 2>&1 || need+=(procps)
command -v useradd >/dev/null 2>&1 || need+=(passwd)
# Machines: ext4 loop filesystems for the workspace disk limit; egress tests use network namespaces.
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v losetup >/dev/null 2>&1 || need+=(mount)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# Job images (`airlock image build`) are built with mmdebstrap; tar unpacks them.
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v gpg >/dev/null 2>&1 || need+=(gpg)
command -v tar >/dev/null 2>&1 || need+=(tar)
# Tests only: a plain-SQL pg_dump for the audit log's offline verification (the embedded
# PostgreSQL ships no pg_dump; Debian's 15 dumps a throwaway PostgreSQL 15 the tests start).
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
[ -x /usr/lib/postgresql/15/bin/pg_dump ] || need+=(postgresql-client-15)
# npm builds pkcs11js (the PKCS#11 KMS provider) from C++ source; SoftHSM2 is the HSM its tests use.
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
[ -e /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
# pkcs11-tool (OpenSC) makes the first AES key in a token, as docs/security.md tells operators to.
command -v pkcs11-tool >/dev/null 2>&1 || need+=(opensc)
# The native helpers (native/*.c) are built static: gcc plus libc6-dev's libc.a.
command -v gcc >/dev/null 2>&1 || need+=(gcc)
case "$(gcc -print-file-name=libc.a 2>/dev/null)" in /*) ;; *) need+=(libc6-dev) ;; esac
# The web UI's browser tests drive Debian's Chromium headless (playwright-core; no browser download).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# SSH provisioner: the OpenSSH client (ssh, ssh-keyscan, ssh-keygen); its tests start a real sshd.
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
# VM provisioner (src/provisioners/vm): QEMU, Debian's cloud kernel as the guest kernel, and a
# static busybox for the guest's initramfs.
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
compgen -G '/boot/vmlinuz-*-cloud-amd64' >/dev/null || need+=(linux-image-cloud-amd64)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "airlock: missing system packages; install them first: ${need[*]}" >&2
  exit 1
fi
echo "airlock: installing ${need[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
