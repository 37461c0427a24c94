import {
  consistencyProof,
  EMPTY_TREE_ROOT,
  inclusionProof,
  leafHash,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from 'src/attestation/transparency/merkle-tree';
import { TransparencyError } from 'src/attestation/transparency/transparency.errors';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

// RFC 6962 reference tree, as published with transparency-dev/merkle (proof/verify_test.go): eight leaves and
// the root at every size 1..8.
const LEAF_DATA = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// Leaf indexes are 0-based here (the Go vectors count from 1).
const INCLUSION_VECTORS = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CONSISTENCY_VECTORS = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const REFERENCE_LEAVES = LEAF_DATA.map(leafHash);
const SOME_HASH = hex('abacaba000000000000000000000000000000000000000000060061e00123456');
const LEAVES_20 = Array.from({ length: 20 }, (_, i) => leafHash(Buffer.from(`lineage event ${i}`)));

const flipBit = (proof: Buffer[], at: number): Buffer[] =>
  proof.map((hash, i) => (i === at ? Buffer.from(hash.map((byte, j) => (j === 0 ? byte ^ 8 : byte))) : hash));

describe('RFC 6962 hashing', () => {
  it('has the empty-tree root SHA-256("") and the reference root at every size 1..8', () => {
    expect(rootHash([]).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(EMPTY_TREE_ROOT.equals(rootHash([]))).toBe(true);
    ROOTS.forEach((root, i) => expect(rootHash(REFERENCE_LEAVES, i + 1).toString('hex')).toBe(root));
  });

  it('prefixes leaves with 0x00 and nodes with 0x01, so a leaf cannot pass for a node', () => {
    const [a, b] = REFERENCE_LEAVES as [Buffer, Buffer];
    expect(nodeHash(a, b).toString('hex')).toBe(ROOTS[1]);
    expect(leafHash(Buffer.concat([a, b])).equals(nodeHash(a, b))).toBe(false);
  });

  it('splits at the largest power of two below n, not at the midpoint', () => {
    const [a, b, c] = REFERENCE_LEAVES as [Buffer, Buffer, Buffer];
    expect(rootHash([a, b, c]).equals(nodeHash(nodeHash(a, b), c))).toBe(true);
  });
});

describe('inclusion proofs', () => {
  it.each(INCLUSION_VECTORS)(
    'generates and verifies the reference audit path of leaf $index in size $size',
    (v) => {
      const proof = inclusionProof(REFERENCE_LEAVES, v.index, v.size);
      expect(proof.map((hash) => hash.toString('hex'))).toEqual(v.proof);
      const root = hex(ROOTS[v.size - 1] ?? '');
      expect(verifyInclusion(REFERENCE_LEAVES[v.index], v.index, v.size, v.proof.map(hex), root)).toBe(true);
    },
  );

  it('verifies every leaf of every tree of 1..20 leaves', () => {
    for (let size = 1; size <= 20; size++) {
      const root = rootHash(LEAVES_20, size);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(LEAVES_20, index, size);
        expect(verifyInclusion(LEAVES_20[index], index, size, proof, root)).toBe(true);
      }
    }
  });

  it('rejects every tampered proof, index, size, leaf or root, for every leaf of trees of 2..20 leaves', () => {
    for (let size = 2; size <= 20; size++) {
      const root = rootHash(LEAVES_20, size);
      for (let index = 0; index < size; index++) {
        const leaf = LEAVES_20[index];
        const proof = inclusionProof(LEAVES_20, index, size);
        const tampered: [Buffer, number, number, Buffer[], Buffer][] = [
          [leaf, index - 1, size, proof, root],
          [leaf, index + 1, size, proof, root],
          [leaf, index ^ 2, size, proof, root],
          [leaf, index, size * 2, proof, root],
          [leaf, index, Math.floor(size / 2), proof, root],
          [LEAVES_20[(index + 1) % size], index, size, proof, root],
          [leaf, index, size, proof, EMPTY_TREE_ROOT],
          [leaf, index, size, proof, SOME_HASH],
          [leaf, index, size, [...proof, root], root],
          [leaf, index, size, [root, ...proof], root],
          [leaf, index, size, proof.slice(0, -1), root],
          [leaf, index, size, [SOME_HASH, ...proof.slice(1)], root],
          ...proof.map((_, at): [Buffer, number, number, Buffer[], Buffer] => [
            leaf,
            index,
            size,
            flipBit(proof, at),
            root,
          ]),
        ];
        for (const args of tampered) expect(verifyInclusion(...args)).toBe(false);
      }
    }
  });

  it('refuses to prove a leaf the tree does not have', () => {
    expect(() => inclusionProof(LEAVES_20, 5, 5)).toThrow(TransparencyError);
    expect(() => inclusionProof(LEAVES_20, -1)).toThrow('leaf -1 is not in a tree of 20 leaves');
    expect(() => inclusionProof(LEAVES_20, 0, 21)).toThrow('tree size 21');
    expect(verifyInclusion(SOME_HASH, 0, 0, [], EMPTY_TREE_ROOT)).toBe(false);
  });
});

describe('consistency proofs', () => {
  it.each(CONSISTENCY_VECTORS)(
    'generates and verifies the reference proof from $oldSize to $newSize',
    (v) => {
      expect(
        consistencyProof(REFERENCE_LEAVES, v.oldSize, v.newSize).map((hash) => hash.toString('hex')),
      ).toEqual(v.proof);
      const oldRoot = hex(ROOTS[v.oldSize - 1] ?? '');
      const newRoot = hex(ROOTS[v.newSize - 1] ?? '');
      expect(verifyConsistency(v.oldSize, v.newSize, oldRoot, newRoot, v.proof.map(hex))).toBe(true);
    },
  );

  it('verifies every pair of sizes m <= n <= 20', () => {
    for (let newSize = 0; newSize <= 20; newSize++) {
      const newRoot = rootHash(LEAVES_20, newSize);
      for (let oldSize = 0; oldSize <= newSize; oldSize++) {
        const proof = consistencyProof(LEAVES_20, oldSize, newSize);
        expect(verifyConsistency(oldSize, newSize, rootHash(LEAVES_20, oldSize), newRoot, proof)).toBe(true);
      }
    }
  });

  it('rejects every tampered proof, size or root for every pair 0 < m < n <= 20', () => {
    for (let newSize = 2; newSize <= 20; newSize++) {
      const newRoot = rootHash(LEAVES_20, newSize);
      for (let oldSize = 1; oldSize < newSize; oldSize++) {
        const oldRoot = rootHash(LEAVES_20, oldSize);
        const proof = consistencyProof(LEAVES_20, oldSize, newSize);
        const tampered: [number, number, Buffer, Buffer, Buffer[]][] = [
          [oldSize - 1, newSize, oldRoot, newRoot, proof],
          [oldSize + 1, newSize, oldRoot, newRoot, proof],
          [oldSize ^ 2, newSize, oldRoot, newRoot, proof],
          [oldSize, newSize * 2, oldRoot, newRoot, proof],
          [oldSize, Math.floor(newSize / 2), oldRoot, newRoot, proof],
          [oldSize, newSize, SOME_HASH, newRoot, proof],
          [oldSize, newSize, oldRoot, SOME_HASH, proof],
          [oldSize, newSize, newRoot, oldRoot, proof],
          [oldSize, newSize, oldRoot, newRoot, []],
          [oldSize, newSize, oldRoot, newRoot, [...proof, oldRoot]],
          [oldSize, newSize, oldRoot, newRoot, [...proof, newRoot]],
          [oldSize, newSize, oldRoot, newRoot, [oldRoot, ...proof]],
          [oldSize, newSize, oldRoot, newRoot, [newRoot, ...proof]],
          [oldSize, newSize, oldRoot, newRoot, [proof[0], ...proof]],
          [oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1)],
          ...proof.map((_, at): [number, number, Buffer, Buffer, Buffer[]] => [
            oldSize,
            newSize,
            oldRoot,
            newRoot,
            flipBit(proof, at),
          ]),
        ];
        for (const args of tampered) expect(verifyConsistency(...args)).toBe(false);
      }
    }
  });

  it('treats equal sizes and the empty tree as trivially consistent, with an empty proof only', () => {
    const root = rootHash(LEAVES_20, 7);
    expect(verifyConsistency(7, 7, root, root, [])).toBe(true);
    expect(verifyConsistency(7, 7, root, SOME_HASH, [])).toBe(false);
    expect(verifyConsistency(7, 7, root, root, [EMPTY_TREE_ROOT])).toBe(false);
    expect(verifyConsistency(0, 7, EMPTY_TREE_ROOT, root, [])).toBe(true);
    expect(verifyConsistency(0, 7, EMPTY_TREE_ROOT, root, [EMPTY_TREE_ROOT])).toBe(false);
    expect(verifyConsistency(8, 7, root, root, [])).toBe(false);
  });

  it('refuses to prove a shrinking tree', () => {
    expect(() => consistencyProof(LEAVES_20, 8, 7)).toThrow(
      'a tree of 8 leaves cannot be a prefix of one of 7',
    );
  });
});
