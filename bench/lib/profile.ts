// Optional CPU profile of a measured window only (set-up and tear-down left out): with
// AIRLOCK_BENCH_CPU_PROFILE=<file>, the V8 profiler of this process records between start() and
// stop() and writes a .cpuprofile (open it in Chrome DevTools or VS Code).
import { Session } from "node:inspector/promises";
import { writeFile } from "node:fs/promises";

export interface WindowProfiler {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function windowProfiler(file = process.env.AIRLOCK_BENCH_CPU_PROFILE): WindowProfiler {
  if (!file) return { start: () => Promise.resolve(), stop: () => Promise.resolve() };
  const session = new Session();
  let on = false;
  return {
    async start() {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
      on = true;
    },
    async stop() {
      if (!on) return;
      on = false;
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      console.error(`CPU profile of the measured window: ${file}`);
    },
  };
}
