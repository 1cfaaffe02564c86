// Content sniffing: the type comes from the bytes (file-type's magic
// numbers), never from the client's header. Text has no magic number, so
// undetected bytes that decode as UTF-8 without NULs count as text/plain.
import { fileTypeFromBuffer } from 'file-type';

export const SNIFF_BYTES = 4100;

export async function sniffType(head: Buffer): Promise<string | null> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime;
  if (head.length === 0 || head.includes(0)) return null;
  // A multi-byte character may be cut at the end of the sample: ignore the last 3 bytes.
  const sample = head.length >= SNIFF_BYTES ? head.subarray(0, head.length - 3) : head;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return 'text/plain';
  } catch {
    return null;
  }
}
