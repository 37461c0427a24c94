import type { GateModel } from 'src/gates/gate-inputs';
import type { ServedRequest, ServedResult } from 'src/inference/model.service';
import type { ScoreResult } from 'src/inference/scoring';

/**
 * A scripted GateModel for unit tests: closed-book answers by question (or by "stack>question", the stack's
 * folders joined by commas), their probabilities, and the mean log-probability of a name's tokens after the
 * first (familiarity). Texts it was not told about score low.
 */
export class FakeGateModel implements GateModel {
  readonly generated: ServedRequest[] = [];

  constructor(
    private readonly script: {
      answers: Record<string, { answer: string; probability: number }>;
      familiarity?: Record<string, number>;
    },
  ) {}

  prompt(kind: string, fields: Record<string, string>): string {
    return `${kind}|${fields.question ?? fields.title ?? ''}|`;
  }

  generate(requests: ServedRequest[]): Promise<ServedResult[]> {
    this.generated.push(...requests);
    return Promise.resolve(
      requests.map((r) => {
        const question = r.prompt.split('|')[1];
        // an answer scripted for this adapter stack ("candidate>question") wins over the stack-free one
        const scripted =
          this.script.answers[`${r.adapterFolders.join(',')}>${question}`] ?? this.script.answers[question];
        const text = ` ${scripted?.answer ?? 'nothing'}`;
        return { text, tokenIds: [1, 2], promptTokens: 3, finishReason: 'stop' as const, adapterDigests: [] };
      }),
    );
  }

  score(texts: string[]): Promise<ScoreResult[]> {
    return Promise.resolve(
      texts.map((text) => {
        const result = (tokenLogProbs: number[]) => ({ tokenLogProbs, nextLogProbs: new Float32Array(4) });
        if (this.script.familiarity && text in this.script.familiarity) {
          return result([-3, this.script.familiarity[text]]);
        }
        const [, question, continuation] = text.split('|');
        if (continuation === undefined || continuation === '') return result([0]);
        const scripted = this.script.answers[question];
        const p = scripted && continuation.trim() === scripted.answer ? scripted.probability : 0.01;
        return result([0, Math.log(p)]);
      }),
    );
  }
}
