import { NextCursor, pageItems } from '../../lib/cursor.js';
import { threeDecimals, timestamp, z } from '../../lib/zod.js';
import { MAX_IMAGE_BYTES } from './image-limits.js';
import { TAX_TYPE_CODES } from './tax-type.rules.js';

const TaxType = z.enum(TAX_TYPE_CODES as ['A', 'B', 'C', 'D', 'E']).meta({
  description:
    'KRA eTIMS tax type: A exempt (0), B 16 % (1600), C zero-rated (0), D non-VAT (0), E 8 % (800); must agree with taxRate',
});
/** KRA's item classification code (itemClsCd), e.g. 5020230500. */
const EtimsItemClassCode = z
  .string()
  .trim()
  .max(10)
  .regex(/^[0-9A-Za-z]{1,10}$/, 'up to 10 letters or digits');

/** Quantities: numbers with at most 3 decimals (numeric(14,3)), never strings. */
export const hasAtMost3Decimals = (value: number) =>
  Math.abs(value * 1000 - Math.round(value * 1000)) < 1e-6;
export const QuantityValue = z
  .number()
  .refine(Number.isFinite, 'must be a finite number')
  .refine(hasAtMost3Decimals, 'must have at most 3 decimals')
  .openapi({ description: 'At most 3 decimals (0.5 kg)', ...threeDecimals });

const MAX_MONEY = 1_000_000_000;
const Money = z.int().min(0).max(MAX_MONEY).meta({ description: 'Minor units (cents)' });
const Code = z.string().trim().min(1).max(64);
const Id = z.uuid();
const NAME_MAX = 200;
const DESCRIPTION_MAX = 2000;
const UNIT_MAX = 20;
const CATEGORY_NAME_MAX = 100;
/** Public file URLs: PUBLIC_URL plus /files/products/<hash>.<ext>. */
const FILE_URL_MAX = 2048;

export const ProductSchema = z
  .object({
    id: Id,
    name: z.string().max(NAME_MAX),
    sku: z.string().max(64).optional(),
    barcode: z.string().max(64).optional(),
    description: z.string().max(DESCRIPTION_MAX).optional(),
    categoryId: Id.optional(),
    price: z
      .int()
      .min(0)
      .max(MAX_MONEY)
      .meta({ description: 'Minor units (cents), VAT-inclusive' }),
    cost: z.int().min(0).max(MAX_MONEY).optional().meta({ description: 'Minor units (cents)' }),
    taxRate: z.int().min(0).max(10_000).meta({ description: 'Basis points: 1600 = 16%' }),
    taxType: TaxType.optional().meta({
      description: 'Absent only on an old product whose taxRate is no eTIMS band rate',
    }),
    etimsItemClassCode: z.string().max(10).optional(),
    unit: z.string().max(UNIT_MAX),
    trackStock: z.boolean(),
    stockQuantity: z
      .number()
      .meta({ description: 'Sum of the stock ledger over every location; at most 3 decimals' }),
    stock: z
      .array(z.object({ locationId: z.uuid(), quantity: z.number() }).meta({ id: 'StockLevel' }))
      .max(1000)
      .meta({
        description:
          'The level at each location where the product was ever stocked (by location id); elsewhere 0',
      }),
    lowStockThreshold: z.number().optional(),
    imageUrl: z.url().max(FILE_URL_MAX).optional(),
    archived: z.boolean(),
    version: z.int().meta({ description: 'Bumped by every catalog edit (not by stock changes)' }),
    createdAt: timestamp(),
    updatedAt: timestamp().meta({
      description: 'Bumped by every change, stock included; strictly increasing per business',
    }),
  })
  .meta({ id: 'Product', description: 'A product of the catalog.' });
export type Product = z.infer<typeof ProductSchema>;

export const ProductListSchema = z
  .object({ data: pageItems(ProductSchema), nextCursor: NextCursor })
  .meta({ id: 'ProductList' });

