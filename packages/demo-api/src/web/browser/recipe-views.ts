import type { Recipe, RecipeInput } from './recipes-api.ts';

/** What the owner can do with one of their recipes. */
export interface RecipeActions {
  edit(recipe: Recipe): void;
  setPublished(recipe: Recipe, published: boolean): void;
  remove(recipe: Recipe): void;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label: string, accessibleName: string, onClick: () => void): HTMLButtonElement {
  const node = element('button', 'small secondary', label);
  node.type = 'button';
  node.setAttribute('aria-label', accessibleName);
  node.addEventListener('click', onClick);
  return node;
}

function meta(recipe: Recipe): string {
  const parts: string[] = [];
  if (recipe.cook_time !== null) parts.push(`${recipe.cook_time} min`);
  if (recipe.num_of_servings !== null) parts.push(`serves ${recipe.num_of_servings}`);
  if (recipe.ingredients.length > 0) parts.push(`${recipe.ingredients.length} ingredients`);
  return parts.join(' · ');
}

/**
 * One recipe as a list item (text only: recipe fields never become markup). With `actions`, the
 * owner's Edit / Publish / Delete buttons.
 *
 * @example
 * ```ts
 * list.append(recipeItem(recipe, { edit, setPublished, remove }));
 * ```
 */
export function recipeItem(recipe: Recipe, actions?: RecipeActions): HTMLLIElement {
  const item = element('li', 'recipe');
  item.dataset.recipeId = recipe.id;
  const head = element('div', 'recipe-head');
  head.append(element('span', 'recipe-name', recipe.name));
  if (actions) {
    head.append(
      element(
        'span',
        `badge${recipe.is_publish ? ' published' : ''}`,
        recipe.is_publish ? 'published' : 'draft',
      ),
    );
  }
  item.append(head);
  if (recipe.description) item.append(element('div', 'recipe-description', recipe.description));
  const details = meta(recipe);
  if (details) item.append(element('div', 'recipe-meta', details));
  if (actions) {
    const row = element('div', 'recipe-actions');
    row.append(
      button('Edit', `Edit ${recipe.name}`, () => actions.edit(recipe)),
      recipe.is_publish
        ? button('Unpublish', `Unpublish ${recipe.name}`, () => actions.setPublished(recipe, false))
        : button('Publish', `Publish ${recipe.name}`, () => actions.setPublished(recipe, true)),
      button('Delete', `Delete ${recipe.name}`, () => actions.remove(recipe)),
    );
    item.append(row);
  }
  return item;
}

const optionalInt = (value: FormDataEntryValue | null): number | null => {
  const text = typeof value === 'string' ? value.trim() : '';
  return text === '' ? null : Number(text);
};
const text = (value: FormDataEntryValue | null): string => (typeof value === 'string' ? value.trim() : '');

/**
 * The recipe form's fields as an API body.
 *
 * @example
 * ```ts
 * await api.create(readRecipeForm(form));
 * ```
 */
export function readRecipeForm(form: HTMLFormElement): RecipeInput {
  const data = new FormData(form);
  return {
    name: text(data.get('name')),
    description: text(data.get('description')),
    num_of_servings: optionalInt(data.get('num_of_servings')),
    cook_time: optionalInt(data.get('cook_time')),
    ingredients: text(data.get('ingredients'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== ''),
    directions: text(data.get('directions')),
  };
}

/**
 * Fills the recipe form for editing `recipe`, or clears it for a new one.
 *
 * @example
 * ```ts
 * fillRecipeForm(form, recipe);
 * ```
 */
export function fillRecipeForm(form: HTMLFormElement, recipe: Recipe | undefined): void {
  const set = (name: string, value: string) => {
    const field = form.elements.namedItem(name);
    if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) field.value = value;
  };
  set('id', recipe?.id ?? '');
  set('name', recipe?.name ?? '');
  set('description', recipe?.description ?? '');
  set('num_of_servings', recipe?.num_of_servings?.toString() ?? '');
  set('cook_time', recipe?.cook_time?.toString() ?? '');
  set('ingredients', recipe?.ingredients.join('\n') ?? '');
  set('directions', recipe?.directions ?? '');
}
