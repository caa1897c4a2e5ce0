import { ROLES, USER_STATUSES } from '../../db/schema/index.js';
import { PageQuery, pageSchema } from '../../lib/cursor.js';
import { NO_CONTROL_CHARACTERS, timestamp, z } from '../../lib/zod.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../auth/password.js';
import { PERMISSIONS, type Permission } from '../auth/permissions.js';
import { Business } from '../business/business.schemas.js';
import { LocationIds } from '../locations/locations.schemas.js';

export const EMAIL_MAX = 254;
export const PERSON_NAME_MAX = 100;
export const Email = z.email().max(EMAIL_MAX).openapi({ example: 'wanjiku@duka.co.ke' });

export const Password = z
  .string()
  .min(PASSWORD_MIN_LENGTH)
  .max(PASSWORD_MAX_LENGTH)
  .openapi({ description: '10–128 characters', format: 'password' });

export const PersonName = z
  .string()
  .trim()
  .min(1)
  .max(PERSON_NAME_MAX)
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
  .openapi({ example: 'Wanjiru Kamau' });

export const User = z
  .object({
    id: z.uuid(),
    businessId: z.uuid(),
    email: z.string().max(EMAIL_MAX),
    name: z.string().max(PERSON_NAME_MAX),
    role: z.enum(ROLES),
    locationIds: LocationIds,
    status: z.enum(USER_STATUSES),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

export const Me = z
  .object({
    user: User,
    business: Business,
    permissions: z
      .array(z.enum(Object.keys(PERMISSIONS) as [Permission, ...Permission[]]))
      .max(Object.keys(PERMISSIONS).length),
  })
  .meta({ id: 'Me' });
export type Me = z.infer<typeof Me>;

export const UpdateMeBody = z
  .strictObject({
    name: PersonName.optional(),
    currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH).optional(),
    newPassword: Password.optional(),
  })
  .refine((body) => body.newPassword === undefined || body.currentPassword !== undefined, {
    message: 'currentPassword is required to set newPassword',
    path: ['currentPassword'],
  })
  .meta({
    id: 'UpdateMe',
    description:
      'A new password needs the current one and signs out every other session of the user.',
  });
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;

export const UpdateUserBody = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    status: z.enum(USER_STATUSES).optional(),
    locationIds: LocationIds.optional(),
  })
  .meta({ id: 'UpdateUser' });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const UserIdParams = z.object({ id: z.uuid() });

export const UserListQuery = z.object({
  ...PageQuery,
  role: z.enum(ROLES).optional(),
  status: z.enum(USER_STATUSES).optional(),
});
export type UserListQuery = z.infer<typeof UserListQuery>;

export const UserPage = pageSchema(User, 'UserPage');
