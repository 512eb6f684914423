/** `1 sector`, `2 sectors`: a count with its noun in the right number (`plural` for irregular ones). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
