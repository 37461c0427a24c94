import { registerEnumType } from '@nestjs/graphql';

/**
 * The prompt family that produced a self-edit, or `manual` when a person wrote it. `generator` is a ReST-EM
 * round's update of the self-edit generator: its content is the kept self-edits the generator was taught, and its
 * candidate is the round's adapter (not trained again by the pipeline); only a round proposes one.
 */
export enum SelfEditKind {
  implications = 'implications',
  rewrite = 'rewrite',
  self_qa = 'self_qa',
  structured = 'structured',
  manual = 'manual',
  generator = 'generator',
}
registerEnumType(SelfEditKind, { name: 'SelfEditKind' });

export enum SelfEditOrigin {
  GENERATED = 'GENERATED',
  HUMAN = 'HUMAN',
}
registerEnumType(SelfEditOrigin, { name: 'SelfEditOrigin' });

export enum LossOn {
  all = 'all',
  completion = 'completion',
}
registerEnumType(LossOn, {
  name: 'LossOn',
  description: 'Which tokens of a training sequence carry the loss.',
});

/** What a structured self-edit may ask of the inner update; bounds come from policy. */
export interface TrainingHyperparameters {
  learningRate?: number;
  epochs?: number;
  rank?: number;
  alpha?: number;
  lossOn?: LossOn;
}
