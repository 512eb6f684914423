/** The rollback journal that makes FAT write commands atomic: re-exports only. */
export { JOURNAL_SECTOR, RollbackJournal, heldJournalFor, holdJournal, journalOf, journalPathFor, journalSyncEnabled, setJournalSync } from './rollback-journal.js';
export { recoverHotJournal, recoveries, type Recovery, type RecoveryAction } from './recover-journal.js';
export { JOURNAL_SUFFIX, JournalFlag, decodeJournalHeader, encodeJournalHeader, encodeJournalRecord, decodeRecordHeader, recordIsIntact, HEADER_SIZE, RECORD_HEADER_SIZE } from './journal-format.js';
