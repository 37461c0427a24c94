import { SetMetadata } from '@nestjs/common';
import { JobName } from 'src/queues/queue-names';

export const JOB_HANDLER_KEY = 'sealgate:job-handler';

/** Marks a provider method as the handler of one job; the worker finds it by discovery. */
export const JobHandler = (name: JobName) => SetMetadata(JOB_HANDLER_KEY, name);
