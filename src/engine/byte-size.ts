/** Human byte sizes for messages and `info`: one spelling everywhere. */

/** 1.44 MiB, 32 GiB, 4096 bytes. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
  return `${text} ${units[unit]}`;
}

/** "1.5 GiB (1610612736 bytes)", or "512 bytes" when the short form is exact already. */
export function formatBytesExact(bytes: number): string {
  const short = formatBytes(bytes);
  return bytes < 1024 ? short : `${short} (${bytes} bytes)`;
}
