import { parentPort, workerData } from 'node:worker_threads';
import { InferenceEngine } from 'src/inference/inference-engine';
import {
  FromWorker,
  STEP_REPORT_MS,
  StepReport,
  toWire,
  ToWorker,
  WorkerData,
  writeLoad,
} from 'src/inference/inference-protocol';

/**
 * The inference worker thread: onnxruntime-node runs a forward pass synchronously on its calling thread, so
 * the model lives here and the main thread stays free for HTTP, authentication and the database.
 */
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);
const cancels = new Map<number, AbortController>();
const data = workerData as WorkerData;
const loadCells = new Int32Array(data.load);

/** Steps not reported yet, and the timer that will report them. */
let steps: StepReport[] = [];
let reportTimer: NodeJS.Timeout | null = null;

function reportSteps(): void {
  if (reportTimer) clearTimeout(reportTimer);
  reportTimer = null;
  if (steps.length === 0) return;
  post({ type: 'steps', steps });
  steps = [];
}

async function main(): Promise<void> {
  let engine: InferenceEngine;
  try {
    engine = await InferenceEngine.create(data.options, (step) => {
      writeLoad(loadCells, engine.load());
      steps.push(step);
      reportTimer ??= setTimeout(reportSteps, STEP_REPORT_MS);
    });
  } catch (err) {
    post({ type: 'failed', error: toWire(err) });
    return;
  }
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'generate': {
        const controller = new AbortController();
        cancels.set(message.id, controller);
        const onText = message.stream
          ? (index: number, delta: string) => post({ type: 'text', id: message.id, index, delta })
          : undefined;
        engine
          .generate(message.rows, onText, controller.signal)
          .then(
            (results) => post({ type: 'generated', id: message.id, results }),
            (err: unknown) => post({ type: 'error', id: message.id, error: toWire(err) }),
          )
          .finally(() => {
            // Its steps right after its answer (the answer goes out first, the metrics wait no longer).
            reportSteps();
            cancels.delete(message.id);
            // After the last step of a batch no step writes the load again: record that it emptied.
            setImmediate(() => writeLoad(loadCells, engine.load()));
          });
        return;
      }
      case 'cancel':
        cancels.get(message.id)?.abort();
        return;
      case 'score':
        engine.score(message.texts, message.adapterFolders).then(
          (results) => post({ type: 'scored', id: message.id, results }),
          (err: unknown) => post({ type: 'error', id: message.id, error: toWire(err) }),
        );
        return;
      case 'close':
        void engine.close().finally(() => {
          reportSteps();
          post({ type: 'closed' });
        });
        return;
    }
  });
  post({ type: 'ready' });
}

void main();
