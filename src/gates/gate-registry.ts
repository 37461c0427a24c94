import { Injectable } from '@nestjs/common';
import { Gate } from 'src/gates/gate';
import { HyperparametersGate } from 'src/gates/policy/hyperparameters.gate';
import { textScreeningGates } from 'src/gates/screening/screening-gates';

/** Every gate this gateway can run, by name; channel policies choose which of them a channel requires. */
@Injectable()
export class GateRegistry {
  readonly gates: readonly Gate<unknown>[];

  constructor() {
    this.gates = [new HyperparametersGate(), ...textScreeningGates()] as Gate<unknown>[];
  }
}
