import type { AccessTokenVerifier } from '@gatehouse/resource';
import { optionalAccessToken, requireAccessToken } from '@gatehouse/resource/koa';
import Router from '@koa/router';
import type { Context } from 'koa';
import { ApiError } from '../errors.ts';
import { paginationLink } from '../pagination.ts';
import {
  listQuerySchema,
  parseOrThrow,
  type Recipe,
  recipeCreateSchema,
  recipePatchSchema,
} from './schema.ts';
import type { Page, RecipeStore } from './store.ts';

/**
 * What the recipe routes need.
 *
 * @example
 * ```ts
 * const options: RecipeRoutesOptions = { store, verifier, apiUrl, now: () => new Date() };
 * ```
 */
export interface RecipeRoutesOptions {
  store: RecipeStore;
  verifier: AccessTokenVerifier;
  /** Public base URL of the API, for `Location` and `Link` headers. */
  apiUrl: string;
  now: () => Date;
}

/**
 * The recipes API (Smilecook-style): public listing and detail of published recipes, owner-only
 * writes with `recipes:write`, and `/me` endpoints.
 *
 * @example
 * ```ts
 * const router = recipeRoutes({ store, verifier, apiUrl, now: () => new Date() });
 * app.use(router.routes()).use(router.allowedMethods());
 * ```
 */
export function recipeRoutes(options: RecipeRoutesOptions): Router {
  const { store, verifier, apiUrl, now } = options;
  const read = requireAccessToken({ verifier, scopes: ['recipes:read'] });
  const write = requireAccessToken({ verifier, scopes: ['recipes:write'] });
  const anyToken = requireAccessToken({ verifier });
  const maybeToken = optionalAccessToken({ verifier });
  const router = new Router();

  const publicUrl = (ctx: Context) => new URL(`${ctx.path}${ctx.search}`, apiUrl);

  const sendPage = (ctx: Context, page: Page<Recipe>, query: { page: number; per_page: number }) => {
    ctx.set('X-Total-Count', String(page.total));
    ctx.set(
      'Link',
      paginationLink(publicUrl(ctx), { page: query.page, perPage: query.per_page, total: page.total }),
    );
    ctx.body = { data: page.items, page: query.page, per_page: query.per_page, total: page.total };
  };

  /**
   * Loads the recipe named in the path and requires the caller to own it. Someone else's draft
   * answers exactly like an unknown id, as `GET` does, so writes cannot probe which drafts exist;
   * someone else's published recipe is public anyway and answers 403.
   */
  const ownRecipe = async (ctx: Context, sub: string): Promise<Recipe> => {
    const recipe = await store.get(String(ctx.params.id));
    if (!recipe || (!recipe.is_publish && recipe.user_id !== sub)) {
      throw new ApiError('not_found', 404, 'recipe not found');
    }
    if (recipe.user_id !== sub) throw new ApiError('forbidden', 403, 'only the owner may change this recipe');
    return recipe;
  };

  const requireBody = (ctx: Context): unknown => {
    const body = (ctx.request as { body?: unknown }).body;
    if (body === undefined) throw new ApiError('invalid_request', 400, 'a JSON request body is required');
    return body;
  };

  router.get('/recipes', async function listPublishedRecipes(ctx) {
    const query = parseOrThrow(listQuerySchema, ctx.query, 400);
    const offset = (query.page - 1) * query.per_page;
    sendPage(ctx, await store.listPublished({ q: query.q, offset, limit: query.per_page }), query);
  });

  router.get('/recipes/:id', maybeToken, async function getRecipe(ctx) {
    const recipe = await store.get(ctx.params.id ?? '');
    // A draft is visible to its owner only; to anyone else it does not exist.
    if (!recipe || (!recipe.is_publish && recipe.user_id !== ctx.state.auth?.sub)) {
      throw new ApiError('not_found', 404, 'recipe not found');
    }
    ctx.body = recipe;
  });

  router.post('/recipes', write, async function createRecipe(ctx) {
    const input = parseOrThrow(recipeCreateSchema, requireBody(ctx), 422);
    const recipe = await store.create(input, ctx.state.auth.sub, now());
    ctx.status = 201;
    ctx.set('Location', new URL(`/recipes/${recipe.id}`, apiUrl).href);
    ctx.body = recipe;
  });

  router.patch('/recipes/:id', write, async function updateRecipe(ctx) {
    const recipe = await ownRecipe(ctx, ctx.state.auth.sub);
    const patch = parseOrThrow(recipePatchSchema, requireBody(ctx), 422);
    ctx.body = await store.update(recipe.id, patch, now());
  });

  router.delete('/recipes/:id', write, async function deleteRecipe(ctx) {
    const recipe = await ownRecipe(ctx, ctx.state.auth.sub);
    await store.delete(recipe.id);
    ctx.status = 204;
  });

  router.put('/recipes/:id/publish', write, async function publishRecipe(ctx) {
    const recipe = await ownRecipe(ctx, ctx.state.auth.sub);
    await store.update(recipe.id, { is_publish: true }, now());
    ctx.status = 204;
  });

  router.delete('/recipes/:id/publish', write, async function unpublishRecipe(ctx) {
    const recipe = await ownRecipe(ctx, ctx.state.auth.sub);
    await store.update(recipe.id, { is_publish: false }, now());
    ctx.status = 204;
  });

  router.get('/me', anyToken, async function me(ctx) {
    const { sub, clientId, scopes } = ctx.state.auth;
    ctx.body = { sub, client_id: clientId, scope: scopes.join(' ') };
  });

  router.get('/me/recipes', read, async function myRecipes(ctx) {
    const query = parseOrThrow(listQuerySchema.omit({ q: true }), ctx.query, 400);
    const offset = (query.page - 1) * query.per_page;
    sendPage(ctx, await store.listByOwner(ctx.state.auth.sub, { offset, limit: query.per_page }), query);
  });

  return router;
}
