import { z } from 'zod';

import { MAX_PASSWORD_LENGTH, passwordProblem } from '../../auth/passwords.js';
import { adminReturnField, checkboxField, emailField, idField, lastDayField } from '../http/form-fields.js';
import { defineInput, rejectAsNotFound } from '../http/input.js';

export const USERS_PER_PAGE = 50;

/** An empty password field means "generate one"; a typed one must pass the same rules as everywhere else. */
const newPasswordField = z
  .string()
  .max(MAX_PASSWORD_LENGTH, { error: `The password is too long: use at most ${MAX_PASSWORD_LENGTH} characters.` })
  .optional()
  .transform((password, context): string | null => {
    if (!password) return null;

    const problem = passwordProblem(password);
    if (problem) {
      context.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return password;
  });

export const userIdParams = defineInput('params', z.object({ id: idField }), rejectAsNotFound('user'));

export const userListQuery = defineInput(
  'query',
  z.object({
    q: z.string().trim().max(320, { error: 'The search text is too long: use at most 320 characters.' }).optional(),
    after: z.string().max(320).optional(),
    before: z.string().max(320).optional(),
  }),
);

export const newUserForm = z.object({
  email: emailField,
  password: newPasswordField,
  admin: checkboxField,
});

export const grantForm = defineInput('body', z.object({ endsOn: lastDayField, returnTo: adminReturnField('/admin/users') }));

export const revokeForm = defineInput('body', z.object({ returnTo: adminReturnField('/admin/users') }));

export const passwordForm = z.object({ password: newPasswordField });

export const roleForm = defineInput(
  'body',
  z.object({ admin: z.enum(['true', 'false'], { error: 'Choose whether the user is an admin.' }).transform((value) => value === 'true') }),
);
