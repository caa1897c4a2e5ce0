import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import { layoutReceipt, PAPER_COLUMNS, wrap, type PaperWidth } from './receipt-layout.js';
import type { ReceiptDocument } from './receipt.model.js';

/** Fixed-width text for a paper width: one row per line, none wider than the paper. */
export function renderReceiptText(receipt: ReceiptDocument, paper: PaperWidth): string {
  const width = PAPER_COLUMNS[paper];
  const rows = layoutReceipt(receipt, width).flatMap((row) => {
    if (row.kind === 'rule') return ['-'.repeat(width)];
    // A text printout cannot draw the code; it names the address the code carries.
    if (row.kind === 'qr') return wrap(`QR: ${row.data}`, width);
    if (row.align === 'center') {
      const pad = Math.floor((width - row.text.length) / 2);
      return [' '.repeat(pad) + row.text];
    }
    return [row.text];
  });
  return `${rows.join('\n')}\n`;
}

/**
 * ESC/POS bytes for a thermal printer: initialise, the rows with alignment and bold, the
 * eTIMS QR code as the printer's own QR command (GS ( k), then feed and cut. Encoded by
 * @point-of-sale/receipt-printer-encoder; characters outside the code page print as `?`.
 */
export function renderReceiptEscPos(receipt: ReceiptDocument, paper: PaperWidth): Uint8Array {
  const width = PAPER_COLUMNS[paper];
  const encoder = new ReceiptPrinterEncoder({
    language: 'esc-pos',
    columns: width,
    codepageMapping: 'epson',
    // Printers differ in what a newline after the last row does; a clean start every time.
    feedBeforeCut: 4,
  }).initialize();
  for (const row of layoutReceipt(receipt, width)) {
    if (row.kind === 'rule') {
      encoder.align('left').rule({ style: 'single' });
    } else if (row.kind === 'qr') {
      encoder.align('center').qrcode(row.data, { model: 2, size: 6, errorlevel: 'm' }).newline();
    } else {
      encoder.align(row.align);
      if (row.bold) encoder.bold(true);
      encoder.text(row.text);
      if (row.bold) encoder.bold(false);
      encoder.newline();
    }
  }
  return encoder.cut('partial').encode();
}
