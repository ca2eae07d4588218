// Public face of the cgroup support shared by provisioners: host layout detection (v1, v2,
// hybrid) and one machine's cgroups (limits, counters, kill, removal).
export {
  detectCgroups,
  describeLayout,
  parseCgroupLayout,
  type CgroupLayout,
  type CgroupMode,
  type Resource,
} from "./detect.js";
export {
  MachineCgroup,
  sweepStale,
  WATCH_INTERVAL_MS,
  type CgroupLimits,
  type LimitHit,
} from "./machine-cgroup.js";
