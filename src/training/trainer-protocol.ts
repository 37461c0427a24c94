import { z } from 'zod';
import { LORA_MODULES } from 'src/inference/model-spec';

/**
 * The JSON-lines protocol of the Python trainer (gpu/sealgate_gpu/trainer_server.py, protocol.py; described in
 * gpu/README.md). Field names are the wire names. The request schemas check shapes and JSON types only (finite
 * numbers, integers where Python wants `int`); ranges (lr > 0, epochs >= 1, ...) are the trainer's to judge.
 */

export const TRAINER_PROTOCOL_VERSION = 1;

/** A request id: a string or an integer, unique per process. */
export const requestIdSchema = z.union([z.string(), z.number().int()]);
export type RequestId = z.infer<typeof requestIdSchema>;

// ----- requests (stdin) -------------------------------------------------------------------------------------

/** The projections SEAL's inner update adapts: every linear layer of the model (the ones an adapter may name). */
export const LORA_TARGET_MODULES = LORA_MODULES;

export const tokenSequenceSchema = z
  .object({
    input_ids: z.array(z.number().int()),
    /** 1 makes token t a target predicted from tokens < t; loss_mask[0] is ignored. */
    loss_mask: z.array(z.union([z.literal(0), z.literal(1)])),
  })
  .strict();
export type TokenSequence = z.infer<typeof tokenSequenceSchema>;

/** `alpha`/`lora_alpha` and `dropout`/`lora_dropout` are aliases on the wire; the short name wins. */
export const loraSpecSchema = z
  .object({
    r: z.number().int().optional(),
    alpha: z.number().finite().optional(),
    lora_alpha: z.number().finite().optional(),
    dropout: z.number().finite().optional(),
    lora_dropout: z.number().finite().optional(),
    target_modules: z.array(z.enum(LORA_TARGET_MODULES)).optional(),
    use_rslora: z.boolean().optional(),
    base_model_name_or_path: z.string().optional(),
  })
  .strict();
export type LoraSpec = z.infer<typeof loraSpecSchema>;

/** A train request without its envelope: what a caller of the client fills in. */
export const trainInputSchema = z
  .object({
    base_model: z.string(),
    /** The frozen stack, bottom first; the new adapter is trained on top of it. */
    adapters: z.array(z.string()).optional(),
    /** Give exactly one of `sequences` and `sequences_path` (a JSON-lines file of sequences). */
    sequences: z.array(tokenSequenceSchema).optional(),
    sequences_path: z.string().optional(),
    lora: loraSpecSchema.optional(),
    lr: z.number().finite().optional(),
    epochs: z.number().int().optional(),
    batch_size: z.number().int().optional(),
    seed: z.number().int().optional(),
    weight_decay: z.number().finite().optional(),
    /** 0: no clipping. */
    max_grad_norm: z.number().finite().optional(),
    warmup_steps: z.number().int().optional(),
    shuffle: z.boolean().optional(),
    /** false: an output_dir that already holds an adapter is refused. */
    overwrite: z.boolean().optional(),
    dtype: z.enum(['auto', 'float32', 'bfloat16', 'float16']).optional(),
    output_dir: z.string(),
  })
  .strict();
export type TrainInput = z.infer<typeof trainInputSchema>;

export const helloRequestSchema = z.object({ id: requestIdSchema, type: z.literal('hello') }).strict();
export const trainRequestSchema = trainInputSchema.extend({ id: requestIdSchema, type: z.literal('train') });
export const cancelRequestSchema = z
  .object({ id: requestIdSchema, type: z.literal('cancel'), target: requestIdSchema })
  .strict();
export const shutdownRequestSchema = z.object({ id: requestIdSchema, type: z.literal('shutdown') }).strict();

