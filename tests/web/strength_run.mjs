// The web vault's password strength rule in Node, as the page runs it: the vendored
// @zxcvbn-ts bundles and app/strength-worker.js in one vm context (as loader.js
// concatenates them into one worker), app/strength.js deciding. Used by strength.test.mjs
// and, as a script (JSON [[password, email], ...] on stdin, decisions on stdout), by
// test_strength_parity.py to compare with the CLI's rule.
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, "..", "..", "src", "blindvault", "web");
const hook = `
const target = ${JSON.stringify(pathToFileURL(join(web, "linkcore.js")).href)};
export async function resolve(specifier, context, next) {
  return specifier === "/s/assets/linkcore.js" ? { url: target, shortCircuit: true } : next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

export const strength = await import(pathToFileURL(join(web, "app", "strength.js")).href);
const PARTS = ["vendor/zxcvbn-ts-core.js", "vendor/zxcvbn-ts-language-common.js", "vendor/zxcvbn-ts-language-en.js", "strength-worker.js"];
const source = PARTS.map((p) => readFileSync(join(web, "app", p), "utf8")).join("\n;\n");

let context = null; // the bundles load once (~1.7 MB); each "worker" talks to it in turn
let current = null;

/** A Worker-like object running the concatenated strength worker (one at a time). */
export function strengthWorker() {
  const page = { onmessage: null, onerror: null, terminated: false };
  if (!context) {
    const self = { postMessage: (m) => setImmediate(() => current?.onmessage?.({ data: m })) };
    context = vm.createContext({ self });
    vm.runInContext("var self = this.self;", context);
    vm.runInContext(source, context);
  }
  current = page;
  page.postMessage = (m) => setImmediate(() => context.self.onmessage({ data: m }));
  page.terminate = () => (page.terminated = true);
  return page;
}

export const estimate = strength.workerEstimate(async () => strengthWorker());

/** [accepted, score] for each [password, email], by the page's rule. */
export async function decide(cases) {
  const out = [];
  for (const [password, email] of cases) {
    try {
      const r = await strength.checkNewPassword(password, email, estimate);
      out.push([true, r.score]);
    } catch (e) {
      if (!(e instanceof strength.WeakPasswordError)) throw e;
      out.push([false, e.estimate.score]);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cases = JSON.parse(readFileSync(0, "utf8"));
  process.stdout.write(JSON.stringify(await decide(cases)));
}
