import { z } from 'zod';

import { idField } from '../http/form-fields.js';
import { defineInput, rejectAsNotFound } from '../http/input.js';

export const MAX_TITLE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 5000;

export const titleField = z
  .string({ error: 'Enter a title.' })
  .trim()
  .min(1, { error: 'Enter a title.' })
  .max(MAX_TITLE_LENGTH, { error: `The title is too long: use at most ${MAX_TITLE_LENGTH} characters.` });

export const videoIdParams = defineInput('params', z.object({ id: idField }), rejectAsNotFound('video'));

export const videoDetailsForm = z.object({
  title: titleField,
  description: z
    .string()
    .max(MAX_DESCRIPTION_LENGTH, { error: `The description is too long: use at most ${MAX_DESCRIPTION_LENGTH} characters.` })
    .optional()
    .transform((text) => (text ?? '').replace(/\r\n/g, '\n').trim()),
});

export const publishForm = defineInput(
  'body',
  z.object({ published: z.enum(['true', 'false'], { error: 'Choose published or draft.' }).transform((value) => value === 'true') }),
);
