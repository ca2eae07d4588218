// Shapes shared by the zip and tar readers, the checks and the consumers (inspect, extract, diff).
import type { Readable } from "node:stream";

export type EntryType = "file" | "directory" | "symlink" | "hardlink";

/** One entry as it passed every check: what inspect lists and extract writes. */
export interface ArchiveEntry {
  /** Normalised relative path: "/"-separated, no ".", "..", or empty components, no trailing "/". */
  path: string;
  type: EntryType;
  /** Bytes of content (0 for directories and links), counted, not declared. */
  size: number;
  /** Permission bits only (0o777 at most): setuid, setgid and sticky are refused. */
  mode: number;
  /** Symlinks: the target as written; hardlinks: the normalised path of the entry it links to. */
  linkTarget?: string;
}

/** Where an archive comes from: a file path, or a stream (a zip is spooled to a temporary file). */
export type ArchiveSource = string | Readable;

export type ArchiveFormat = "zip" | "tar" | "tar.gz";

/** One entry as a format reader sees it, before any check: every field is hostile. */
export interface RawEntry {
  name: string;
  /** The reader's kind: file, directory, symlink, link, character-device, block-device, fifo, socket, ... */
  kind: string;
  /** Full mode bits when the archive records them (type bits removed), else null. */
  mode: number | null;
  declaredSize: number;
  /** Zip: compressed size of this entry, for its own ratio check. */
  compressedSize?: number;
  /** Zip: the CRC-32 the archive claims for the content. */
  crc32?: number;
  /** Tar links: the link name from the header. Zip symlinks carry it as content instead. */
  linkName?: string;
  /** Content, exactly as stored; null when the entry has none. */
  body: AsyncIterable<Buffer> | null;
}
