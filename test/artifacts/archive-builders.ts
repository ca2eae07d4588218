// Builders for the archive tests: honest zips (yazl) and tars (tar-stream), and raw zip bytes for
// what the libraries refuse to write (`../` names, lying sizes and CRCs, overlapping entries).
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import tar from "tar-stream";
import yazl from "yazl";

export interface ZipItem {
  name: string;
  data?: Buffer | string;
  /** Full Unix mode including type bits (0o100644, 0o120777, ...). */
  mode?: number;
  dir?: boolean;
}

/** An honest zip written by yazl (as upload-artifact's zip library would). */
export async function yazlZip(items: ZipItem[], zip64 = false): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const it of items) {
    if (it.dir === true) zip.addEmptyDirectory(it.name, it.mode === undefined ? {} : { mode: it.mode });
    else
      zip.addBuffer(Buffer.from(it.data ?? ""), it.name, {
        forceZip64Format: zip64,
        ...(it.mode === undefined ? {} : { mode: it.mode }),
      });
  }
  zip.end({ forceZip64Format: zip64, comment: "" });
  const parts: Buffer[] = [];
  for await (const chunk of zip.outputStream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export interface RawZipItem {
  name: string | Buffer;
  data?: Buffer | string;
  deflate?: boolean;
  /** Full Unix mode (type bits included); default a regular 0644 file. */
  mode?: number;
  /** Lies written into both headers. */
  declaredSize?: number;
  crc?: number;
  /** Lies written into the central directory only. */
  centralSize?: number;
  /** A name for the local header other than the central directory's. */
  localName?: string;
  /** Written into the byte stream, but not listed in the central directory. */
  unlisted?: boolean;
  flags?: number;
  method?: number;
  /** Index of an earlier item whose local header and data this central entry points at. */
  shareWith?: number;
}

/** Writes zip bytes by hand: no validation at all. */
export function rawZip(items: RawZipItem[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  const metas: { crc: number; csize: number; usize: number; method: number }[] = [];
  let offset = 0;
  items.forEach((it) => {
    const name = typeof it.name === "string" ? Buffer.from(it.name) : it.name;
    const content = Buffer.from(it.data ?? "");
    const method = it.method ?? (it.deflate === true ? 8 : 0);
    const flags = it.flags ?? 0x800;
    let meta = { crc: it.crc ?? crc32(content), csize: 0, usize: it.declaredSize ?? content.length, method };
    let at = offset;
    if (it.shareWith !== undefined) {
      at = offsets[it.shareWith]!;
      meta = metas[it.shareWith]!;
    } else {
      const stored = method === 8 ? deflateRawSync(content, { level: 9 }) : content;
      meta.csize = stored.length;
      const lh = Buffer.alloc(30);
      lh.writeUInt32LE(0x04034b50, 0);
      lh.writeUInt16LE(20, 4);
      lh.writeUInt16LE(flags, 6);
      lh.writeUInt16LE(method, 8);
      lh.writeUInt16LE(0x21, 12);
      lh.writeUInt32LE(meta.crc >>> 0, 14);
      lh.writeUInt32LE(meta.csize, 18);
      lh.writeUInt32LE(meta.usize, 22);
      const localName = it.localName === undefined ? name : Buffer.from(it.localName);
      lh.writeUInt16LE(localName.length, 26);
      locals.push(lh, localName, stored);
      offset += 30 + localName.length + stored.length;
    }
    if (it.unlisted === true) return;
    offsets.push(at);
    metas.push(meta);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE((3 << 8) | 20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(flags, 8);
    ch.writeUInt16LE(meta.method, 10);
    ch.writeUInt16LE(0x21, 14);
    ch.writeUInt32LE(meta.crc >>> 0, 16);
    ch.writeUInt32LE(meta.csize, 20);
    ch.writeUInt32LE(it.centralSize ?? meta.usize, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(((it.mode ?? 0o100644) << 16) >>> 0, 38);
    ch.writeUInt32LE(at, 42);
    central.push(ch, name);
  });
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  const listed = items.filter((it) => it.unlisted !== true).length;
  eocd.writeUInt16LE(listed, 8);
  eocd.writeUInt16LE(listed, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

export interface TarItem {
  name: string;
  type?: tar.Header["type"];
  data?: Buffer | string;
  mode?: number;
  linkname?: string;
  /** Declared size when it should differ from the data's. */
  size?: number;
}

/** A tar written by tar-stream (which writes `../` names, devices and links as asked). */
export async function packTar(items: TarItem[], gzip = false): Promise<Buffer> {
  const pack = tar.pack();
  const done = (async () => {
    const parts: Buffer[] = [];
    for await (const chunk of pack) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  })();
  for (const it of items) {
    const data = it.data === undefined ? undefined : Buffer.from(it.data);
    const header: Partial<tar.Header> & { name: string } = {
      name: it.name,
      type: it.type ?? "file",
      mode: it.mode ?? 0o644,
      mtime: new Date(0),
    };
    if (it.linkname !== undefined) header.linkname = it.linkname;
    if (data !== undefined) header.size = data.length;
    await new Promise<void>((resolve, fail) => {
      pack.entry(header, data ?? Buffer.alloc(0), (err) => (err ? fail(err) : resolve()));
    });
  }
  pack.finalize();
  const bytes = await done;
  return gzip ? gzipSync(bytes) : bytes;
}

/** Rewrites one 512-byte tar header in place and fixes its checksum. */
export function patchTarHeader(buf: Buffer, headerOffset: number, patch: (h: Buffer) => void): Buffer {
  const out = Buffer.from(buf);
  const h = out.subarray(headerOffset, headerOffset + 512);
  patch(h);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return out;
}
