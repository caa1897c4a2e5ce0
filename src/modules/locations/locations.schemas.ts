import { PageQuery, pageSchema } from '../../lib/cursor.js';
import { NO_CONTROL_CHARACTERS, timestamp, z } from '../../lib/zod.js';

const NAME_MAX = 100;
const ADDRESS_MAX = 300;
const PHONE_MAX = 32;

const LocationName = z
  .string()
  .trim()
  .min(1)
  .max(NAME_MAX)
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');
const EtimsBranchId = z
  .string()
  .max(2)
  .regex(/^\d{2}$/)
  .openapi({ description: 'KRA eTIMS branch id (bhfId): two digits, "00" is the head office' });

export const Location = z
  .object({
    id: z.uuid(),
    name: z.string().max(NAME_MAX),
    address: z.string().max(ADDRESS_MAX).nullable(),
    phone: z.string().max(PHONE_MAX).nullable(),
    etimsBranchId: z.string().max(2),
    isDefault: z.boolean(),
    archived: z.boolean(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Location', description: 'A branch of the business, with its own stock.' });
export type Location = z.infer<typeof Location>;

export const CreateLocationBody = z
  .strictObject({
    name: LocationName,
    address: z.string().trim().max(ADDRESS_MAX).optional(),
    phone: z.string().trim().max(PHONE_MAX).optional(),
    etimsBranchId: EtimsBranchId.optional(),
  })
  .meta({ id: 'CreateLocation' });
export type CreateLocationBody = z.infer<typeof CreateLocationBody>;

export const UpdateLocationBody = z
  .strictObject({
    name: LocationName.optional(),
    address: z.string().trim().max(ADDRESS_MAX).nullable().optional(),
    phone: z.string().trim().max(PHONE_MAX).nullable().optional(),
    etimsBranchId: EtimsBranchId.optional(),
  })
  .meta({ id: 'UpdateLocation' });
export type UpdateLocationBody = z.infer<typeof UpdateLocationBody>;

export const LocationIdParams = z.object({ id: z.uuid() });

export const LocationListQuery = z.object({
  ...PageQuery,
  includeArchived: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});
export type LocationListQuery = z.infer<typeof LocationListQuery>;

export const LocationPage = pageSchema(Location, 'LocationPage');

/** A `locationIds` assignment: distinct location ids; empty = every location. */
export const LocationIds = z
  .array(z.uuid())
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a location')
  .openapi({ description: 'Locations the user works at; an empty list means every location' });
