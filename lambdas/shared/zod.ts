import * as z from 'zod/mini';

/*
 * Shared code validates with zod/mini: the same checks as zod's classic API at a tenth of its
 * size in every Lambda bundle. These few helpers keep the schemas readable.
 */

/** `schema`, then `fn` over its output. */
export const map = <S extends z.ZodMiniType, T>(schema: S, fn: (value: z.output<S>) => T) =>
  z.pipe(schema, z.transform(fn));

export const nonEmpty = () => z.string().check(z.minLength(1));
export const positive = () => z.number().check(z.positive());
export const positiveInt = () => z.int().check(z.positive());
