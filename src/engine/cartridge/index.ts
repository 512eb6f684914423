/**
 * The Cartridge format's public surface (docs/cartridge-format.md). Commands import from
 * here only; the format registry imports the definition module, format.ts (registered in
 * src/engine/registered-formats.ts), which opens images as a CartridgeVolume.
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
export { CartridgeVolume, compressionId, compressionName } from './cartridge-volume.js';
export { cartridgeFormat } from './format.js';
export { acquireWriterLock } from './writer-lock.js';
