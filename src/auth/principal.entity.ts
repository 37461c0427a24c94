import { Entity } from 'typeorm';
import { IdColumn, StringColumn, TimeColumn } from 'src/database/columns';
import { Role } from 'src/auth/role';

@Entity('principals')
export class PrincipalEntity {
  @IdColumn() id!: string;
  @StringColumn(100, { unique: true }) name!: string;
  @StringColumn(32) role!: Role;
  @TimeColumn() createdAt!: Date;
  @TimeColumn({ nullable: true }) disabledAt!: Date | null;
}
