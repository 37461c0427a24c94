import { parentPort, workerData } from 'node:worker_threads';
import { InferenceEngine } from 'src/inference/inference-engine';
import { FromWorker, toWire, ToWorker, WorkerData } from 'src/inference/inference-protocol';

/**
 * The inference worker thread: onnxruntime-node runs a forward pass synchronously on its calling thread, so
 * the model lives here and the main thread stays free for HTTP, authentication and the database.
 */
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);
const cancels = new Map<number, AbortController>();

async function main(): Promise<void> {
  let engine: InferenceEngine;
  try {
    engine = await InferenceEngine.create((workerData as WorkerData).options, (step) =>
      post({ type: 'step', ...step, load: engine.load() }),
    );
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
            cancels.delete(message.id);
            // After the last step of a batch no step reports again: say that it emptied.
            setImmediate(() => post({ type: 'load', load: engine.load() }));
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
        void engine.close().finally(() => post({ type: 'closed' }));
        return;
    }
  });
  post({ type: 'ready' });
}

void main();
