/**
 * A minimal reader of zip archives as `torch.save` writes them (stored entries, ZIP64 when large): the central
 * directory gives each entry's name, method, sizes and local-header offset; stored entries are returned as views of
 * the file's bytes (no copy), deflated ones are inflated with node:zlib. Encrypted or multi-disk archives are refused.
 */
import { inflateRawSync } from "node:zlib";

/** One file inside the archive. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

/** A zip archive held in memory. */
export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.entries = ReadCentralDirectory(bytes, source);
  }

  /** The entry's bytes; throws if it is missing or malformed. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`${this.source}: zip entry "${name}" missing`);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const at = entry.localHeaderOffset;
    if (at + 30 > this.bytes.length || view.getUint32(at, true) !== 0x04034b50) throw new Error(`${this.source}: zip entry "${name}": bad local header`);
    const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) throw new Error(`${this.source}: zip entry "${name}" is truncated`);
    const data = this.bytes.subarray(start, end);
    if (entry.method === 0) return data;
    if (entry.method === 8) {
      // Bounded by the size the directory declares: a crafted entry cannot inflate without limit.
      const inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.size) });
      if (inflated.length !== entry.size) throw new Error(`${this.source}: zip entry "${name}" inflates to ${inflated.length} bytes, not ${entry.size}`);
      return inflated;
    }
    throw new Error(`${this.source}: zip entry "${name}" uses compression method ${entry.method}`);
  }
}

function ReadCentralDirectory(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const fail = (message: string): never => {
    throw new Error(`${source}: not a readable zip archive (${message})`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: the last signature within the final 64 KiB + 22 bytes (comment length limit).
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("no end-of-central-directory record");
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) fail("multi-disk archive");
  let count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  // ZIP64: the locator sits just before the EOCD and points at the ZIP64 EOCD record.
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === 0x07064b50) {
    const record = Number(view.getBigUint64(eocd - 20 + 8, true));
    if (record + 56 > bytes.length || view.getUint32(record, true) !== 0x06064b50) fail("bad ZIP64 record");
    count = Number(view.getBigUint64(record + 32, true));
    offset = Number(view.getBigUint64(record + 48, true));
  }
  const entries = new Map<string, ZipEntry>();
  let at = offset;
  const decoder = new TextDecoder("utf-8");
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) fail("bad central directory");
    const flags = view.getUint16(at + 8, true);
    if (flags & 1) fail("encrypted entry");
    const method = view.getUint16(at + 10, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localHeaderOffset = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // ZIP64 extra field (id 1): the 64-bit values of the fields saturated at 0xffffffff, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 1) {
        let p = extra + 4;
        const next = (): number => {
          const value = Number(view.getBigUint64(p, true));
          p += 8;
          return value;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      extra += 4 + length;
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    at = extraEnd + commentLength;
  }
  return entries;
}
