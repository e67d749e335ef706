import { z } from 'zod';
import { ApiError } from '../errors.ts';

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000),
  num_of_servings: z.int().min(1).max(100).nullable(),
  cook_time: z.int().min(1).max(1440).nullable(),
  ingredients: z.array(z.string().trim().min(1).max(200)).max(100),
  directions: z.string().max(10_000),
};

/**
 * A recipe as the API returns it (Smilecook's fields; `user_id` is the owner's `sub`).
 *
 * @example
 * ```ts
 * const recipe = recipeSchema.parse(await response.json());
 * ```
 */
export const recipeSchema = z.strictObject({
  id: z.string(),
  ...fields,
  is_publish: z.boolean(),
  user_id: z.string(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/**
 * A stored recipe.
 *
 * @example
 * ```ts
 * const recipe: Recipe = recipeSchema.parse(json);
 * ```
 */
export type Recipe = z.output<typeof recipeSchema>;

/**
 * Body of `POST /recipes`: `name` required, the rest optional; unknown fields are refused.
 *
 * @example
 * ```ts
 * recipeCreateSchema.parse({ name: 'Pancakes', cook_time: 20 });
 * ```
 */
export const recipeCreateSchema = z.strictObject({
  name: fields.name,
  description: fields.description.default(''),
  num_of_servings: fields.num_of_servings.default(null),
  cook_time: fields.cook_time.default(null),
  ingredients: fields.ingredients.default([]),
  directions: fields.directions.default(''),
});

/**
 * Validated `POST /recipes` body.
 *
 * @example
 * ```ts
 * const input: RecipeCreate = recipeCreateSchema.parse(body);
 * ```
 */
export type RecipeCreate = z.output<typeof recipeCreateSchema>;

/**
 * Body of `PATCH /recipes/:id`: any non-empty subset of the create fields.
 *
 * @example
 * ```ts
 * recipePatchSchema.parse({ cook_time: 25 });
 * ```
 */
export const recipePatchSchema = z
  .strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    num_of_servings: fields.num_of_servings.optional(),
    cook_time: fields.cook_time.optional(),
    ingredients: fields.ingredients.optional(),
    directions: fields.directions.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one field is required' });

/**
 * Validated `PATCH /recipes/:id` body.
 *
 * @example
 * ```ts
 * const patch: RecipePatch = recipePatchSchema.parse(body);
 * ```
 */
export type RecipePatch = z.output<typeof recipePatchSchema>;

/**
 * Query of list endpoints: `page` ≥ 1, `per_page` 1–100 (default 20), optional search `q`.
 *
 * @example
 * ```ts
 * listQuerySchema.parse({ page: '2', per_page: '10', q: 'soup' });
 * ```
 */
export const listQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  per_page: z.coerce.number().int().min(1).max(100).default(20),
  q: z.string().trim().max(100).optional(),
});

/**
 * Validated list query.
 *
 * @example
 * ```ts
 * const query: ListQuery = listQuerySchema.parse(ctx.query);
 * ```
 */
export type ListQuery = z.output<typeof listQuerySchema>;

/**
 * Validates `value`, or throws an {@link ApiError} (`status` 400 for a malformed request, 422 for a
 * well-formed but invalid body) whose description names the offending field.
 *
 * @example
 * ```ts
 * const input = parseOrThrow(recipeCreateSchema, ctx.request.body, 422);
 * ```
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, status: 400 | 422): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : undefined;
  const unknownKeys = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
  const description = unknownKeys
    ? `unknown field: ${unknownKeys}`
    : `${field ?? 'body'}: ${issue?.message ?? 'invalid'}`;
  throw new ApiError(status === 400 ? 'invalid_request' : 'validation_failed', status, description);
}
