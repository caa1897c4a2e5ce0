// Code tables of the OSCU Specification v2.0 (KRA, April 2023), chapter 4: the codes this
// service sends or must understand. Values are the wire values; names are ours.

/** 4.1 Tax Type (code class 04). Rates are percentages as `taxRtA`…`taxRtE` carry them. */
export const TAX_TYPES = {
  A: { name: 'A-Exempt', rate: 0 },
  B: { name: 'B-16.00%', rate: 16 },
  C: { name: 'C-0%', rate: 0 },
  D: { name: 'D-Non-VAT', rate: 0 },
  E: { name: 'E-8%', rate: 8 },
} as const;
export type TaxType = keyof typeof TAX_TYPES;
export const TAX_TYPE_CODES = Object.keys(TAX_TYPES) as TaxType[];
export type TaxRates = Record<TaxType, number>;
export const DEFAULT_TAX_RATES: TaxRates = { A: 0, B: 16, C: 0, D: 0, E: 8 };

/** 4.3 Product Type (code class 24): `itemTyCd`. */
export const PRODUCT_TYPES = { rawMaterial: '1', finishedProduct: '2', service: '3' } as const;

/** 4.9 Transaction Type (code class 14): `salesTyCd`. */
export const SALES_TYPES = { copy: 'C', normal: 'N', proforma: 'P', training: 'T' } as const;

/** 4.10 Sales Receipt Type (code class 37): `rcptTyCd`. */
export const RECEIPT_TYPES = { sale: 'S', creditNote: 'R' } as const;

/** 4.11 Payment Method (code class 07): `pmtTyCd`. */
export const PAYMENT_TYPES = {
  cash: '01',
  credit: '02',
  cashCredit: '03',
  bankCheck: '04',
  card: '05',
  mobileMoney: '06',
  other: '07',
} as const;

/** 4.12 Transaction Progress (code class 11): `salesSttsCd`. */
export const SALES_STATUSES = {
  waitForApproval: '01',
  approved: '02',
  cancelRequested: '03',
  canceled: '04',
  creditNoteGenerated: '05',
  transferred: '06',
} as const;

/** 4.13 Registration Type (code class 31): `regTyCd`. */
export const REGISTRATION_TYPES = { automatic: 'A', manual: 'M' } as const;

/** 4.15 Stock In/Out (code class 12): `sarTyCd`. */
export const STOCK_IO_TYPES = {
  incomingImport: '01',
  incomingPurchase: '02',
  incomingReturn: '03',
  incomingStockMovement: '04',
  incomingProcessing: '05',
  incomingAdjustment: '06',
  outgoingSale: '11',
  outgoingReturn: '12',
  outgoingStockMovement: '13',
  outgoingProcessing: '14',
  outgoingDiscarding: '15',
  outgoingAdjustment: '16',
} as const;

/** 4.17 Credit Note Reason (code class 32): `rfdRsnCd`. */
export const CREDIT_NOTE_REASONS = {
  missingQuantity: '01',
  missingData: '02',
  damaged: '03',
  wasted: '04',
  rawMaterialShortage: '05',
  refund: '06',
} as const;

/** 4.7 Unit of Quantity (code class 10), the ones a shop uses. */
export const QUANTITY_UNITS = {
  piece: 'U',
  kilogram: 'KG',
  gram: 'GRM',
  litre: 'L',
  metre: 'MTR',
  dozen: 'DZ',
  pair: 'PR',
  set: 'SET',
  packet: 'PA',
  box: 'BX',
  bag: 'BG',
  number: 'NO',
} as const;

/** 4.6 Packaging Unit (code class 17), the ones a shop uses. */
export const PACKAGING_UNITS = {
  net: 'NT',
  unpackaged: 'OU',
  bag: 'BG',
  bucket: 'BJ',
  can: 'CA',
  carton: 'CT',
  drum: 'DR',
  jar: 'JR',
  roll: 'RO',
  woodenBox: 'CR',
} as const;

/** 4.18 API Response Code: `resultCd`, with the spec's own descriptions. */
export const RESULT_CODES = {
  '000': 'It is succeeded',
  '001': 'There is no search result',
  '891': 'An error occurred while Request URL is created.',
  '892': 'An error occurred while Request Header data is created.',
  '893': 'An error occurred while Request Body data is created.',
  '894': 'An error regarding server communication occurred.',
  '895': 'An error regarding unallowed Request Method occurred.',
  '896': 'An error regarding Request Status occurred.',
  '899': 'An error regarding Client occurred.',
  '900': 'There is no Header information',
  '901': 'It is not valid device',
  '902': 'This device is installed',
  '903': 'Only OSCU device can be verified.',
  '910': 'Request parameter error',
  '911': 'There is no request full text',
  '912': 'There is a request Method error.',
  '921': 'Sales or sales invoice data which is declared cannot be received.',
  '922': 'Sales invoice data can be received after receiving the sales data.',
  '990': 'The maxium number of views are exceeded',
  '991': 'There is an error during registration',
  '992': 'There is an error during modification',
  '993': 'There is an error during deletion',
  '994': 'There is an overlapped Data',
  '995': 'There is no downloaded file',
  '999': 'There is an unknown error. Please ask it administrator',
} as const;
export type ResultCode = keyof typeof RESULT_CODES;

export const SUCCESS = '000';
/** "There is an overlapped Data": this invoice (or stock record) was already received. */
export const OVERLAPPED_DATA = '994';

/** The OSCU hosts (spec §1.2); the API functions are POSTed under them by name. */
export const OSCU_HOSTS = {
  production: 'https://etims-api.kra.go.ke/etims-api',
  sandbox: 'https://etims-api-sbx.kra.go.ke/etims-api',
} as const;
