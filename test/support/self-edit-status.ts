import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { isTerminal, SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { TestApp } from 'test/support/test-app';

/** Polls until the edit reaches one of `statuses` (the pipeline runs in the background), or fails naming where it is. */
export async function waitForStatus(
  t: Pick<TestApp, 'get'>,
  id: string,
  statuses: SelfEditStatus[],
  timeoutMs = 60_000,
): Promise<SelfEditEntity> {
  const edits = t.get(SelfEditsService);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const edit = await edits.get(id);
    if (statuses.includes(edit.status)) return edit;
    // A terminal status will not change: no point waiting for the deadline.
    if (isTerminal(edit.status) || Date.now() > deadline) {
      throw new Error(`self-edit ${id} is ${edit.status} (${edit.statusReason}), not ${statuses.join('/')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
