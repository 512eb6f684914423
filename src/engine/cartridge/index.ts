/**
 * The Cartridge format's public surface (docs/cartridge-format.md). Commands and the
 * format registry import from here only. Not registered yet: the Cartridge Volume that
 * plugs into src/engine/formats.ts comes next.
 */
export { hasCartridgeMagic, Compression, type CompressionId, type Superblock } from './superblock.js';
export { ChecksumAlgorithm, type ChecksumAlgorithmId } from './checksum.js';
export { CartridgeStore, type StoreEntry, type StoreOptions } from './store.js';
export { type CartridgeFile, type CreateOptions, type OpenOptions, createCartridgeFile, openCartridgeFile, closeCartridgeFile } from './cartridge-file.js';
export { checkPageOwnership, type OwnershipReport } from './ownership.js';
export { rewrapMasterKey, DEFAULT_SCRYPT, type ScryptParams } from './key-hierarchy.js';
export { ArcCache, type ArcStats } from './arc-cache.js';
export { compactCartridge, type CompactOptions, type CompactReport } from './compact.js';
export { sealCartridge, verifySeal, ed25519PrivateKey, ed25519PublicKey, type SealReport, type SealCheck } from './seal.js';
export { checkCartridge, CartridgeFsckCode, type CartridgeCheck, type CartridgeFinding, type CartridgeCheckOptions } from './fsck-check.js';
