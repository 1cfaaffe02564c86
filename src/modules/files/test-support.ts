// Shared by the files tests: multipart bodies for inject and sample files.
import sharp from 'sharp';

export function multipart(parts: Array<{ field: string; filename?: string; contentType?: string; body: Buffer | string }>) {
  const boundary = `----plinth${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.field}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.contentType ? `Content-Type: ${p.contentType}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export const fileUpload = (filename: string, body: Buffer | string, contentType = 'application/octet-stream') => multipart([{ field: 'file', filename, contentType, body }]);

export const pngImage = (width = 600, height = 400) => sharp({ create: { width, height, channels: 3, background: '#ff0000' } }).png().toBuffer();

/** Starts like a Windows executable: file-type says application/x-msdownload. */
export const exeBytes = () => Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(200, 1)]);
