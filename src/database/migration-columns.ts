import { QueryRunner, TableColumnOptions } from 'typeorm';

/** Table API column builders for migrations, mirroring `columns.ts` on both drivers. */
export function columnsFor(queryRunner: QueryRunner) {
  const pg = queryRunner.connection.driver.options.type === 'postgres';
  const nullable = (n?: boolean) => ({ isNullable: n ?? false });
  return {
    id: (name = 'id'): TableColumnOptions => ({ name, type: pg ? 'uuid' : 'varchar', isPrimary: true }),
    ref: (name: string, isNullable?: boolean): TableColumnOptions => ({
      name,
      type: pg ? 'uuid' : 'varchar',
      ...nullable(isNullable),
    }),
    time: (name: string, isNullable?: boolean): TableColumnOptions => ({
      name,
      type: pg ? 'timestamp' : 'datetime',
      ...nullable(isNullable),
    }),
    json: (name: string, isNullable?: boolean): TableColumnOptions => ({
      name,
      type: 'text',
      ...nullable(isNullable),
    }),
    text: (name: string, isNullable?: boolean): TableColumnOptions => ({
      name,
      type: 'text',
      ...nullable(isNullable),
    }),
    string: (name: string, length: number, isNullable?: boolean): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...nullable(isNullable),
    }),
    int: (name: string, isNullable?: boolean): TableColumnOptions => ({
      name,
      type: 'integer',
      ...nullable(isNullable),
    }),
    bigint: (name: string): TableColumnOptions => ({ name, type: 'bigint', isNullable: false }),
  };
}
