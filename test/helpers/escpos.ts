/**
 * A reader of ESC/POS byte streams, written from Epson's ESC/POS command reference (not
 * from the encoder we use): it walks the bytes command by command, refuses any byte
 * sequence that is not a command it knows with the right number of parameters, and gives
 * back the commands and the printed rows. Tests then check the structure of a receipt
 * (initialise first, bold around the total, the QR function sequence, cut last) instead
 * of comparing snapshots.
 */

export type EscPosItem =
  | { kind: 'init' } // ESC @
  | { kind: 'kanji-off' } // FS .
  | { kind: 'font'; n: number } // ESC M n
  | { kind: 'bold'; on: boolean } // ESC E n
  | { kind: 'codepage'; n: number } // ESC t n
  | { kind: 'align'; n: number } // ESC a n
  | { kind: 'print-mode'; n: number } // ESC ! n
  | { kind: 'size'; n: number } // GS ! n
  | { kind: 'underline'; n: number } // ESC - n
  | { kind: 'line-spacing'; n: number | null } // ESC 3 n / ESC 2
  | { kind: 'feed-lines'; n: number } // ESC d n
  | { kind: 'qr'; fn: number; params: number[] } // GS ( k pL pH 49 fn …
  | { kind: 'cut'; mode: number } // GS V m [n]
  | { kind: 'newline' } // LF
  | { kind: 'carriage-return' } // CR
  | { kind: 'text'; bytes: number[] };

const ESC = 0x1b;
const FS = 0x1c;
const GS = 0x1d;

/** ESC x commands taking one parameter byte. */
const ESC_ONE_PARAM: Record<number, (n: number) => EscPosItem> = {
  0x4d: (n) => ({ kind: 'font', n }),
  0x45: (n) => ({ kind: 'bold', on: (n & 1) === 1 }),
  0x74: (n) => ({ kind: 'codepage', n }),
  0x61: (n) => ({ kind: 'align', n }),
  0x21: (n) => ({ kind: 'print-mode', n }),
  0x2d: (n) => ({ kind: 'underline', n }),
  0x33: (n) => ({ kind: 'line-spacing', n }),
  0x64: (n) => ({ kind: 'feed-lines', n }),
};

export function parseEscPos(input: Uint8Array): EscPosItem[] {
  const bytes = [...input];
  const items: EscPosItem[] = [];
  let at = 0;
  const need = (count: number) => {
    if (at + count > bytes.length) throw new Error(`Truncated command at byte ${at}`);
  };
  while (at < bytes.length) {
    const byte = bytes[at]!;
    if (byte === ESC) {
      need(2);
      const code = bytes[at + 1]!;
      if (code === 0x40) {
        items.push({ kind: 'init' });
        at += 2;
      } else if (code === 0x32) {
        items.push({ kind: 'line-spacing', n: null });
        at += 2;
      } else if (ESC_ONE_PARAM[code]) {
        need(3);
        items.push(ESC_ONE_PARAM[code](bytes[at + 2]!));
        at += 3;
      } else {
        throw new Error(`Unknown ESC command 0x${code.toString(16)} at byte ${at}`);
      }
    } else if (byte === FS) {
      need(2);
      if (bytes[at + 1] !== 0x2e) throw new Error(`Unknown FS command at byte ${at}`);
      items.push({ kind: 'kanji-off' });
      at += 2;
    } else if (byte === GS) {
      need(2);
      const code = bytes[at + 1]!;
      if (code === 0x28 && bytes[at + 2] === 0x6b) {
        // GS ( k pL pH cn fn [parameters]: pL + pH × 256 bytes follow pH (cn, fn included).
        need(5);
        const length = bytes[at + 3]! + bytes[at + 4]! * 256;
        need(5 + length);
        const body = bytes.slice(at + 5, at + 5 + length);
        if (body[0] !== 49) throw new Error(`GS ( k for symbol ${body[0]} is not a QR code`);
        items.push({ kind: 'qr', fn: body[1]!, params: body.slice(2) });
        at += 5 + length;
      } else if (code === 0x56) {
        need(3);
        const mode = bytes[at + 2]!;
        // Function B (65, 66) takes a feed amount after the mode.
        const extra = mode === 65 || mode === 66 ? 1 : 0;
        if (![0, 1, 48, 49, 65, 66].includes(mode)) throw new Error(`Bad cut mode ${mode}`);
        items.push({ kind: 'cut', mode });
        at += 3 + extra;
      } else if (code === 0x21) {
        need(3);
        items.push({ kind: 'size', n: bytes[at + 2]! });
        at += 3;
      } else {
        throw new Error(`Unknown GS command 0x${code.toString(16)} at byte ${at}`);
      }
    } else if (byte === 0x0a) {
      items.push({ kind: 'newline' });
      at += 1;
    } else if (byte === 0x0d) {
      items.push({ kind: 'carriage-return' });
      at += 1;
    } else if (byte >= 0x20) {
      const last = items.at(-1);
      if (last?.kind === 'text') last.bytes.push(byte);
      else items.push({ kind: 'text', bytes: [byte] });
      at += 1;
    } else {
      throw new Error(`Control byte 0x${byte.toString(16)} is not a command, at byte ${at}`);
    }
  }
  return items;
}

/** The printed rows (text between line feeds), code page bytes read as Latin-1. */
export function printedRows(items: EscPosItem[]): string[] {
  const rows: string[] = [];
  let current = '';
  for (const item of items) {
    if (item.kind === 'text') current += String.fromCharCode(...item.bytes);
    if (item.kind === 'newline') {
      rows.push(current);
      current = '';
    }
  }
  if (current) rows.push(current);
  return rows;
}

/** The QR code the stream prints: its model, size, error level and data, in command order. */
export function qrCommands(items: EscPosItem[]) {
  return items.filter((item): item is Extract<EscPosItem, { kind: 'qr' }> => item.kind === 'qr');
}
