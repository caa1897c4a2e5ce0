/** The phone number picks what the simulated customer does (API.md, M-Pesa payments). */
export type Scenario =
  | 'success'
  | 'cancelled'
  | 'insufficient-funds'
  | 'wrong-pin'
  | 'no-callback'
  | 'duplicate-callback'
  | 'late-callback'
  | 'amount-differs';

const BY_PHONE: Record<string, Scenario> = {
  '254700000001': 'success',
  '254700000002': 'cancelled',
  '254700000003': 'insufficient-funds',
  '254700000004': 'wrong-pin',
  '254700000005': 'no-callback',
  '254700000006': 'duplicate-callback',
  '254700000007': 'late-callback',
  '254700000008': 'amount-differs',
};

export const scenarioFor = (phone: string): Scenario => BY_PHONE[phone] ?? 'success';

/** Daraja's result for each scenario (ResultCode, ResultDesc). */
export const RESULTS: Record<Scenario, { code: number; desc: string }> = {
  success: { code: 0, desc: 'The service request is processed successfully.' },
  'duplicate-callback': { code: 0, desc: 'The service request is processed successfully.' },
  'late-callback': { code: 0, desc: 'The service request is processed successfully.' },
  'amount-differs': { code: 0, desc: 'The service request is processed successfully.' },
  cancelled: { code: 1032, desc: 'Request cancelled by user' },
  'insufficient-funds': { code: 1, desc: 'The balance is insufficient for the transaction' },
  'wrong-pin': { code: 2001, desc: 'The initiator information is invalid.' },
  'no-callback': { code: 1037, desc: 'DS timeout user cannot be reached' },
};
