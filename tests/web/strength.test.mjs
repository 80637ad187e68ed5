// The web vault's password strength check (app/strength.js + the pinned worker), in Node.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decide, estimate, strength, strengthWorker } from "./strength_run.mjs";

test("weak passwords are refused with zxcvbn's feedback and the guessing time; strong ones pass", async () => {
  await assert.rejects(
    strength.checkNewPassword("abc", "new@example.org", estimate),
    (e) =>
      e instanceof strength.WeakPasswordError &&
      e.name === "WeakPasswordError" &&
      /strength 0 of 4; at least 3/.test(e.message) &&
      /sequences/i.test(e.message) &&
      /Argon2id guesses a second/.test(e.message),
  );
  const ok = await strength.checkNewPassword("kitten-oyster-radar-mango-fluent-elbow", "new@example.org", estimate);
  assert.equal(ok.score, 4);
});

test("the email and 'blindvault' count against the password (the CLI's user inputs)", async () => {
  assert.deepEqual(strength.userInputs("ann@example.org"), ["ann@example.org", "ann", "example.org", "blindvault"]);
  const [[accepted]] = await decide([["annblindvault", "ann@example.org"]]);
  assert.equal(accepted, false);
  assert.ok((await estimate({ password: "annblindvault", userInputs: [] })).score >= strength.MIN_SCORE);
});

test("'use it anyway' skips the estimate, as --accept-weak-password", async () => {
  let asked = false;
  const r = await strength.checkNewPassword("abc", "a@example.org", async () => { asked = true; }, { acceptWeak: true });
  assert.equal(r, null);
  assert.equal(asked, false);
});

test("the threshold is the CLI's (score 3): a score-2 password is refused, score 3 passes", async () => {
  const fake = (score) => async () => ({ score, guesses: 10 ** (score * 3), warning: "", suggestions: [] });
  await assert.rejects(strength.checkNewPassword("x", "a@example.org", fake(2)), strength.WeakPasswordError);
  assert.equal((await strength.checkNewPassword("x", "a@example.org", fake(3))).score, 3);
  assert.equal(strength.MIN_SCORE, 3);
});

test("the worker ends after each estimate", async () => {
  const w = strengthWorker();
  await strength.workerEstimate(async () => w)({ password: "abc", userInputs: [] });
  assert.ok(w.terminated);
});
