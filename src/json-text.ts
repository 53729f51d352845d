/**
 * Reads JSON text that JSON.parse already accepted, without re-encoding it, so numbers beyond
 * double precision (64-bit ids) and every other detail of a value pass through byte for byte.
 * It runs once per publish, so it compares character codes and lets `indexOf` (native) skip
 * over string contents rather than walking them one JavaScript step per character.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** Any of the four characters JSON allows between tokens. */
const ANY_WHITESPACE = /[ \t\n\r]/;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Index just past the string token that starts at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  while (quote !== -1) {
    // The quote is escaped when an odd number of backslashes stands right before it.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return text.length;
}

/** Index just past the value that starts at `start`, and the deepest nesting inside it. */
function endOfValue(text: string, start: number): { end: number; depth: number } {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return { end: endOfString(text, start), depth: 0 };
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let index = start;
    for (let code = text.charCodeAt(index); index < text.length; code = text.charCodeAt(++index)) {
      if (isWhitespace(code) || code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET) break;
    }
    return { end: index, depth: 0 };
  }
  let depth = 0;
  let deepest = 0;
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = endOfString(text, index);
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > deepest) deepest = depth;
    } else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) {
      return { end: index + 1, depth: deepest };
    }
    index++;
  }
  return { end: index, depth: deepest };
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && isWhitespace(text.charCodeAt(index))) index++;
  return index;
}

/** The key of the string token text[start, end), unescaped only when it holds an escape. */
function keyOf(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : inner;
}

/** The value text of each top-level member of a JSON object's text (the last one of a repeated key). */
export function memberTexts(objectText: string): Map<string, { text: string; depth: number }> {
  const members = new Map<string, { text: string; depth: number }>();
  let index = skipWhitespace(objectText, 0) + 1; // past '{'
  for (;;) {
    index = skipWhitespace(objectText, index);
    if (objectText.charCodeAt(index) !== QUOTE) return members;
    const keyEnd = endOfString(objectText, index);
    const key = keyOf(objectText, index, keyEnd);
    index = skipWhitespace(objectText, skipWhitespace(objectText, keyEnd) + 1); // past ':'
    const value = endOfValue(objectText, index);
    members.set(key, { text: objectText.slice(index, value.end), depth: value.depth });
    index = skipWhitespace(objectText, value.end);
    if (objectText.charCodeAt(index) !== COMMA) return members;
    index++;
  }
}

/** The same JSON without insignificant whitespace: one line, ready for an SSE `data:` field. */
export function compactJsonText(text: string): string {
  // Most publishers send compact JSON: one native scan proves there is nothing to drop.
  if (!ANY_WHITESPACE.test(text)) return text;
  const kept: string[] = [];
  let segmentStart = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = endOfString(text, index);
    } else if (isWhitespace(code)) {
      // Keep whole runs of tokens as slices: no per-character string building.
      if (index > segmentStart) kept.push(text.slice(segmentStart, index));
      index = skipWhitespace(text, index);
      segmentStart = index;
    } else {
      index++;
    }
  }
  if (segmentStart === 0) return text;
  if (segmentStart < text.length) kept.push(text.slice(segmentStart));
  return kept.join('');
}
