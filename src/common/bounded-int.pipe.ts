import { PipeTransform } from '@nestjs/common';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';

/** Rejects a numeric argument outside [min, max] with a BAD_USER_INPUT naming it. */
export class BoundedIntPipe implements PipeTransform<number, number> {
  constructor(
    private readonly name: string,
    private readonly min: number,
    private readonly max: number,
  ) {}

  transform(value: number): number {
    if (!Number.isInteger(value) || value < this.min || value > this.max) {
      throw new CommonError(
        CommonErrorCode.VALIDATION_FAILED,
        `${this.name} must be an integer from ${this.min} to ${this.max}`,
        { argument: this.name },
      );
    }
    return value;
  }
}
