export { createDemoApi, type DemoApi, type DemoApiOptions } from './app.ts';
export { type DemoApiConfig, loadConfig } from './config.ts';
export { ApiError, type ApiErrorCode } from './errors.ts';
export { openApiDocument } from './openapi.ts';
export { RedisRecipeStore } from './recipes/redis-store.ts';
export {
  type ListQuery,
  type Recipe,
  type RecipeCreate,
  type RecipePatch,
  recipeCreateSchema,
  recipePatchSchema,
  recipeSchema,
} from './recipes/schema.ts';
export { MemoryRecipeStore, type Page, type RecipeStore } from './recipes/store.ts';
export type { DemoTokenStorage } from './web/page-html.ts';
