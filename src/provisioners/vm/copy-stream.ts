// The copy stream airlock-guest's `copyin` mode reads (see copy_in in native/airlock-guest.c):
// records of kind ('d' folder, 'f' file, 'l' symlink; 0 ends), mode, relative path and content.
// Built from a host file or folder without following symlinks (a symlink is copied as one).
import { promises as fsp } from "node:fs";
import path from "node:path";

function record(kind: "d" | "f" | "l", mode: number, rel: string, data: Buffer): Buffer {
  const p = Buffer.from(rel);
  const h = Buffer.alloc(1 + 4 + 4);
  h.writeUInt8(kind.charCodeAt(0), 0);
  h.writeUInt32LE(mode & 0o7777, 1);
  h.writeUInt32LE(p.length, 5);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(data.length));
  return Buffer.concat([h, p, size, data]);
}

export const END = Buffer.from([0]);

/** One file's record (path "" = the destination itself). */
export function fileRecord(data: Buffer, mode = 0o644): Buffer {
  return record("f", mode, "", data);
}

/** Calls `emit` with the records of `hostPath` (file, folder tree or symlink), then the end mark. */
export async function copyRecords(hostPath: string, emit: (b: Buffer) => Promise<void>): Promise<void> {
  const walk = async (abs: string, rel: string): Promise<void> => {
    const st = await fsp.lstat(abs);
    if (st.isSymbolicLink()) {
      await emit(record("l", 0o777, rel, Buffer.from(await fsp.readlink(abs))));
    } else if (st.isDirectory()) {
      await emit(record("d", st.mode, rel, Buffer.alloc(0)));
      for (const name of (await fsp.readdir(abs)).sort()) {
        await walk(path.join(abs, name), rel === "" ? name : `${rel}/${name}`);
      }
    } else if (st.isFile()) {
      await emit(record("f", st.mode, rel, await fsp.readFile(abs)));
    }
  };
  await walk(hostPath, "");
  await emit(END);
}
