// Cgroup layout detection from /proc/self/mountinfo: v2, v1 and hybrid hosts (fixtures taken from
// real hosts: Debian 12 with systemd, Ubuntu 20.04, this project's CI machine).
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeLayout, parseCgroupLayout } from "../../src/provisioners/common/cgroups/index.js";

const V2 = `25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
30 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw`;

const V1 = `27 21 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
29 27 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
32 27 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
33 27 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
34 27 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
35 27 0:31 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer`;

const HYBRID = `${V1}
28 27 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate`;

void test("v2: every resource on the unified hierarchy", () => {
  const l = parseCgroupLayout(V2, () => "cpuset cpu io memory hugetlb pids rdma misc\n");
  assert.equal(l.mode, "v2");
  assert.equal(l.v2, "/sys/fs/cgroup");
  assert.deepEqual(l.resources, { memory: "v2", pids: "v2", cpu: "v2" });
  assert.equal(describeLayout(l), "cgroup v2: memory v2, pids v2, cpu v2 (v2 at /sys/fs/cgroup)");
});

void test("v1: one hierarchy per controller, cpu,cpuacct shared", () => {
  const l = parseCgroupLayout(V1, () => {
    throw new Error("no v2 here");
  });
  assert.equal(l.mode, "v1");
  assert.equal(l.v2, undefined);
  assert.deepEqual(l.resources, { memory: "v1", pids: "v1", cpu: "v1" });
  assert.equal(l.v1.get("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  assert.equal(l.v1.get("freezer"), "/sys/fs/cgroup/freezer");
});

void test("hybrid: controllers on v1, an empty v2 at /sys/fs/cgroup/unified", () => {
  const l = parseCgroupLayout(HYBRID, () => "");
  assert.equal(l.mode, "hybrid");
  assert.equal(l.v2, "/sys/fs/cgroup/unified");
  assert.deepEqual(l.resources, { memory: "v1", pids: "v1", cpu: "v1" });
});

void test("hybrid with a controller left to v2 uses v2 for it", () => {
  const l = parseCgroupLayout(
    HYBRID.replace("rw,pids\n", "rw,nothing\n").replace(/.*rw,pids$/m, ""),
    () => "pids",
  );
  assert.equal(l.resources.pids, "v2");
  assert.equal(l.resources.memory, "v1");
});

void test("no cgroup mounted", () => {
  const l = parseCgroupLayout("30 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw");
  assert.equal(l.mode, "none");
  assert.deepEqual(l.resources, {});
});
