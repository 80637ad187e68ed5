// Password strength off the main thread (a classic worker script). The page builds this
// worker from the vendored @zxcvbn-ts bundles (core, language-common, language-en) and
// this file after checking all four against the SHA-384 hashes it pins (loader.js); the
// dictionaries (~1.7 MB) are loaded only when a new password is checked.
// In: {password, userInputs}. Out: {ok: true, score, guesses, warning, suggestions}.
/* global zxcvbnts */
let strengthFactory = null;

function strengthEstimator() {
  if (!strengthFactory) {
    const common = zxcvbnts["language-common"];
    const en = zxcvbnts["language-en"];
    strengthFactory = new zxcvbnts.core.ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
    });
  }
  return strengthFactory;
}

self.onmessage = async (event) => {
  const { password, userInputs } = event.data;
  try {
    const r = await strengthEstimator().check(password, userInputs);
    self.postMessage({
      ok: true, score: r.score, guesses: r.guesses, warning: r.feedback.warning || "", suggestions: r.feedback.suggestions,
    });
  } catch (e) {
    self.postMessage({ ok: false, message: String(e && e.message) });
  }
};
