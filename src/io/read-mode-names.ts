/** The read-mode names, in a module with no imports so that option parsing stays cheap. */
export const READ_MODES = ['streaming', 'prefetch', 'pipelined', 'parallel', 'mmap', 'auto'] as const;
export type ReadMode = (typeof READ_MODES)[number];
