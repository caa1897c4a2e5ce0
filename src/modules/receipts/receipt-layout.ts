import type { ReceiptDocument } from './receipt.model.js';

/**
 * The layout of a receipt as a list of printable rows, shared by the plain-text and the
 * ESC/POS renderers so both print the same thing. Every row fits `width` columns (58 mm
 * paper: 32, 80 mm: 48); long names wrap instead of running off the paper.
 */

export const PAPER_COLUMNS = { 58: 32, 80: 48 } as const;
export type PaperWidth = keyof typeof PAPER_COLUMNS;

export type ReceiptRow =
  | { kind: 'text'; text: string; align: 'left' | 'center'; bold?: boolean }
  | { kind: 'rule' }
  | { kind: 'qr'; data: string };

/** Shillings with two decimals and thousands separators: 123456 → "1,234.56". */
export function shillings(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  const whole = Math.trunc(absolute / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${whole}.${String(absolute % 100).padStart(2, '0')}`;
}

/** 1600 → "16%", 850 → "8.5%". */
export const percent = (basisPoints: number): string =>
  `${Number((basisPoints / 100).toFixed(2))}%`;

/** Splits text into pieces of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width: number): string[] {
  const rows: string[] = [];
  let rest = text.replace(/\s+/g, ' ').trim();
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const cut = space > 0 ? space : width;
    rows.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  rows.push(rest);
  return rows;
}

/** `left` and `right` on one row, right-aligned; on two rows when they do not fit. */
export function leftRight(left: string, right: string, width: number): string[] {
  if (left.length + 1 + right.length <= width) {
    return [left + ' '.repeat(width - left.length - right.length) + right];
  }
  const rights = wrap(right, width).map((piece) => piece.padStart(width));
  return [...wrap(left, width), ...rights];
}

const METHOD_LABELS: Record<string, string> = {
  cash: 'Cash',
  mpesa: 'M-Pesa',
  card: 'Card',
  credit: 'On account',
  other: 'Other',
};

export function layoutReceipt(receipt: ReceiptDocument, width: number): ReceiptRow[] {
  const rows: ReceiptRow[] = [];
  const text = (value: string, align: 'left' | 'center' = 'left', bold = false) => {
    for (const piece of wrap(value, width)) rows.push({ kind: 'text', text: piece, align, bold });
  };
  const pair = (left: string, right: string, bold = false) => {
    for (const piece of leftRight(left, right, width)) {
      rows.push({ kind: 'text', text: piece, align: 'left', bold });
    }
  };

  text(receipt.business.name, 'center', true);
  const where = [receipt.location.name, receipt.location.address].filter(Boolean).join(', ');
  if (where) text(where, 'center');
  const phone = receipt.location.phone ?? receipt.business.phone;
  if (phone) text(`Tel ${phone}`, 'center');
  rows.push({ kind: 'rule' });

  text(receipt.title, 'center', true);
  pair(receipt.kind === 'return' ? 'Credit note no.' : 'Sale no.', String(receipt.number));
  if (receipt.originalSaleNumber !== null) pair('For sale no.', String(receipt.originalSaleNumber));
  if (receipt.receiptNumber) pair('Receipt no.', receipt.receiptNumber);
  pair('Date', receipt.localTime);
  pair('Cashier', receipt.cashier.name);
  rows.push({ kind: 'rule' });

  for (const line of receipt.lines) {
    text(line.name);
    pair(
      `  ${line.quantity} x ${shillings(line.unitPrice)}`,
      shillings(line.total + line.discount),
    );
    if (line.discount !== 0) pair('  Discount', shillings(-line.discount));
  }
  rows.push({ kind: 'rule' });

  pair('Subtotal', shillings(receipt.subtotal));
  if (receipt.discount !== 0) pair('Discount', shillings(-receipt.discount));
  pair(
    receipt.kind === 'return' ? 'TOTAL REFUND' : 'TOTAL',
    `KES ${shillings(receipt.total)}`,
    true,
  );
  rows.push({ kind: 'rule' });

  for (const band of receipt.vat) {
    pair(`VAT ${percent(band.rate)} on ${shillings(band.taxable)}`, shillings(band.tax));
  }
  pair('VAT included', shillings(receipt.tax));
  rows.push({ kind: 'rule' });

  for (const payment of receipt.payments) {
    const label = METHOD_LABELS[payment.method] ?? payment.method;
    pair(receipt.kind === 'return' ? `Refund ${label}` : label, shillings(payment.amount));
    if (payment.reference) pair('  Ref', payment.reference);
  }
  if (receipt.change !== 0) pair('Change', shillings(receipt.change));
  if (receipt.voided) text('THIS SALE WAS VOIDED', 'center', true);

  if (receipt.etims) {
    const etims = receipt.etims;
    rows.push({ kind: 'rule' });
    text('KRA eTIMS', 'center', true);
    if (etims.sdcId) pair('SCU ID', etims.sdcId);
    pair('Receipt no.', `${etims.receiptNumber}/${etims.totalReceiptNumber}`);
    pair('Date', etims.sdcDateTime);
    text('Internal data:');
    text(etims.internalData);
    text('Signature:');
    text(etims.signature);
    rows.push({ kind: 'qr', data: etims.qrUrl });
  }
  rows.push({ kind: 'rule' });
  text('Thank you', 'center');
  return rows;
}
