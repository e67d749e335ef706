import type { Redis } from 'ioredis';
import type { Recipe, RecipeCreate, RecipePatch } from './schema.ts';
import { matchesQuery, newRecipe, type Page, patchRecipe, type RecipeStore } from './store.ts';

// One hash tag for every key, so MULTI works on a Redis Cluster too (all keys in one slot).
const PREFIX = 'demo:{recipes}';
const keys = {
  recipe: (id: string) => `${PREFIX}:recipe:${id}`,
  sequence: `${PREFIX}:seq`,
  published: `${PREFIX}:published`,
  owner: (owner: string) => `${PREFIX}:owner:${owner}`,
};

/**
 * Recipes in Redis: each recipe a JSON string, ordered by a creation sequence in two sorted sets
 * (published recipes, and every recipe per owner). Search scans the published set: fine for a demo.
 *
 * @example
 * ```ts
 * const store = new RedisRecipeStore(new Redis(process.env.REDIS_URL));
 * ```
 */
export class RedisRecipeStore implements RecipeStore {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  async create(input: RecipeCreate, owner: string, now: Date): Promise<Recipe> {
    const recipe = newRecipe(input, owner, now);
    const seq = await this.#redis.incr(keys.sequence);
    await this.#redis
      .multi()
      .set(keys.recipe(recipe.id), JSON.stringify(recipe))
      .zadd(keys.owner(owner), seq, recipe.id)
      .exec();
    return recipe;
  }

  async get(id: string): Promise<Recipe | undefined> {
    const json = await this.#redis.get(keys.recipe(id));
    return json === null ? undefined : (JSON.parse(json) as Recipe);
  }

  async update(
    id: string,
    patch: RecipePatch | { is_publish: boolean },
    now: Date,
  ): Promise<Recipe | undefined> {
    const recipe = await this.get(id);
    if (!recipe) return undefined;
    const updated = patchRecipe(recipe, patch, now);
    // XX: an update racing a delete must not bring the recipe back. Concurrent updates of one recipe
    // (only its owner can make them) are last-write-wins.
    const transaction = this.#redis.multi().set(keys.recipe(id), JSON.stringify(updated), 'XX');
    if (updated.is_publish !== recipe.is_publish) {
      if (updated.is_publish) {
        const seq = await this.#redis.zscore(keys.owner(recipe.user_id), id);
        transaction.zadd(keys.published, seq ?? Date.now(), id);
      } else {
        transaction.zrem(keys.published, id);
      }
    }
    await transaction.exec();
    return updated;
  }

  async delete(id: string): Promise<boolean> {
    const recipe = await this.get(id);
    if (!recipe) return false;
    await this.#redis
      .multi()
      .del(keys.recipe(id))
      .zrem(keys.published, id)
      .zrem(keys.owner(recipe.user_id), id)
      .exec();
    return true;
  }

  async listPublished(query: {
    q?: string | undefined;
    offset: number;
    limit: number;
  }): Promise<Page<Recipe>> {
    if (query.q === undefined || query.q === '') return this.#page(keys.published, query);
    const all = await this.#load(await this.#redis.zrevrange(keys.published, 0, -1));
    const matching = all.filter((recipe) => matchesQuery(recipe, query.q));
    return { items: matching.slice(query.offset, query.offset + query.limit), total: matching.length };
  }

  async listByOwner(owner: string, query: { offset: number; limit: number }): Promise<Page<Recipe>> {
    return this.#page(keys.owner(owner), query);
  }

  async #page(key: string, query: { offset: number; limit: number }): Promise<Page<Recipe>> {
    const [total, ids] = await Promise.all([
      this.#redis.zcard(key),
      this.#redis.zrevrange(key, query.offset, query.offset + query.limit - 1),
    ]);
    return { items: await this.#load(ids), total };
  }

  async #load(ids: string[]): Promise<Recipe[]> {
    if (ids.length === 0) return [];
    const values = await this.#redis.mget(ids.map(keys.recipe));
    return values.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as Recipe);
  }
}
