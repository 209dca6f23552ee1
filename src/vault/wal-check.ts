/**
 * Detects a damaged SQLite write-ahead log before SQLite reads it.
 *
 * SQLite replays WAL frames until the first frame whose salt or cumulative checksum is wrong and
 * silently ignores everything after it. A torn final write after a crash legitimately ends the log
 * that way; a damaged byte in the middle of the log would make SQLite drop later, acknowledged
 * commits without a word. So: if a frame fails and any later frame still chains correctly (from
 * the failed frame's stored checksum or from the checksum recomputed over it) and carries the
 * current salts, the log was damaged, not torn, and the vault must not open silently.
 *
 * When the `-shm` wal-index of the last process is still there (it is after a kill -9), its header
 * names the last committed frame (mxFrame); if fewer frames than that are intact, committed data
 * would vanish, and that is reported too. The wal-index header is used only when both of its
 * copies agree, its checksum holds and its salts match the log's.
 *
 * Format (sqlite.org/fileformat2.html#walformat): 32-byte header (magic, version, page size,
 * checkpoint seq, salt-1, salt-2, checksum-1, checksum-2), then frames of a 24-byte header (page
 * number, db size after commit, salt-1, salt-2, checksum-1, checksum-2) and one page.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** The verdict on a WAL file. */
export type WalVerdict =
  | { ok: true; frames: number; validFrames: number }
  | { ok: false; reason: string; frame: number };

function checksum(buf: Uint8Array, s0: number, s1: number, bigEndian: boolean): [number, number] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i + 8 <= buf.length; i += 8) {
    const x0 = v.getUint32(i, !bigEndian);
    const x1 = v.getUint32(i + 4, !bigEndian);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/** The last committed frame recorded by a consistent wal-index header, or null. */
export function committedFrames(shm: Uint8Array | undefined, wal: Uint8Array): number | null {
  if (!shm || shm.length < 96 || wal.length < WAL_HEADER) return null;
  const a = shm.subarray(0, 48);
  if (!Buffer.from(a).equals(shm.subarray(48, 96))) return null;
  if (a[12] !== 1) return null;
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const v = new DataView(a.buffer, a.byteOffset, 48);
  const [c0, c1] = checksum(a.subarray(0, 40), 0, 0, !le);
  if (c0 !== v.getUint32(40, le) || c1 !== v.getUint32(44, le)) return null;
  if (!Buffer.from(a.subarray(32, 40)).equals(wal.subarray(16, 24))) return null;
  return v.getUint32(16, le);
}

/** Checks a WAL image (and the wal-index, if present) held in memory; see the module comment. */
export function checkWal(wal: Uint8Array, shm?: Uint8Array): WalVerdict {
  const verdict = checkFrames(wal);
  if (!verdict.ok) return verdict;
  const committed = committedFrames(shm, wal);
  if (committed !== null && committed > verdict.validFrames) {
    return {
      ok: false,
      reason: `${committed} frames were committed but frame ${verdict.validFrames + 1} is damaged`,
      frame: verdict.validFrames + 1,
    };
  }
  return verdict;
}

function checkFrames(wal: Uint8Array): WalVerdict & { validFrames?: number } {
  if (wal.length === 0) return { ok: true, frames: 0, validFrames: 0 };
  // A torn header write: nothing was committed.
  if (wal.length < WAL_HEADER) return { ok: true, frames: 0, validFrames: 0 };
  const v = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const magic = v.getUint32(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return { ok: false, reason: 'bad WAL magic', frame: 0 };
  const bigEndian = (magic & 1) === 1;
  const pageSize = v.getUint32(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    return { ok: false, reason: 'bad WAL page size', frame: 0 };
  const frameSize = FRAME_HEADER + pageSize;
  const frames = Math.floor((wal.length - WAL_HEADER) / frameSize);
  const [h0, h1] = checksum(wal.subarray(0, 24), 0, 0, bigEndian);
  if (h0 !== v.getUint32(24) || h1 !== v.getUint32(28)) {
    // A header that fails its own checksum makes SQLite ignore every frame. That is only harmless
    // if no frame in the file chains from the header as written.
    return frames > 0
      ? { ok: false, reason: 'WAL header checksum mismatch with frames present', frame: 0 }
      : { ok: true, frames, validFrames: 0 };
  }
  const salt1 = v.getUint32(16);
  const salt2 = v.getUint32(20);
  const frameValid = (i: number, s0: number, s1: number): [number, number] | null => {
    const off = WAL_HEADER + i * frameSize;
    if (v.getUint32(off + 8) !== salt1 || v.getUint32(off + 12) !== salt2) return null;
    let [a, b] = checksum(wal.subarray(off, off + 8), s0, s1, bigEndian);
    [a, b] = checksum(wal.subarray(off + FRAME_HEADER, off + frameSize), a, b, bigEndian);
    return a === v.getUint32(off + 16) && b === v.getUint32(off + 20) ? [a, b] : null;
  };
  let s: [number, number] = [h0, h1];
  let i = 0;
  for (; i < frames; i++) {
    const next = frameValid(i, s[0], s[1]);
    if (!next) break;
    s = next;
  }
  const validFrames = i;
  if (i >= frames - 1) return { ok: true, frames, validFrames };
  // Frame i failed. Seeds for frame i+1: the checksum stored in frame i (if its content was hit)
  // and the checksum recomputed over frame i (if its stored checksum was hit).
  const off = WAL_HEADER + i * frameSize;
  let [r0, r1] = checksum(wal.subarray(off, off + 8), s[0], s[1], bigEndian);
  [r0, r1] = checksum(wal.subarray(off + FRAME_HEADER, off + frameSize), r0, r1, bigEndian);
  const seeds: [number, number][] = [
    [v.getUint32(off + 16), v.getUint32(off + 20)],
    [r0, r1],
  ];
  for (const [a, b] of seeds) {
    if (frameValid(i + 1, a, b)) {
      return { ok: false, reason: `frame ${i + 1} of ${frames} is damaged but later frames are intact`, frame: i + 1 };
    }
  }
  return { ok: true, frames, validFrames };
}

/**
 * Reads and checks the WAL file at `path` (absent or empty is fine) and its `-shm` beside it.
 * @throws the fs error for anything but a missing file.
 */
export function checkWalFile(path: string): WalVerdict {
  const wal = readIfExists(path);
  if (!wal) return { ok: true, frames: 0, validFrames: 0 };
  return checkWal(wal, readIfExists(path.replace(/-wal$/, '-shm')));
}

function readIfExists(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
