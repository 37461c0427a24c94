import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { Gate } from 'src/gates/gate';
import {
  evaluationGates,
  loadWorldProbes,
  modelScreeningGates,
  textScreeningGates,
} from 'src/gates/gate-catalog';
import { HyperparametersGate } from 'src/gates/policy/hyperparameters.gate';
import { ModelService } from 'src/inference/model.service';

/** Every gate this gateway can run, by name; channel policies choose which of them a channel requires. */
@Injectable()
export class GateRegistry {
  private readonly logger = new Logger(GateRegistry.name);
  readonly gates: readonly Gate<unknown>[];

  constructor(@Inject(APP_CONFIG) config: AppConfig, model: ModelService) {
    const textGates = [new HyperparametersGate(), ...textScreeningGates()] as Gate<unknown>[];
    let modelGates: Gate<unknown>[] = [];
    try {
      // The probes (canaries, known facts, bias suites) come with the model, in its world/ folder.
      const probes = loadWorldProbes(config.MODEL_DIR);
      modelGates = [
        ...modelScreeningGates(model, probes),
        ...evaluationGates(model, probes),
      ] as Gate<unknown>[];
    } catch (err) {
      this.logger.warn(
        { err, modelDir: config.MODEL_DIR },
        'no probe suites in the model folder: only the text gates are available',
      );
    }
    this.gates = [...textGates, ...modelGates];
  }
}
