/**
 * Reads JSON text that JSON.parse already accepted, without re-encoding it, so numbers beyond
 * double precision (64-bit ids) and every other detail of a value pass through byte for byte.
 */

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/** Index just past the string token that starts at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === '"') return index + 1;
    else index++;
  }
  return index;
}

/** Index just past the value that starts at `start`, and the deepest nesting inside it. */
function endOfValue(text: string, start: number): { end: number; depth: number } {
  const first = text[start];
  if (first === '"') return { end: endOfString(text, start), depth: 0 };
  if (first !== '{' && first !== '[') {
    let index = start;
    while (index < text.length && !WHITESPACE.has(text[index] as string) && !',}]'.includes(text[index] as string)) index++;
    return { end: index, depth: 0 };
  }
  let depth = 0;
  let deepest = 0;
  let index = start;
  while (index < text.length) {
    const char = text[index] as string;
    if (char === '"') {
      index = endOfString(text, index);
      continue;
    }
    if (char === '{' || char === '[') deepest = Math.max(deepest, ++depth);
    else if ((char === '}' || char === ']') && --depth === 0) return { end: index + 1, depth: deepest };
    index++;
  }
  return { end: index, depth: deepest };
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && WHITESPACE.has(text[index] as string)) index++;
  return index;
}

/** The value text of each top-level member of a JSON object's text (the last one of a repeated key). */
export function memberTexts(objectText: string): Map<string, { text: string; depth: number }> {
  const members = new Map<string, { text: string; depth: number }>();
  let index = skipWhitespace(objectText, 0) + 1; // past '{'
  for (;;) {
    index = skipWhitespace(objectText, index);
    if (objectText[index] !== '"') return members;
    const keyEnd = endOfString(objectText, index);
    const key = JSON.parse(objectText.slice(index, keyEnd)) as string;
    index = skipWhitespace(objectText, skipWhitespace(objectText, keyEnd) + 1); // past ':'
    const value = endOfValue(objectText, index);
    members.set(key, { text: objectText.slice(index, value.end), depth: value.depth });
    index = skipWhitespace(objectText, value.end);
    if (objectText[index] !== ',') return members;
    index++;
  }
}

/** The same JSON without insignificant whitespace: one line, ready for an SSE `data:` field. */
export function compactJsonText(text: string): string {
  const kept: string[] = [];
  let segmentStart = 0;
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (char === '"') {
      index = endOfString(text, index);
    } else if (WHITESPACE.has(char)) {
      // Keep whole runs of tokens as slices: no per-character string building.
      if (index > segmentStart) kept.push(text.slice(segmentStart, index));
      while (index < text.length && WHITESPACE.has(text[index] as string)) index++;
      segmentStart = index;
    } else {
      index++;
    }
  }
  if (segmentStart === 0) return text;
  if (segmentStart < text.length) kept.push(text.slice(segmentStart));
  return kept.join('');
}
