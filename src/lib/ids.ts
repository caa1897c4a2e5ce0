import { v7 as uuidv7 } from 'uuid';

/** Server-made ids are UUIDv7: time-ordered, so btree inserts stay append-mostly. */
export const newId = (): string => uuidv7();

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
