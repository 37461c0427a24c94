import { Resolver, Subscription } from '@nestjs/graphql';
import { CheckPolicy } from 'src/auth/auth.decorators';
import { Action, Subject } from 'src/auth/policy';
import { ReviewNotifications } from 'src/approvals/review-notifications';
import { SelfEditModel } from 'src/self-edits/self-edit.model';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

@Resolver()
export class ReviewNotificationsResolver {
  constructor(
    private readonly notifications: ReviewNotifications,
    private readonly edits: SelfEditsService,
  ) {}

  @Subscription(() => SelfEditModel, {
    description:
      'Each self-edit as it reaches AWAITING_APPROVAL, for reviewers (graphql-ws; API key in connection_init).',
    resolve: (edit: SelfEditModel) => edit,
  })
  @CheckPolicy(Action.approve, Subject.SelfEdit)
  pendingReviews(): AsyncGenerator<SelfEditModel> {
    return this.stream();
  }

  private async *stream(): AsyncGenerator<SelfEditModel> {
    const controller = new AbortController();
    try {
      for await (const id of this.notifications.pending(controller.signal)) {
        yield SelfEditModel.from(await this.edits.get(id));
      }
    } finally {
      controller.abort(); // the client went away: stop listening
    }
  }
}
