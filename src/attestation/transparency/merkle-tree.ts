import { sha256Bytes } from 'src/common/sha256';
import { TransparencyError, TransparencyErrorCode } from 'src/attestation/transparency/transparency.errors';

/**
 * RFC 6962 Merkle tree hashing (section 2.1; RFC 9162 section 2.1), over an array of leaf hashes that the caller
 * keeps. Each operation recomputes the subtrees it needs: O(n) per call, no state.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
const HASH_BYTES = 32;

/** MTH({}): the hash of an empty tree, SHA-256 of the empty string. */
export const EMPTY_TREE_ROOT = sha256Bytes(Buffer.alloc(0));

/** SHA-256(0x00 || data). */
export const leafHash = (data: Buffer): Buffer => sha256Bytes(Buffer.concat([LEAF_PREFIX, data]));

/** SHA-256(0x01 || left || right). */
export const nodeHash = (left: Buffer, right: Buffer): Buffer =>
  sha256Bytes(Buffer.concat([NODE_PREFIX, left, right]));

/** MTH of the first `treeSize` leaves (all by default). */
export function rootHash(leafHashes: readonly Buffer[], treeSize = leafHashes.length): Buffer {
  checkTreeSize(leafHashes, treeSize);
  return treeSize === 0 ? Buffer.from(EMPTY_TREE_ROOT) : subtreeRoot(leafHashes, 0, treeSize);
}

/** PATH(m, D[n]) of RFC 6962 section 2.1.1: the audit path of leaf `index` in the tree of `treeSize` leaves. */
export function inclusionProof(
  leafHashes: readonly Buffer[],
  index: number,
  treeSize = leafHashes.length,
): Buffer[] {
  checkTreeSize(leafHashes, treeSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw invalidRequest(`leaf ${index} is not in a tree of ${treeSize} leaves`);
  }
  const path: Buffer[] = [];
  const collect = (m: number, start: number, end: number): void => {
    if (end - start <= 1) return;
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      collect(m, start, start + k);
      path.push(subtreeRoot(leafHashes, start + k, end));
    } else {
      collect(m - k, start + k, end);
      path.push(subtreeRoot(leafHashes, start, start + k));
    }
  };
  collect(index, 0, treeSize);
  return path;
}

/** RFC 9162 section 2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `treeSize` leaves with `root`. */
export function verifyInclusion(
  leaf: Buffer,
  index: number,
  treeSize: number,
  proof: readonly Buffer[],
  root: Buffer,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    return false;
  }
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && r.equals(root);
}

/** PROOF(m, D[n]) of RFC 6962 section 2.1.2: shows the tree of `oldSize` leaves is a prefix of `newSize`. */
export function consistencyProof(
  leafHashes: readonly Buffer[],
  oldSize: number,
  newSize = leafHashes.length,
): Buffer[] {
  checkTreeSize(leafHashes, newSize);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
    throw invalidRequest(`a tree of ${oldSize} leaves cannot be a prefix of one of ${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  const proof: Buffer[] = [];
  // SUBPROOF(m, D[start:end], wholeOldTree); `wholeOldTree` is true while D[start:end] starts the old tree.
  const subproof = (m: number, start: number, end: number, wholeOldTree: boolean): void => {
    if (m === end - start) {
      if (!wholeOldTree) proof.push(subtreeRoot(leafHashes, start, end));
      return;
    }
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      subproof(m, start, start + k, wholeOldTree);
      proof.push(subtreeRoot(leafHashes, start + k, end));
    } else {
      subproof(m - k, start + k, end, false);
      proof.push(subtreeRoot(leafHashes, start, start + k));
    }
  };
  subproof(oldSize, 0, newSize, true);
  return proof;
}

/** RFC 9162 section 2.1.4.2: whether `proof` shows the tree with `oldRoot` is a prefix of the one with `newRoot`. */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) {
    return false;
  }
  if (!proof.every(isHash)) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  // The empty tree is a prefix of every tree; there is nothing to prove.
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0 || !isHash(oldRoot) || !isHash(newRoot)) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
  let fr = path[0];
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return fr.equals(oldRoot) && sr.equals(newRoot) && sn === 0;
}

/** MTH(D[start:end]) for a non-empty range. */
function subtreeRoot(leafHashes: readonly Buffer[], start: number, end: number): Buffer {
  if (end - start === 1) return leafHashes[start];
  const k = largestPowerOfTwoBelow(end - start);
  return nodeHash(subtreeRoot(leafHashes, start, start + k), subtreeRoot(leafHashes, start + k, end));
}

/** The largest power of two smaller than n (n >= 2): RFC 6962's split point. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkTreeSize(leafHashes: readonly Buffer[], treeSize: number): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > leafHashes.length) {
    throw invalidRequest(`tree size ${treeSize} is not between 0 and the log's ${leafHashes.length} leaves`);
  }
  const bad = leafHashes.findIndex((hash, index) => index < treeSize && !isHash(hash));
  if (bad >= 0) throw invalidRequest(`leaf hash ${bad} is not ${HASH_BYTES} bytes`);
}

// Arithmetic instead of bit operators, which would truncate sizes beyond 2^31.
const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);
function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
const isHash = (value: Buffer): boolean => Buffer.isBuffer(value) && value.length === HASH_BYTES;

const invalidRequest = (message: string): TransparencyError =>
  new TransparencyError(TransparencyErrorCode.INVALID_PROOF_REQUEST, message);
