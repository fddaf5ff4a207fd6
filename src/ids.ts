/**
 * New ids for events and for what commands create (grants, spends, refunds): UUIDv7, whose leading
 * 48 bits are the creation time in milliseconds. Ids made later sort later, so the unique indexes
 * over them (the event store's event ids, the ledger's spends) grow at their right edge, as the
 * log does, instead of touching a random page of a large B-tree on every insert.
 */
import { v7 } from 'uuid';

export const newId = (): string => v7();
