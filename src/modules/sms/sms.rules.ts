/** KES from integer cents: 123456 → "1,234.56"; whole shillings without decimals. */
export function formatKes(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const shillings = Math.floor(abs / 100).toLocaleString('en-KE');
  const rest = abs % 100;
  return `${sign}KES ${shillings}${rest === 0 ? '' : `.${String(rest).padStart(2, '0')}`}`;
}

/** Shortened to `max` characters with an ellipsis (a business name in a 160-character SMS). */
const clip = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The receipt SMS of a sale: one part (≤ 160 characters) whatever the names. */
export function receiptText(sale: {
  businessName: string;
  number: number;
  receiptNumber: string | null;
  total: number;
  occurredAt: string;
  status: string;
}): string {
  const day = sale.occurredAt.slice(0, 10);
  const voided = sale.status === 'voided' ? ' (VOIDED)' : '';
  return `${clip(sale.businessName, 40)}: receipt #${sale.number}${voided} of ${day}, total ${formatKes(sale.total)}. Asante!`;
}

/** The balance reminder SMS of a customer. */
export function reminderText(customer: {
  businessName: string;
  name: string;
  balance: number;
}): string {
  return `${clip(customer.businessName, 40)}: Habari ${clip(customer.name, 30)}, your balance is ${formatKes(customer.balance)}. Asante!`;
}
