// The outbox type of the transmit job, for the sale write statement (which queues it in
// SQL). A constant of its own so the sales module does not load the job's code;
// test/etims checks it equals outboxTypeOf(transmitJob).
export const ETIMS_TRANSMIT_JOB_TYPE = 'etims:transmit';
