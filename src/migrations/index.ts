import type { NamedMigration } from '../platform/db/orm.ts';
import { Migration20261121000100Customers } from './Migration20261121000100Customers.ts';
import { Migration20261121000200Catalog } from './Migration20261121000200Catalog.ts';
import { Migration20261121000300Orders } from './Migration20261121000300Orders.ts';
import { Migration20261121000400Payments } from './Migration20261121000400Payments.ts';
import { Migration20261121000500MillisecondTimestamps } from './Migration20261121000500MillisecondTimestamps.ts';
import { Migration20261121000600PaymentsRecovery } from './Migration20261121000600PaymentsRecovery.ts';

/** Every migration, in the order it runs. Append new ones; never edit one that has shipped. */
export const migrations: readonly NamedMigration[] = [
  { name: 'Migration20261121000100Customers', class: Migration20261121000100Customers },
  { name: 'Migration20261121000200Catalog', class: Migration20261121000200Catalog },
  { name: 'Migration20261121000300Orders', class: Migration20261121000300Orders },
  { name: 'Migration20261121000400Payments', class: Migration20261121000400Payments },
  { name: 'Migration20261121000500MillisecondTimestamps', class: Migration20261121000500MillisecondTimestamps },
  { name: 'Migration20261121000600PaymentsRecovery', class: Migration20261121000600PaymentsRecovery },
];
