import { Column, ColumnOptions, PrimaryColumn } from 'typeorm';

/**
 * Column decorators that map the same way on PostgreSQL and SQLite, and that `migrations/` mirrors with
 * `migration-columns.ts`. No database-side defaults: ids and timestamps are set by the application, so both
 * drivers behave alike and the schema check in the tests stays exact.
 */
export const IdColumn = () => PrimaryColumn({ type: 'uuid' });
export const RefColumn = (opts: Pick<ColumnOptions, 'nullable'> = {}) => Column({ type: 'uuid', ...opts });
export const TimeColumn = (opts: Pick<ColumnOptions, 'nullable'> = {}) => Column({ type: Date, ...opts });
export const JsonColumn = (opts: Pick<ColumnOptions, 'nullable'> = {}) =>
  Column({ type: 'simple-json', ...opts });
export const TextColumn = (opts: Pick<ColumnOptions, 'nullable'> = {}) => Column({ type: 'text', ...opts });
export const StringColumn = (length: number, opts: Pick<ColumnOptions, 'nullable' | 'unique'> = {}) =>
  Column({ type: 'varchar', length, ...opts });
export const IntColumn = (opts: Pick<ColumnOptions, 'nullable'> = {}) => Column({ type: 'integer', ...opts });

/** bigint comes back from pg as a string; the audit sequence is far below 2^53. */
export const bigintAsNumber = {
  to: (value?: number) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
