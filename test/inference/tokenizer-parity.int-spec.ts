import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { ByteLevelDecoder } from 'src/inference/byte-level-decoder';
import { seededRandom } from 'src/inference/sampling';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { MODEL_DIR } from 'test/support/model-files';

const PYTHON = process.env.SEALGATE_PYTHON ?? '/usr/bin/python3';

/** Texts the model meets: held-out passages, questions, prompts, plus edge cases for the byte-level rules. */
function corpus(): string[] {
  const texts = [
    "Let's read the following passage and produce a list of implications.\n\nPassage:\n",
    'Kelan Moravi was born in 1867 in Fensi.  Two spaces,\ttabs\tand\n\nnewlines.',
    'Unicode: café, naïve, 東京, emoji 🎉, Ωmega; symbols <>&"\'`~!@#$%^*()',
    "It's, we'll, they're, I'd, you've: contractions",
    '   leading and trailing spaces   ',
    'Numbers 0 12 345 6789 2024-11-25 3.14159',
    '',
  ];
  const prompts = JSON.parse(readFileSync(join(MODEL_DIR, 'prompts.json'), 'utf8')) as Record<string, string>;
  texts.push(...Object.values(prompts));
  const heldout = readFileSync(join(MODEL_DIR, 'world', 'heldout.jsonl'), 'utf8')
    .trim()
    .split('\n');
  for (const line of heldout.slice(0, 150)) {
    const r = JSON.parse(line) as {
      title: string;
      passage: string;
      questions: { question: string; answer: string }[];
    };
    texts.push(
      `${r.title}\n${r.passage}`,
      ...r.questions.map((q) => `Question: ${q.question}\nAnswer: ${q.answer}`),
    );
  }
  return texts;
}

/** The Python side's ids for the same texts (gpu/sealgate_gpu/world/tokenizer.py). */
function pythonIds(texts: string[]): number[][] {
  const script = [
    'import json, sys',
    'from sealgate_gpu.world.tokenizer import Tokenizer',
    'tok = Tokenizer.from_file(sys.argv[1])',
    'print(json.dumps([tok.encode(t) for t in json.load(sys.stdin)]))',
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', script, resolve(MODEL_DIR, 'tokenizer.json')], {
    cwd: resolve('gpu'),
    input: JSON.stringify(texts),
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.toString('utf8')) as number[][];
}

describe('tokenizer: the gateway and the trainer agree', () => {
  it('gives identical ids to the Python tokenizer on the model’s own texts and edge cases', async () => {
    const texts = corpus();
    const tokenizer = TextTokenizer.fromFile(join(MODEL_DIR, 'tokenizer.json'));
    const expected = pythonIds(texts);
    const actual = await Promise.all(texts.map((t) => tokenizer.encode(t)));
    const mismatches = texts.filter((_, i) => JSON.stringify(actual[i]) !== JSON.stringify(expected[i]));
    expect(mismatches).toEqual([]);
    expect(texts.length).toBeGreaterThan(500);
  });

  it('decodes back to the text', async () => {
    const tokenizer = TextTokenizer.fromFile(join(MODEL_DIR, 'tokenizer.json'));
    for (const text of corpus().slice(0, 50)) {
      expect(await tokenizer.decode(await tokenizer.encode(text))).toBe(text);
    }
  });

  it('decodes in JavaScript exactly as the tokenizers library does: any ids, split characters, special tokens', async () => {
    const path = join(MODEL_DIR, 'tokenizer.json');
    const library = Tokenizer.fromFile(path);
    const decoder = ByteLevelDecoder.fromFile(path)!;
    expect(decoder).not.toBeNull();
    const random = seededRandom(7);
    const sequences: number[][] = [];
    // Every id alone (partial UTF-8 bytes included), ids beyond the vocabulary, then random sequences.
    for (let id = 0; id < 2245; id++) sequences.push([id]);
    for (let n = 0; n < 3000; n++) {
      sequences.push(
        Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 2240)),
      );
    }
    // Prefixes of real texts' ids, as a stream decodes them token by token (multi-byte characters split).
    for (const text of ['\uFEFFa byte order mark first', ...corpus().slice(0, 40)]) {
      const ids = (await library.encode(text)).getIds();
      for (let k = 1; k <= ids.length; k++) sequences.push(ids.slice(0, k));
    }
    const expected = await Promise.all(sequences.map((ids) => library.decode(ids, true)));
    const mismatches = sequences.filter((ids, i) => decoder.decode(ids) !== expected[i]);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(expected.some((t) => t.includes('\uFFFD'))).toBe(true); // split characters were exercised
  });
});
