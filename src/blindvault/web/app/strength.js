// Strength of a new password (issue 20), with the CLI's rule (cli/strength.py): zxcvbn
// (@zxcvbn-ts in a pinned worker) with the email, its two halves and "blindvault" as user
// inputs, on the first 100 characters; below MIN_SCORE the password is refused with the
// estimate's own feedback and the offline guessing time at our Argon2id cost, unless the
// user explicitly keeps it (the form's "use it anyway", like --accept-weak-password).
import { PolicyError } from "./formats.js";

export const MIN_SCORE = 3; // zxcvbn 0..4; the same threshold as cli/strength.py
export const ARGON2_GUESSES_PER_SECOND = 1000; // as cli/strength.py: 100 cores at ~0.1 s each
const YEAR = 365.25 * 24 * 3600;

export class WeakPasswordError extends PolicyError {
  constructor(message, estimate) {
    super(message);
    this.name = "WeakPasswordError";
    this.estimate = estimate;
  }
}

/** The user inputs zxcvbn penalizes, as the CLI gives them. */
export function userInputs(email) {
  return [email, ...email.split("@"), "blindvault"];
}

function duration(seconds) {
  for (const [unit, size] of [["years", YEAR], ["days", 86400], ["hours", 3600], ["minutes", 60]]) {
    if (seconds >= size) return `${Math.round(seconds / size).toLocaleString("en-US")} ${unit}`;
  }
  return "less than a minute";
}

/**
 * Throws WeakPasswordError unless `password` scores at least MIN_SCORE; `estimate` is
 * ({password, userInputs}) => {score, guesses, warning, suggestions} (the worker's answer).
 */
export async function checkNewPassword(password, email, estimate, { acceptWeak = false } = {}) {
  if (acceptWeak) return null;
  const r = await estimate({ password: String(password).slice(0, 100), userInputs: userInputs(email) });
  if (r.score >= MIN_SCORE) return r; // mutant: web.weak-password-refused [accept]
  const tips = [r.warning, ...r.suggestions].filter(Boolean).join(" ") || "Add another word or two.";
  throw new WeakPasswordError(
    `This password is too weak (strength ${r.score} of 4; at least ${MIN_SCORE} is needed): about 10^${Math.round(Math.log10(Math.max(r.guesses, 1)))} guesses, ` +
      `${duration(r.guesses / ARGON2_GUESSES_PER_SECOND)} offline at ${ARGON2_GUESSES_PER_SECOND} Argon2id guesses a second. ${tips} Nothing was sent.`,
    r,
  );
}

/** The estimator in the pinned worker; one worker per call, ended after. */
export function workerEstimate(makeWorker) {
  return async (args) => {
    const worker = await makeWorker();
    try {
      return await new Promise((resolve, reject) => {
        worker.onmessage = (e) => (e.data.ok ? resolve(e.data) : reject(new Error(e.data.message)));
        worker.onerror = () => reject(new Error("the password strength worker failed"));
        worker.postMessage(args);
      });
    } finally {
      worker.terminate();
    }
  };
}
