import { CUSTOMER_ENTRY_TYPES, CUSTOMER_PAYMENT_METHODS } from '../../db/schema/index.js';
import {
  MAX_CURSOR_LENGTH,
  NextCursor,
  PageQuery,
  pageItems,
  pageSchema,
} from '../../lib/cursor.js';
import { anyUuid, NO_CONTROL_CHARACTERS, timestamp, z } from '../../lib/zod.js';
import { PhoneNumberInput } from '../../mpesa/phone.js';
import { MAX_ACCOUNT_AMOUNT } from './customers.rules.js';

const NAME_MAX = 200;
const EMAIL_MAX = 254;
const NOTE_MAX = 1000;
const KRA_PIN_MAX = 11;
const REFERENCE_MAX = 100;
const QUERY_MAX = 100;

/** The name an erased customer keeps (Kenya Data Protection Act 2019: the person is gone). */
export const DELETED_CUSTOMER_NAME = 'Deleted customer';

const Name = z
  .string()
  .trim()
  .min(1)
  .max(NAME_MAX)
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');
const Email = z.email().max(EMAIL_MAX);
/** KRA PIN: a letter, nine digits, a letter (A123456789Z). */
const KraPin = z
  .string()
  .trim()
  .max(KRA_PIN_MAX)
  .regex(/^[A-Za-z]\d{9}[A-Za-z]$/, 'must be a KRA PIN: a letter, 9 digits, a letter')
  .toUpperCase();
const Note = z.string().max(NOTE_MAX);
const CreditLimit = z
  .int()
  .min(0)
  .max(MAX_ACCOUNT_AMOUNT)
  .describe('The most the customer may owe (integer cents); null/absent = no limit');
const cents = (description: string) =>
  z.int().min(1).max(MAX_ACCOUNT_AMOUNT).describe(`${description} (integer cents)`);

export const Customer = z
  .object({
    id: z.uuid(),
    name: z.string().max(NAME_MAX),
    phone: z.string().max(16).nullable().describe('2547XXXXXXXX / 2541XXXXXXXX'),
    email: z.string().max(EMAIL_MAX).nullable(),
    kraPin: z.string().max(KRA_PIN_MAX).nullable(),
    creditLimit: z.int().nullable(),
    note: z.string().max(NOTE_MAX).nullable(),
    balance: z.int().describe('What the customer owes (integer cents): Σ statement entries'),
    deleted: z.boolean().describe('Erased: name, contacts and PIN removed; sales and balance kept'),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Customer', description: 'A customer with an account (the debt book).' });
export type Customer = z.infer<typeof Customer>;

export const CreateCustomerBody = z
  .strictObject({
    id: anyUuid()
      .optional()
      .describe('Made by the till (offline); the same id and body again answers 200'),
    name: Name,
    phone: PhoneNumberInput.optional(),
    email: Email.optional(),
    kraPin: KraPin.optional(),
    creditLimit: CreditLimit.optional().describe('Manager or owner only'),
    note: Note.optional(),
  })
  .meta({ id: 'CreateCustomerBody' });
export type CreateCustomerBody = z.infer<typeof CreateCustomerBody>;

export const UpdateCustomerBody = z
  .strictObject({
    name: Name.optional(),
    phone: PhoneNumberInput.nullable().optional(),
    email: Email.nullable().optional(),
    kraPin: KraPin.nullable().optional(),
    creditLimit: CreditLimit.nullable().optional().describe('Manager or owner only'),
    note: Note.nullable().optional(),
  })
  .meta({ id: 'UpdateCustomerBody' });
export type UpdateCustomerBody = z.infer<typeof UpdateCustomerBody>;

export const CustomerParams = z.object({ id: z.uuid() });

export const CustomerListQuery = z.object({
  ...PageQuery,
  q: z
    .string()
    .trim()
    .min(1)
    .max(QUERY_MAX)
    .optional()
    .describe('Part of the name (any case) or of the phone number'),
});
export type CustomerListQuery = z.infer<typeof CustomerListQuery>;

export const CustomerPage = pageSchema(Customer, 'CustomerPage');

export const CustomerPaymentBody = z
  .strictObject({
    clientRequestId: anyUuid().describe('Made by the till; the idempotency key'),
    amount: cents('Received; at most the balance'),
    method: z.enum(CUSTOMER_PAYMENT_METHODS),
    reference: z
      .string()
      .trim()
      .min(1)
      .max(REFERENCE_MAX)
      .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
      .optional()
      .describe('e.g. the M-Pesa receipt code'),
    occurredAt: timestamp({ offset: true }).describe('When the money was received on the till'),
    shiftId: z.uuid().optional().describe('The till shift that took the money'),
  })
  .meta({ id: 'CustomerPaymentBody' });
export type CustomerPaymentBody = z.infer<typeof CustomerPaymentBody>;

export const CustomerPayment = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    clientRequestId: anyUuid(),
    amount: z.int(),
    method: z.enum(CUSTOMER_PAYMENT_METHODS),
    reference: z.string().max(REFERENCE_MAX).nullable(),
    occurredAt: timestamp(),
    shiftId: z.uuid().nullable(),
    balanceAfter: z.int().describe("The customer's balance right after this payment"),
    createdAt: timestamp(),
    needsReview: z
      .literal(true)
      .optional()
      .describe(
        'Present when the M-Pesa receipt it names (reference = TransID) was already claimed or is for another amount',
      ),
  })
  .meta({ id: 'CustomerPayment' });
export type CustomerPayment = z.infer<typeof CustomerPayment>;

export const StatementQuery = z.object({
  from: timestamp({ offset: true }).optional().describe('Entries at or after this instant'),
  to: timestamp({ offset: true }).optional().describe('Entries before this instant'),
  cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
  limit: PageQuery.limit,
});
export type StatementQuery = z.infer<typeof StatementQuery>;

export const StatementEntry = z
  .object({
    type: z.enum(CUSTOMER_ENTRY_TYPES),
    amount: z.int().describe('Signed cents: + adds to what the customer owes, − takes it off'),
    balanceAfter: z.int(),
    saleId: z.uuid().optional(),
    returnId: z.uuid().optional(),
    paymentId: z.uuid().optional(),
    at: timestamp(),
  })
  .meta({ id: 'CustomerStatementEntry' });
export type StatementEntry = z.infer<typeof StatementEntry>;

export const Statement = z
  .object({
    customerId: z.uuid(),
    balance: z.int().describe('What the customer owes now: Σ of all entries'),
    openingBalance: z
      .int()
      .describe(
        'The balance before the first entry of this page (0 on the first page without `from`)',
      ),
    data: pageItems(StatementEntry),
    nextCursor: NextCursor,
  })
  .meta({ id: 'CustomerStatement' });
export type Statement = z.infer<typeof Statement>;
