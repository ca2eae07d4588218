// The zip's byte layout, checked against its central directory before anything is inflated.
// Zip has two copies of each entry's metadata: the central directory (what yauzl and we read) and
// the local headers in front of the data (what streaming extractors such as unzip-stream read).
// A hostile zip can make them disagree — a harmless name in the directory, "../evil" locally, or a
// whole entry in the byte stream that the directory never mentions — so what we checked would not
// be what a streaming client writes. Refused here: local headers that disagree with the directory
// (`header-mismatch`), entries whose bytes overlap (`overlapping-entries`, the non-recursive zip
// bomb), and unaccounted bytes between entries large enough to hold a local header (`hidden-data`).
import type { Entry, LocalFileHeader, ZipFile } from "yauzl";
import { ArchiveRule, corrupt, reject } from "./reject.js";

/** A local header is 30 bytes plus a name: a smaller gap cannot hide an entry. */
const LOCAL_HEADER_MIN = 30;
const DATA_DESCRIPTOR_FLAG = 0x8;
const ZIP64_SIZE = 0xffffffff;

interface Span {
  name: string;
  start: number;
  end: number;
}

export async function checkLayout(
  zip: ZipFile,
  entries: Entry[],
  directoryOffset: number,
  nameOf: (e: Entry) => string,
): Promise<void> {
  const spans: Span[] = [];
  const locals: LocalFileHeader[] = [];
  for (const e of entries) {
    const name = nameOf(e);
    const local = await new Promise<LocalFileHeader>((resolve, fail) =>
      zip.readLocalFileHeader(e, {}, (err, h) => (err ? fail(corrupt(err, name)) : resolve(h))),
    );
    locals.push(local);
    spans.push({ name, start: e.relativeOffsetOfLocalHeader, end: local.fileDataStart + e.compressedSize });
  }
  checkSpans(spans, directoryOffset);
  entries.forEach((e, i) => checkAgrees(spans[i]!.name, e, locals[i]!));
}

function checkSpans(unsorted: Span[], directoryOffset: number): void {
  const spans = [...unsorted].sort((a, b) => a.start - b.start);
  let previousEnd = 0;
  let previousName = "";
  for (const span of spans) {
    if (span.start < previousEnd) {
      reject(
        span.name,
        ArchiveRule.OVERLAPPING_ENTRIES,
        `its data overlaps entry ${JSON.stringify(previousName.slice(0, 80))}`,
      );
    }
    checkGap(span.name, span.start - previousEnd);
    previousEnd = span.end;
    previousName = span.name;
  }
  if (directoryOffset < previousEnd) {
    reject(previousName, ArchiveRule.OVERLAPPING_ENTRIES, "its data overlaps the zip's central directory");
  }
  checkGap("", directoryOffset - previousEnd);
}

function checkGap(name: string, gap: number): void {
  if (gap >= LOCAL_HEADER_MIN) {
    reject(name, ArchiveRule.HIDDEN_DATA, `${gap} bytes before it are not part of any entry the zip lists`);
  }
}

function checkAgrees(name: string, e: Entry, local: LocalFileHeader): void {
  const differs = (what: string): never =>
    reject(name, ArchiveRule.HEADER_MISMATCH, `its local header gives another ${what}`);
  if (!local.fileName.equals(e.fileNameRaw)) differs("name");
  if (local.compressionMethod !== e.compressionMethod) differs("compression method");
  if ((local.generalPurposeBitFlag & DATA_DESCRIPTOR_FLAG) !== 0) return; // sizes and CRC follow the data
  if (local.crc32 !== e.crc32) differs("CRC-32");
  if (local.compressedSize !== ZIP64_SIZE && local.compressedSize !== e.compressedSize)
    differs("compressed size");
  if (local.uncompressedSize !== ZIP64_SIZE && local.uncompressedSize !== e.uncompressedSize) differs("size");
}
