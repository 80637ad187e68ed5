// The "Shared with me" tab: incoming shares (verified in this browser, shares.js), accept
// one after the person compared the sharer's safety number, open a shared folder as
// `@name` or download a file shared as `@shared/NAME`.
import { accept, incoming, sharerSafetyNumber, top } from "./shares.js";
import { $, el, message, size, status } from "./ui.js";

const button = (text, action, click) => el("button", { type: "button", text, "data-action": action, on: { click } });

/** ctx: {vault, openFolder(folder), download(entry, space)} */
export async function showShared(ctx) {
  status("Checking the shares made with you…");
  const shares = await incoming(ctx.vault);
  const rows = [];
  for (const s of shares) {
    const { item } = s;
    const role = item.role === "write" ? "read-write" : "read-only";
    let what;
    const actions = el("td", { class: "actions" });
    if (!item.accepted || s.problem?.unpinned) {
      what = item.accepted ? "accepted on another device: verify the sharer to open it here" : "waiting for you";
      if (s.problem && !s.problem.unpinned) what += ` — NOT VERIFIED: ${message(s.problem)}`;
      actions.append(button(item.accepted ? "Verify" : "Accept", "accept", () => acceptClicked(ctx, item)));
    } else if (!s.mount) {
      what = `NOT VERIFIED: ${message(s.problem)}`;
    } else {
      const shown = await top(ctx.vault, s.mount).catch((e) => ({ problem: e }));
      what = shown.problem ? `NOT VERIFIED: ${message(shown.problem)}` : `@${s.name}`;
      if (shown.problem) {
        // its top folder does not verify: never shown by name
      } else if (shown.file) {
        actions.append(button("Download", "download", () => ctx.download(shown.file, s.mount.space)));
        what += ` (${size(shown.file.size)})`;
      } else {
        const folder = { ...shown.folder, name: `@${s.name}` };
        actions.append(button("Open", "open", () => ctx.openFolder(folder)));
      }
    }
    rows.push(el("tr", { "data-id": item.id, "data-state": item.accepted ? "accepted" : "pending" },
      el("td", { class: "share-name", text: what }), el("td", { text: item.owner_email }), el("td", { text: role }), actions));
  }
  $("shared").tBodies[0].replaceChildren(...rows);
  $("shared-empty").hidden = rows.length > 0;
  status(rows.length ? "Shares listed; every one shown by name was verified in this browser." : "Nobody shared anything with you yet.", "ok");
}

async function acceptClicked(ctx, item) {
  let safety;
  try {
    safety = await sharerSafetyNumber(ctx.vault, item); // a changed pinned key stops here
  } catch (e) {
    status(`Accept: ${message(e)}`, "error");
    return;
  }
  if (!safety.pinned) {
    const ok = confirm(
      `Accept the share from ${item.owner_email}?\n\nFirst compare their safety number with the one they see ` +
        `(\`blindvault fingerprint\` on their side), out of band — in person or by phone:\n\n${safety.number}\n\n` +
        "Accept only if the two are the same. This browser then remembers their key and refuses it if it ever changes.",
    );
    if (!ok) {
      status("Not accepted: nothing was changed.", "info");
      return;
    }
  }
  status(`Accepting the share from ${item.owner_email}…`);
  try {
    const name = await accept(ctx.vault, item);
    await showShared(ctx);
    status(`Accepted the share from ${item.owner_email}: it is at ${name}.`, "ok");
  } catch (e) {
    status(`Accept: ${message(e)}`, "error");
  }
}