const productFields = {
  name: z.string().trim().min(1).max(NAME_MAX),
  sku: Code,
  barcode: Code,
  description: z.string().trim().max(DESCRIPTION_MAX),
  categoryId: Id,
  price: Money,
  cost: Money,
  taxRate: z
    .int()
    .min(0)
    .max(10_000)
    .meta({ description: 'VAT rate in basis points: 1600 = 16 %, 800 = 8 %, 0 = exempt' }),
  unit: z.string().trim().min(1).max(UNIT_MAX),
  trackStock: z.boolean(),
  lowStockThreshold: QuantityValue.min(0).max(1_000_000),
};

export const CreateProductBody = z
  .strictObject({
    name: productFields.name,
    sku: productFields.sku.optional(),
    barcode: productFields.barcode.optional(),
    description: productFields.description.optional(),
    categoryId: productFields.categoryId.optional(),
    price: productFields.price,
    cost: productFields.cost.optional(),
    taxRate: productFields.taxRate.optional(),
    taxType: TaxType.optional(),
    etimsItemClassCode: EtimsItemClassCode.optional(),
    unit: productFields.unit.default('each'),
    trackStock: productFields.trackStock.default(true),
    lowStockThreshold: productFields.lowStockThreshold.optional(),
  })
  .meta({ id: 'CreateProduct' });
export type CreateProductInput = z.output<typeof CreateProductBody>;

/** Optional fields may be cleared with null. */
export const UpdateProductBody = z
  .strictObject({
    name: productFields.name.optional(),
    sku: productFields.sku.nullable().optional(),
    barcode: productFields.barcode.nullable().optional(),
    description: productFields.description.nullable().optional(),
    categoryId: productFields.categoryId.nullable().optional(),
    price: productFields.price.optional(),
    cost: productFields.cost.nullable().optional(),
    taxRate: productFields.taxRate.optional(),
    taxType: TaxType.optional(),
    etimsItemClassCode: EtimsItemClassCode.nullable().optional(),
    unit: productFields.unit.optional(),
    trackStock: productFields.trackStock.optional(),
    lowStockThreshold: productFields.lowStockThreshold.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'Send at least one field to change')
  .meta({ id: 'UpdateProduct' });
export type UpdateProductInput = z.output<typeof UpdateProductBody>;

export const ProductParams = z.object({ id: Id });

const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

export const ListProductsQuery = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .max(4)
    .transform(Number)
    .optional()
    .openapi({ description: 'Page size: default 50, above 200 clamped to 200' }),
  cursor: z.string().max(512).optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'Case-insensitive substring of name, sku or barcode' }),
  categoryId: Id.optional(),
  updatedSince: timestamp({ offset: true }).optional().openapi({
    description:
      'Delta sync: products whose updatedAt is strictly later, archived ones included. Pass the largest updatedAt already seen.',
  }),
  includeArchived: booleanQuery.optional(),
});
export type ListProductsQueryInput = z.output<typeof ListProductsQuery>;

export const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .regex(/^(\*|(W\/)?"?\d{1,9}"?)$/, 'must be "<version>"')
    .max(13)
    .optional()
    .openapi({ description: 'The version the edit is based on: "<version>". Stale → 412.' }),
});

export const IfNoneMatchHeaders = z.object({
  'if-none-match': z
    .string()
    .max(1024)
    .optional()
    .openapi({ description: 'An ETag from an earlier response: unchanged → 304' }),
});

export const CategorySchema = z
  .object({
    id: Id,
    name: z.string().max(CATEGORY_NAME_MAX),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Category' });
export type Category = z.infer<typeof CategorySchema>;

export const CategoryListSchema = z
  .object({ data: pageItems(CategorySchema), nextCursor: NextCursor })
  .meta({ id: 'CategoryList' });

export const CategoryBody = z
  .strictObject({ name: z.string().trim().min(1).max(CATEGORY_NAME_MAX) })
  .meta({ id: 'CategoryInput' });

export const ListCategoriesQuery = z.object({
  limit: ListProductsQuery.shape.limit,
  cursor: z.string().max(512).optional(),
});

export const ImageUploadBody = z
  .object({
    file: z.string().openapi({
      type: 'string',
      format: 'binary',
      maxLength: MAX_IMAGE_BYTES,
      description: 'JPEG, PNG or WebP (checked by its bytes), at most 5 MB',
    }),
  })
  .meta({ id: 'ProductImageUpload' });
