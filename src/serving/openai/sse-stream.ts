import type { Response } from 'express';

/**
 * Server-sent events as OpenAI streams them (`data: {json}\n\n`, then `data: [DONE]\n\n`). Headers go out
 * with the first event, so a request refused before it starts (a limit, a full queue) still gets a plain
 * HTTP error with its status code.
 */
export class SseStream {
  constructor(private readonly res: Response) {}

  send(event: unknown): void {
    if (this.res.writableEnded) return;
    if (!this.res.headersSent) {
      this.res.status(200);
      this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      this.res.setHeader('Cache-Control', 'no-cache');
      this.res.setHeader('Connection', 'keep-alive');
      this.res.setHeader('X-Accel-Buffering', 'no'); // proxies must not buffer a token stream
      this.res.flushHeaders();
    }
    this.res.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  done(): void {
    if (this.res.writableEnded) return;
    this.res.end('data: [DONE]\n\n');
  }
}

/** A signal that fires when the client goes away before the response is complete. */
export function abortOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
