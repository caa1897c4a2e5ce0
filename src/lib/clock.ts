/** The clock is a parameter so tests can move time (expiry, reconciliation) without sleeping. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
