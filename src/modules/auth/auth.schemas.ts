import { z } from '../../lib/zod.js';
import { Business, BusinessName, PhoneNumber } from '../business/business.schemas.js';
import { Email, Password, PersonName, User } from '../users/users.schemas.js';
import { PASSWORD_MAX_LENGTH } from './password.js';

const OPAQUE_TOKEN_MAX = 512;
/** Signed with the configured issuer and audience: far below this in practice (about 400). */
const ACCESS_TOKEN_MAX = 4096;

const OpaqueToken = z
  .string()
  .min(1)
  .max(OPAQUE_TOKEN_MAX)
  .openapi({ description: 'The opaque token exactly as it was handed out' });

export const RegisterBody = z
  .strictObject({
    businessName: BusinessName,
    name: PersonName,
    email: Email,
    password: Password,
    phone: PhoneNumber.optional(),
  })
  .meta({ id: 'Register' });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z
  .strictObject({
    email: Email,
    // Not the 10-character rule: an old or wrong password must get 401, not a 400 hint.
    password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  })
  .meta({ id: 'Login' });
export type LoginBody = z.infer<typeof LoginBody>;

export const RefreshBody = z.strictObject({ refreshToken: OpaqueToken }).meta({ id: 'Refresh' });
export const LogoutBody = z.strictObject({ refreshToken: OpaqueToken }).meta({ id: 'Logout' });
export const ForgotPasswordBody = z.strictObject({ email: Email }).meta({ id: 'ForgotPassword' });
export const ResetPasswordBody = z
  .strictObject({ token: OpaqueToken, password: Password })
  .meta({ id: 'ResetPassword' });

export const AuthSession = z
  .object({
    user: User,
    business: Business,
    accessToken: z
      .string()
      .max(ACCESS_TOKEN_MAX)
      .describe('JWT (HS256, typ at+jwt), sent as `Authorization: Bearer …`'),
    refreshToken: z
      .string()
      .max(OPAQUE_TOKEN_MAX)
      .describe('Opaque, single use: exchange it at /auth/refresh for a new pair (30 days)'),
    expiresIn: z.int().min(1).max(86_400).describe("The access token's lifetime in seconds (900)"),
  })
  .meta({ id: 'AuthSession' });
export type AuthSession = z.infer<typeof AuthSession>;
