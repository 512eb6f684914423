/**
 * The parts of apache-arrow that diskkit uses, in one place. `npm run build`
 * (scripts/bundle-arrow.js) replaces this module's compiled file with one bundle
 * of exactly these names: the package is some 160 ES modules, and loading them
 * cost ~0.25 CPU s per Parquet run (a resolve, read and compile each) against
 * ~0.08 s for the bundle, taken from the index build it overlaps (on two cores,
 * the parse workers'). Every module imports Arrow from here, never from the
 * package, so that one copy of its classes is loaded (objects cross modules).
 */
export {
  Bool,
  Data,
  Dictionary,
  Field,
  Int32,
  Int64,
  List,
  makeData,
  makeVector,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  Uint32,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
