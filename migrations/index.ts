import { InitialSchema1764032400000 } from 'migrations/1764032400000-initial-schema';

/** Every migration, oldest first. Listed explicitly so a build never depends on a file glob. */
export const migrations = [InitialSchema1764032400000];
