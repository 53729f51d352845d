// The /doctor page: runs the checks (observe.js) and shows the verdicts of the doctor's judge,
// the same module `ssehub doctor` judges with. Text only: nothing observed is put in as HTML.
import { anyFailed, judge } from './judge.js';
import { observe } from './observe.js';

const status = document.getElementById('status');
const statusText = document.getElementById('status-text');
const form = document.getElementById('doctor-form');
const runButton = document.getElementById('run-button');
const idleInput = document.getElementById('idle-input');
const list = document.getElementById('verdicts');
const summary = document.getElementById('summary');

/** `state`: running, done (all passed or warned), problems (a check failed), failed (could not run). */
function setState(state, text) {
  document.body.dataset.state = state === 'problems' ? 'done' : state;
  status.dataset.state = state === 'done' ? 'connected' : state === 'running' ? 'connecting' : 'offline';
  statusText.textContent = text;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text with `code` spans, as the judge writes its fixes, built from text nodes only. */
function withCode(tag, className, text) {
  const node = element(tag, className);
  text.split('`').forEach((part, index) => node.append(index % 2 === 1 ? element('code', '', part) : document.createTextNode(part)));
  return node;
}

function show(results) {
  list.replaceChildren(
    ...results.map((result) => {
      const item = element('li', 'verdict');
      item.dataset.verdict = result.verdict;
      item.dataset.check = result.check;
      const head = element('div', 'verdict-head');
      head.append(element('span', 'verdict-badge', result.verdict), element('span', 'verdict-check', result.check));
      item.append(head, element('p', 'verdict-saw', result.saw));
      if (result.fix !== undefined) item.append(withCode('p', 'verdict-fix', `Fix: ${result.fix}`));
      return item;
    }),
  );
  const failed = results.filter((result) => result.verdict === 'FAIL').length;
  const warned = results.filter((result) => result.verdict === 'WARN').length;
  summary.textContent = failed > 0 ? `${failed} failed, ${warned} warned` : warned > 0 ? `No failures, ${warned} warned` : 'All checks passed';
}

async function run() {
  const idleSeconds = Math.max(0, Math.min(600, Math.floor(Number(idleInput.value) || 0)));
  runButton.disabled = true;
  list.replaceChildren();
  summary.textContent = '';
  setState('running', idleSeconds > 0 ? `Checking (about ${idleSeconds} s)…` : 'Checking…');
  try {
    const results = judge(await observe(idleSeconds));
    show(results);
    if (anyFailed(results)) setState('problems', 'Problems found');
    else setState('done', 'Checked');
  } catch (error) {
    summary.textContent = `The checks could not run: ${error instanceof Error ? error.message : String(error)}`;
    setState('failed', 'Could not check');
  } finally {
    runButton.disabled = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void run();
});
void run();
