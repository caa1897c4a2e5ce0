import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalisePhone, PhoneNumberInput } from './phone.js';

const eightDigits = fc.stringMatching(/^\d{8}$/);
const prefix = fc.constantFrom('7', '1');
/** Spaces and dashes sprinkled between the characters of `value`. */
const withSeparators = (value: string) =>
  fc
    .array(fc.constantFrom('', '', ' ', '-', '  ', ' - '), {
      minLength: value.length + 1,
      maxLength: value.length + 1,
    })
    .map(
      (separators) =>
        Array.from(value, (char) => char)
          .map((char, index) => `${separators[index]!}${char}`)
          .join('') + separators.at(-1)!,
    );

describe('normalisePhone', () => {
  it('normalises every accepted spelling to 254[17]XXXXXXXX', () => {
    const spelling = fc
      .tuple(prefix, eightDigits, fc.constantFrom('0', '+254', '254'))
      .chain(([kind, rest, lead]) =>
        withSeparators(`${lead}${kind}${rest}`).map((written) => ({
          written,
          expected: `254${kind}${rest}`,
        })),
      );
    fc.assert(
      fc.property(spelling, ({ written, expected }) => {
        expect(normalisePhone(written)).toBe(expected);
        expect(PhoneNumberInput.parse(written)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent: a normalised number normalises to itself', () => {
    fc.assert(
      fc.property(prefix, eightDigits, (kind, rest) => {
        const normalised = `254${kind}${rest}`;
        expect(normalisePhone(normalised)).toBe(normalised);
      }),
    );
  });

  it('refuses anything that is not a Kenyan 07/01 mobile number', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (input) => {
        const result = normalisePhone(input);
        if (result !== null) {
          // Whatever is accepted really is one of the spellings above.
          expect(input.replace(/[\s-]/g, '')).toMatch(/^(0|\+?254)[17]\d{8}$/);
          expect(result).toMatch(/^254[17]\d{8}$/);
        }
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('2', '3', '4', '5', '6', '8', '9'),
        eightDigits,
        fc.constantFrom('0', '+254', '254'),
        (kind, rest, lead) => {
          expect(normalisePhone(`${lead}${kind}${rest}`)).toBeNull();
        },
      ),
    );
  });

  it.each([
    ['0712345678', '254712345678'],
    ['0112 345 678', '254112345678'],
    ['+254-712-345-678', '254712345678'],
    ['+254 112 345678', '254112345678'],
    ['254712345678', '254712345678'],
    ['254112345678', '254112345678'],
  ])('%s → %s', (input, expected) => {
    expect(normalisePhone(input)).toBe(expected);
    expect(PhoneNumberInput.parse(input)).toBe(expected);
  });

  it.each([
    '',
    '071234567', // 9 digits
    '07123456789', // 11 digits
    '0812345678', // not mobile
    '+255712345678', // Tanzania
    '712345678', // no prefix
    '+0712345678',
    '2540712345678',
    '07123456７８', // full-width digits
    '0712.345.678',
    '(0712) 345678',
    '0712345678x',
  ])('refuses %j with a validation error', (input) => {
    expect(normalisePhone(input)).toBeNull();
    expect(PhoneNumberInput.safeParse(input).success).toBe(false);
  });

  it('refuses non-strings through the schema', () => {
    for (const value of [712345678, null, undefined, ['0712345678'], {}])
      expect(PhoneNumberInput.safeParse(value).success).toBe(false);
  });
});
