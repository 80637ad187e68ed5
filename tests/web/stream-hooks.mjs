// Node module hooks for stream.test.mjs: the browser modules import their siblings by the
// absolute paths the server serves them at; map those to the source files.
const WEB = new URL("../../src/blindvault/web/", import.meta.url);

export async function resolve(specifier, context, next) {
  if (specifier.startsWith("/s/assets/")) {
    return { url: new URL(specifier.slice("/s/assets/".length), WEB).href, shortCircuit: true };
  }
  if (specifier.startsWith("/sw/")) {
    return { url: new URL(`stream/${specifier.slice("/sw/".length)}`, WEB).href, shortCircuit: true };
  }
  return next(specifier, context);
}
