import type postgres from 'postgres';

/** A piece of SQL built with the `sql` tagged template, to nest inside another query (its values stay bound). */
export type Fragment = postgres.PendingQuery<postgres.Row[]>;
