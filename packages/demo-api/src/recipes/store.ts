import { randomUUID } from 'node:crypto';
import type { Recipe, RecipeCreate, RecipePatch } from './schema.ts';

/**
 * One page of a listing and how many items there are in all.
 *
 * @example
 * ```ts
 * const { items, total }: Page<Recipe> = await store.listPublished({ offset: 0, limit: 20 });
 * ```
 */
export interface Page<T> {
  items: T[];
  total: number;
}

/**
 * Where recipes live: {@link MemoryRecipeStore} in development, `RedisRecipeStore` otherwise.
 *
 * @example
 * ```ts
 * const store: RecipeStore = redis ? new RedisRecipeStore(redis) : new MemoryRecipeStore();
 * ```
 */
export interface RecipeStore {
  create(input: RecipeCreate, owner: string, now: Date): Promise<Recipe>;
  get(id: string): Promise<Recipe | undefined>;
  /** Saves an updated recipe (same id and owner). */
  update(id: string, patch: RecipePatch | { is_publish: boolean }, now: Date): Promise<Recipe | undefined>;
  delete(id: string): Promise<boolean>;
  /** Published recipes, newest first, optionally matching `q` in name or description. */
  listPublished(query: { q?: string | undefined; offset: number; limit: number }): Promise<Page<Recipe>>;
  /** Every recipe of `owner`, drafts included, newest first. */
  listByOwner(owner: string, query: { offset: number; limit: number }): Promise<Page<Recipe>>;
}

/**
 * Case-insensitive match of the search `q` against name and description.
 *
 * @example
 * ```ts
 * matchesQuery(recipe, 'soup');
 * ```
 */
export function matchesQuery(recipe: Recipe, q: string | undefined): boolean {
  if (q === undefined || q === '') return true;
  const needle = q.toLowerCase();
  return recipe.name.toLowerCase().includes(needle) || recipe.description.toLowerCase().includes(needle);
}

/**
 * Builds a new draft recipe record owned by `owner`.
 *
 * @example
 * ```ts
 * const recipe = newRecipe(recipeCreateSchema.parse({ name: 'Soup' }), 'alice', new Date());
 * ```
 */
export function newRecipe(input: RecipeCreate, owner: string, now: Date): Recipe {
  const at = now.toISOString();
  return { id: randomUUID(), ...input, is_publish: false, user_id: owner, created_at: at, updated_at: at };
}

/**
 * Applies a patch, leaving id, owner and creation time alone.
 *
 * @example
 * ```ts
 * const published = patchRecipe(recipe, { is_publish: true }, new Date());
 * ```
 */
export function patchRecipe(recipe: Recipe, patch: RecipePatch | { is_publish: boolean }, now: Date): Recipe {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  return { ...recipe, ...defined, updated_at: now.toISOString() };
}

/**
 * In-process store for development without `REDIS_URL`: lost on restart.
 *
 * @example
 * ```ts
 * const app = createDemoApi({ issuer, apiUrl, store: new MemoryRecipeStore() });
 * ```
 */
export class MemoryRecipeStore implements RecipeStore {
  // Insertion order is creation order; listings read it backwards for newest first.
  #recipes = new Map<string, Recipe>();

  async create(input: RecipeCreate, owner: string, now: Date): Promise<Recipe> {
    const recipe = newRecipe(input, owner, now);
    this.#recipes.set(recipe.id, recipe);
    return structuredClone(recipe);
  }

  async get(id: string): Promise<Recipe | undefined> {
    const recipe = this.#recipes.get(id);
    return recipe && structuredClone(recipe);
  }

  async update(
    id: string,
    patch: RecipePatch | { is_publish: boolean },
    now: Date,
  ): Promise<Recipe | undefined> {
    const recipe = this.#recipes.get(id);
    if (!recipe) return undefined;
    const updated = patchRecipe(recipe, patch, now);
    this.#recipes.set(id, updated);
    return structuredClone(updated);
  }

  async delete(id: string): Promise<boolean> {
    return this.#recipes.delete(id);
  }

  async listPublished(query: {
    q?: string | undefined;
    offset: number;
    limit: number;
  }): Promise<Page<Recipe>> {
    return this.#page((recipe) => recipe.is_publish && matchesQuery(recipe, query.q), query);
  }

  async listByOwner(owner: string, query: { offset: number; limit: number }): Promise<Page<Recipe>> {
    return this.#page((recipe) => recipe.user_id === owner, query);
  }

  #page(filter: (recipe: Recipe) => boolean, query: { offset: number; limit: number }): Page<Recipe> {
    const all = [...this.#recipes.values()].reverse().filter(filter);
    return { items: structuredClone(all.slice(query.offset, query.offset + query.limit)), total: all.length };
  }
}
