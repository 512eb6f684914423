/** Volume listings as tables (ls -R --format): the public surface (re-exports only). */
export { createListingWriter, entryPath, LISTING_COLUMNS, LISTING_FORMATS, type ListingFormat, type ListingWriter } from './listing-writer.js';
