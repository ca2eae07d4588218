// Connects to the first reachable of the addresses a decision returned (IP literals only, so no
// lookup happens here), each attempt bounded in time.
import { connect, type Socket } from "node:net";

export async function connectFirst(
  addresses: readonly string[],
  port: number,
  timeoutMs: number,
): Promise<{ socket: Socket; address: string }> {
  let last: unknown = new Error("no address");
  for (const address of addresses) {
    try {
      return { socket: await connectOne(address, port, timeoutMs), address };
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

function connectOne(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, family: host.includes(":") ? 6 : 4, noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error("connect timeout"));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
