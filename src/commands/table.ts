/** The one plain-text table printer of the commands (bench, mft bench): columns sized to their widest cell. */

/** Lines of a table: `header` then `rows`, cells two spaces apart; columns for which `right(i)` is true are right-aligned. */
export function formatTable(header: string[], rows: string[][], right: (column: number) => boolean = () => false): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (right(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