export const trainerRequestSchema = z.discriminatedUnion('type', [
  helloRequestSchema,
  trainRequestSchema,
  cancelRequestSchema,
  shutdownRequestSchema,
]);
export type HelloRequest = z.infer<typeof helloRequestSchema>;
export type TrainRequest = z.infer<typeof trainRequestSchema>;
export type CancelRequest = z.infer<typeof cancelRequestSchema>;
export type ShutdownRequest = z.infer<typeof shutdownRequestSchema>;
export type TrainerRequest = z.infer<typeof trainerRequestSchema>;

// ----- messages (stdout) ------------------------------------------------------------------------------------

/** The payload of the hello answer. `device` is torch's name for it: "cpu", "cuda" or "cuda:N". */
export const trainerInfoSchema = z.object({
  protocol: z.number().int(),
  pid: z.number().int(),
  device: z.string(),
  device_name: z.string(),
  torch: z.string(),
  threads: z.number().int(),
  cuda: z.boolean(),
  cuda_memory_bytes: z.number().int().optional(),
});
export type TrainerInfo = z.infer<typeof trainerInfoSchema>;

/** The payload of a train's terminal line. */
export const trainResultSchema = z.object({
  adapter_dir: z.string(),
  /** One loss per optimizer step. */
  loss_curve: z.array(z.number()),
  steps: z.number().int(),
  device: z.string(),
  dtype: z.string(),
  /** The training loop only, not model loading. */
  seconds: z.number(),
  /** Non-padding tokens processed over all epochs. */
  tokens: z.number().int(),
  loss_tokens: z.number().int(),
  /** null when the loop took no measurable time. */
  tokens_per_second: z.number().nullable(),
});
export type TrainResult = z.infer<typeof trainResultSchema>;

export const trainProgressSchema = z.object({
  step: z.number().int(),
  total: z.number().int(),
  loss: z.number(),
});
export type TrainProgress = z.infer<typeof trainProgressSchema>;

const done = { id: requestIdSchema, event: z.literal('done') };

export const helloDoneSchema = trainerInfoSchema.extend({ ...done, type: z.literal('hello') });
export const trainDoneSchema = trainResultSchema.extend({ ...done, type: z.literal('train') });
export const cancelDoneSchema = z.object({ ...done, type: z.literal('cancel'), target: requestIdSchema });
export const shutdownDoneSchema = z.object({ ...done, type: z.literal('shutdown') });
export const progressEventSchema = trainProgressSchema.extend({
  id: requestIdSchema,
  event: z.literal('progress'),
});
/** `id` is null when the trainer could not read the request line at all. */
export const errorEventSchema = z.object({
  id: requestIdSchema.nullable(),
  event: z.literal('error'),
  /** One of TRAINER_ERROR_CODES; kept open so that a newer trainer's code is not a protocol failure. */
  code: z.string(),
  message: z.string(),
});

export const doneMessageSchema = z.discriminatedUnion('type', [
  helloDoneSchema,
  trainDoneSchema,
  cancelDoneSchema,
  shutdownDoneSchema,
]);
export const trainerMessageSchema = z.union([doneMessageSchema, progressEventSchema, errorEventSchema]);
export type HelloDone = z.infer<typeof helloDoneSchema>;
export type TrainDone = z.infer<typeof trainDoneSchema>;
export type CancelDone = z.infer<typeof cancelDoneSchema>;
export type ShutdownDone = z.infer<typeof shutdownDoneSchema>;
export type DoneMessage = z.infer<typeof doneMessageSchema>;
export type ProgressEvent = z.infer<typeof progressEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
export type TrainerMessage = z.infer<typeof trainerMessageSchema>;

/** The codes the trainer answers with (gpu/README.md, "Error codes"). */
export const TRAINER_ERROR_CODES = [
  'BAD_REQUEST',
  'NOT_FOUND',
  'BAD_MODEL',
  'BAD_ADAPTER',
  'CANCELLED',
  'DIVERGED',
  'OUT_OF_MEMORY',
  'INTERNAL',
] as const;
