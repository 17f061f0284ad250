// Type declarations for render.js: product cards from mdsrec items or catalog entries.
import type { Item } from './mdsrec.js';

export interface CardOptions {
  /** Called on a plain left click on a card's link (call event.preventDefault() to stay on the page). */
  onSelect?: (item: Item, event: MouseEvent) => void;
  /** Show the reason badge (default true). */
  reason?: boolean;
  /** Currency and locale for numeric prices (default 'USD', the browser's locale). */
  currency?: string;
  locale?: string;
  /** The catalog field that picks the placeholder tile's colour (default 'category'). */
  group?: string;
  /** Origins images may load from (default: the page's own). The images of recommended items
      depend on the visitor's clicks, so a third-party image host would learn them. */
  imageOrigins?: string[];
}

/** One <li class="mdsrec-card"> with image (or a tile with the title's initials), title, a meta line (year; subcategory or category), genres or tags as .mdsrec-tag chips, price, link and reason badge. */
export function card(item: Item | { key: string; [field: string]: unknown }, options?: CardOptions): HTMLLIElement;
/** Replaces the container's content with <ul class="mdsrec-cards"> of cards; returns the list. */
export function renderCards(container: Element, items: Iterable<Item | { key: string; [field: string]: unknown }>, options?: CardOptions): HTMLUListElement;
export function formatPrice(price: unknown, options?: { currency?: string; locale?: string }): string;
export function safeUrl(url: unknown, base?: string, origins?: string[]): string | null;
export function initials(text: string): string;
/** A list field as an array: an array as is, "A|B|C" split at `|`; null for anything else. */
export function listOf(value: unknown): string[] | null;
export function hue(text: string): number;

/** <mdsrec-cards>: set .items (and .options); fires a cancelable 'mdsrec-select' CustomEvent<{item}> on a click. */
export interface MdsrecCardsElement extends HTMLElement {
  items: Item[];
  options: CardOptions;
}
declare global {
  interface HTMLElementTagNameMap {
    'mdsrec-cards': MdsrecCardsElement;
  }
}
