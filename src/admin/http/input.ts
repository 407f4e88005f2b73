import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';

import { HttpError, badRequest, notFound } from '../../errors.js';

type Source = 'params' | 'query' | 'body';

export interface Input<T> {
  /** Middleware that parses req[source], or throws the error that `reject` builds. */
  validate: (req: Request, res: Response, next: NextFunction) => void;
  /** The parsed value, for steps after `validate`. */
  of: (res: Response) => T;
}

/**
 * Binds a zod schema to one part of the request. The parsed value lives under a private symbol on res.locals,
 * so later steps read typed data instead of the raw req.query or req.body.
 */
export function defineInput<S extends z.ZodType>(
  source: Source,
  schema: S,
  reject: (error: z.ZodError) => HttpError = (error) => badRequest('INVALID_INPUT', describeProblems(error)),
): Input<z.infer<S>> {
  const slot = Symbol(source);

  return {
    validate(req, res, next) {
      const parsed = schema.safeParse(req[source] ?? {});
      if (!parsed.success) throw reject(parsed.error);

      (res.locals as Record<symbol, unknown>)[slot] = parsed.data;
      next();
    },
    of(res) {
      const locals = res.locals as Record<symbol, unknown>;
      if (!(slot in locals)) throw new Error(`the ${source} validator must run before this step`);
      return locals[slot] as z.infer<S>;
    },
  };
}

/** An unknown or malformed id in the path is a page that does not exist. */
export const rejectAsNotFound = (what: string) => () => notFound(`This ${what} does not exist.`);

/** Joins the messages of every failed field into one sentence list for the person at the browser. */
export function describeProblems(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join(' ');
}

/** Collects the first message per field, for showing next to each form input. */
export function problemsByField(error: z.ZodError): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    problems[field] ??= issue.message;
  }
  return problems;
}
