import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT_MS = 10_000;

export const DESKTOP = { width: 880, height: 660 };
export const PHONE = { width: 375, height: 667 };

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** One entry of the chat page's message list, as the page shows it. */
export interface ListItem {
  readonly kind: 'message' | 'gap';
  readonly id: string;
  readonly user: string;
  readonly text: string;
  readonly own: boolean;
}

/** The part of a DOM element that `listItems` reads (the tests compile without lib.dom). */
interface PageElement {
  readonly classList: { contains(name: string): boolean };
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  querySelector(selector: string): PageElement | null;
}

/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). Each `openChat` gets
 * a fresh context, so its own cookies; `takeProblems()` returns what the pages did wrong
 * (uncaught errors, CSP violations, dialogs opened) since the last call.
 */
export class ChatBrowser {
  private readonly contexts: BrowserContext[] = [];
  private problems: string[] = [];

  private constructor(private readonly browser: Browser) {}

  /** Launches on a fresh throwaway profile; rejects when /usr/bin/chromium is missing. */
  static async launch(): Promise<ChatBrowser> {
    return new ChatBrowser(await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS }));
  }

  /** A page in a new context, loaded from `url`, resolved once its stream is connected. */
  async openChat(url: string, viewport = DESKTOP): Promise<Page> {
    const context = await this.browser.newContext({ viewport });
    this.contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) this.problems.push(message.text());
    });
    page.on('dialog', (dialog) => {
      this.problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(url);
    await waitForState(page, 'connected');
    return page;
  }

  /** Closes every page opened so far and returns the problems they recorded. */
  async closePages(): Promise<string[]> {
    await Promise.all(this.contexts.splice(0).map((context) => context.close()));
    const problems = this.problems;
    this.problems = [];
    return problems;
  }

  async close(): Promise<void> {
    await this.closePages();
    await this.browser.close();
  }
}

export async function waitForState(page: Page, state: ConnectionState): Promise<void> {
  await page.locator(`[data-testid="connection-state"][data-state="${state}"]`).waitFor();
}

/** Picks a name in the page's name form (submitted with Enter) and waits until it is shown. */
export async function signIn(page: Page, name: string): Promise<void> {
  const input = page.getByLabel('Your name', { exact: true });
  await input.fill(name);
  await input.press('Enter');
  await page.getByTestId('current-name').getByText(name, { exact: true }).waitFor();
}

/** Types a message and presses Enter, then waits until the page shows it. */
export async function send(page: Page, text: string): Promise<void> {
  const input = page.getByLabel('Message', { exact: true });
  await input.fill(text);
  await input.press('Enter');
  await waitForText(page, text);
}

export async function waitForText(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid="message"] .message-text').getByText(text, { exact: true }).waitFor();
}

export async function waitForIds(page: Page, ids: readonly string[]): Promise<void> {
  for (const id of ids) await page.locator(`[data-testid="message"][data-id="${id}"]`).waitFor();
}

/** The message list from top to bottom: messages and gap markers. */
export async function listItems(page: Page): Promise<ListItem[]> {
  return page.locator('[data-testid="messages"] > li').evaluateAll((items: PageElement[]) =>
    items.map((item) => ({
      kind: item.classList.contains('gap') ? ('gap' as const) : ('message' as const),
      id: item.dataset.id ?? '',
      user: item.dataset.user ?? '',
      text: item.querySelector('.message-text')?.textContent ?? item.textContent ?? '',
      own: item.dataset.own === 'true',
    })),
  );
}
