import { INVITE_ROLES } from '../../db/schema/index.js';
import { PageQuery, pageSchema } from '../../lib/cursor.js';
import { timestamp, z } from '../../lib/zod.js';
import { LocationIds } from '../locations/locations.schemas.js';
import { EMAIL_MAX, Email, Password, PersonName } from '../users/users.schemas.js';

export const INVITE_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InviteStatus = (typeof INVITE_STATUSES)[number];

export const Invite = z
  .object({
    id: z.uuid(),
    email: z.string().max(EMAIL_MAX),
    role: z.enum(INVITE_ROLES),
    locationIds: LocationIds,
    status: z.enum(INVITE_STATUSES),
    invitedBy: z.uuid(),
    expiresAt: timestamp(),
    acceptedAt: timestamp().nullable(),
    revokedAt: timestamp().nullable(),
    createdAt: timestamp(),
  })
  .meta({ id: 'Invite' });
export type Invite = z.infer<typeof Invite>;

export const CreateInviteBody = z
  .strictObject({
    email: Email,
    role: z.enum(INVITE_ROLES).describe('Managers may invite cashiers; owners managers too'),
    locationIds: LocationIds.optional(),
  })
  .meta({ id: 'CreateInvite' });
export type CreateInviteBody = z.infer<typeof CreateInviteBody>;

export const AcceptInviteBody = z
  .strictObject({
    token: z.string().min(1).max(512).describe('The `token` of the invite link, exactly'),
    name: PersonName,
    password: Password,
  })
  .meta({ id: 'AcceptInvite' });
export type AcceptInviteBody = z.infer<typeof AcceptInviteBody>;

export const InviteIdParams = z.object({ id: z.uuid() });

export const InviteListQuery = z.object({
  ...PageQuery,
  status: z.enum(INVITE_STATUSES).optional(),
});
export type InviteListQuery = z.infer<typeof InviteListQuery>;

export const InvitePage = pageSchema(Invite, 'InvitePage');
