import { z } from 'zod';
import { recipeCreateSchema, recipePatchSchema, recipeSchema } from './recipes/schema.ts';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const pageParameters = [
  { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 } },
  { name: 'per_page', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
];
const pageHeaders = {
  Link: { description: 'RFC 8288 links: first, prev, next, last', schema: { type: 'string' } },
  'X-Total-Count': { description: 'number of items in all pages', schema: { type: 'integer' } },
};
const pageOfRecipes = {
  description: 'one page of recipes, newest first',
  headers: pageHeaders,
  ...json(ref('RecipePage')),
};
const auth = (scopes: string[]) => [{ gatehouse: scopes }];
const unauthorized = error(
  'missing, invalid, expired or revoked access token (RFC 6750), or a missing or bad DPoP proof for a DPoP-bound token (RFC 9449: invalid_dpop_proof, use_dpop_nonce)',
);
const forbiddenScope = error('insufficient_scope');
const owned = {
  401: unauthorized,
  403: error('insufficient_scope, or a published recipe of someone else'),
  404: error('no such recipe, or a draft of someone else'),
};

/**
 * The OpenAPI 3.1 description of the demo API, served at `/openapi.json`. Request and response
 * schemas are generated from the same zod schemas that validate requests.
 *
 * @example
 * ```ts
 * router.get('/openapi.json', (ctx) => { ctx.body = openApiDocument({ apiUrl, issuer }); });
 * ```
 */
export function openApiDocument(options: { apiUrl: string; issuer: string }) {
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse demo recipes API', version: '0.1.0' },
    servers: [{ url: options.apiUrl }],
    paths: {
      '/health': { get: { summary: 'liveness', responses: { 200: { description: 'up' } } } },
      '/openapi.json': {
        get: { summary: 'this document', responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
      '/recipes': {
        get: {
          summary: 'published recipes, searchable by name and description',
          parameters: [
            ...pageParameters,
            { name: 'q', in: 'query', schema: { type: 'string', maxLength: 100 } },
          ],
          responses: { 200: pageOfRecipes, 400: error('invalid query parameter') },
        },
        post: {
          summary: 'create a draft recipe',
          security: auth(['recipes:write']),
          requestBody: { required: true, ...json(ref('RecipeCreate')) },
          responses: {
            201: {
              description: 'created',
              headers: { Location: { schema: { type: 'string' } } },
              ...json(ref('Recipe')),
            },
            400: error('malformed JSON or no body'),
            401: unauthorized,
            403: forbiddenScope,
            413: error('body over 64 KiB'),
            415: error('body is not JSON'),
            422: error('invalid field'),
          },
        },
      },
      '/recipes/{id}': {
        parameters: [idParameter],
        get: {
          summary: 'a published recipe, or a draft of the caller',
          security: [{}, ...auth([])],
          responses: {
            200: { description: 'the recipe', ...json(ref('Recipe')) },
            404: error('no such recipe'),
          },
        },
        patch: {
          summary: 'change a recipe (owner)',
          security: auth(['recipes:write']),
          requestBody: { required: true, ...json(ref('RecipePatch')) },
          responses: {
            200: { description: 'the updated recipe', ...json(ref('Recipe')) },
            400: error('malformed JSON or no body'),
            ...owned,
            422: error('invalid field'),
          },
        },
        delete: {
          summary: 'delete a recipe (owner)',
          security: auth(['recipes:write']),
          responses: { 204: { description: 'deleted' }, ...owned },
        },
      },
      '/recipes/{id}/publish': {
        parameters: [idParameter],
        put: {
          summary: 'publish a recipe (owner)',
          security: auth(['recipes:write']),
          responses: { 204: { description: 'published' }, ...owned },
        },
        delete: {
          summary: 'unpublish a recipe (owner)',
          security: auth(['recipes:write']),
          responses: { 204: { description: 'unpublished' }, ...owned },
        },
      },
      '/me': {
        get: {
          summary: 'who the access token speaks for',
          security: auth([]),
          responses: { 200: { description: 'the token subject', ...json(ref('Me')) }, 401: unauthorized },
        },
      },
      '/me/recipes': {
        get: {
          summary: "the caller's recipes, drafts included",
          security: auth(['recipes:read']),
          parameters: pageParameters,
          responses: {
            200: pageOfRecipes,
            400: error('invalid query parameter'),
            401: unauthorized,
            403: forbiddenScope,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        gatehouse: {
          type: 'oauth2',
          description:
            'JWT access tokens (RFC 9068) from the Gatehouse server, sent as `Authorization: Bearer`; DPoP-bound ones (`cnf.jkt`) as `Authorization: DPoP` with a `DPoP` proof per request (RFC 9449).',
          flows: {
            authorizationCode: {
              authorizationUrl: `${options.issuer}/authorize`,
              tokenUrl: `${options.issuer}/token`,
              scopes: {
                'recipes:read': 'read your recipes',
                'recipes:write': 'create and change your recipes',
              },
            },
          },
        },
      },
      schemas: {
        Recipe: z.toJSONSchema(recipeSchema, { target: 'draft-2020-12' }),
        RecipeCreate: z.toJSONSchema(recipeCreateSchema, { target: 'draft-2020-12', io: 'input' }),
        RecipePatch: z.toJSONSchema(recipePatchSchema, { target: 'draft-2020-12', io: 'input' }),
        RecipePage: {
          type: 'object',
          required: ['data', 'page', 'per_page', 'total'],
          properties: {
            data: { type: 'array', items: ref('Recipe') },
            page: { type: 'integer' },
            per_page: { type: 'integer' },
            total: { type: 'integer' },
          },
        },
        Me: {
          type: 'object',
          required: ['sub', 'client_id', 'scope'],
          properties: { sub: { type: 'string' }, client_id: { type: 'string' }, scope: { type: 'string' } },
        },
        Error: {
          type: 'object',
          required: ['error', 'error_description'],
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
      },
    },
  };
}
