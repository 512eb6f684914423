/**
 * What the live views need from a terminal, made safe: a width to lay out against.
 * A pty can report 0 columns (`script -qc … /dev/null`, some CI runners); laid out
 * against 0 columns, a view prints one character per line. Such a terminal is
 * taken to be 80 wide, as cli-progress and most tools assume.
 */
export const FALLBACK_COLUMNS = 80;

/** The stream's width, or 80 when it reports none (0 or undefined). */
export function usableColumns(stream: NodeJS.WriteStream): number {
  const columns = stream.columns;
  return Number.isInteger(columns) && columns > 0 ? columns : FALLBACK_COLUMNS;
}

/**
 * Makes `stream.columns` never read 0 for renderers that read it themselves (ink):
 * Node still stores the size it learns on each resize, and a real width wins.
 */
export function withUsableColumns(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (usableColumns(stream) === stream.columns) return stream;
  let reported = stream.columns;
  Object.defineProperty(stream, 'columns', {
    configurable: true,
    enumerable: true,
    get: () => (Number.isInteger(reported) && reported > 0 ? reported : FALLBACK_COLUMNS),
    set: (value: number) => {
      reported = value;
    },
  });
  return stream;
}
