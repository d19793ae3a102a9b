// Sending the waiting actions (issue 18): oldest first, at most BATCH a request, each with
// the client id made when it was done, so a repeat after a lost answer is recognised by the
// server and applied once. Nothing leaves the queue unless the server answered for it:
// a network error, a 5xx or any answer that is not the expected JSON keeps everything.

import * as store from "./store.js";

export const BATCH = 100;

// Outcomes of one sync, for the page to say what happened.
export const OFFLINE = "offline";
export const SIGN_IN = "sign_in";
export const FAILED = "failed";
export const DONE = "done";

let running = null;

export function syncNow(options) {
  // One sync at a time: the "online" event and a tap on the button may come together.
  if (!running) {
    running = send(options).finally(() => {
      running = null;
    });
  }
  return running;
}

async function send({ url, csrfToken, owner }) {
  const summary = { outcome: DONE, applied: 0, refused: 0, conflict: 0, skew: null, status: 0 };
  const waiting = (await store.queueOf(owner)).filter((action) => action.state === "waiting");
  for (let start = 0; start < waiting.length; start += BATCH) {
    const batch = waiting.slice(start, start + BATCH);
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken || "",
        },
        body: JSON.stringify({
          device_time: store.localIso(),
          actions: batch.map(({ client_id, kind, done_at, data }) => ({
            client_id,
            kind,
            done_at,
            data,
          })),
        }),
      });
    } catch (error) {
      return { ...summary, outcome: OFFLINE };
    }
    if (response.status === 401 || response.status === 403) {
      return { ...summary, outcome: SIGN_IN, status: response.status };
    }
    let answer = null;
    if (response.ok) {
      try {
        answer = await response.json();
      } catch (error) {
        answer = null;
      }
    }
    if (!answer || !Array.isArray(answer.results)) {
      return { ...summary, outcome: response.status >= 500 ? OFFLINE : FAILED, status: response.status };
    }
    if (typeof answer.clock_skew_seconds === "number") summary.skew = answer.clock_skew_seconds;
    await apply(batch, answer.results, summary);
  }
  return summary;
}

async function apply(batch, results, summary) {
  const sent = new Map(batch.map((action) => [action.client_id, action]));
  const applied = [];
  for (const result of results) {
    const action = sent.get(result.client_id);
    if (!action) continue; // not ours: never delete on an answer we did not ask for
    if (result.status === "applied") {
      applied.push(action.client_id);
      summary.applied += 1;
    } else if (result.status === "refused" || result.status === "conflict") {
      summary[result.status] += 1;
      await store.putAction({
        ...action,
        state: result.status,
        message: result.message || "",
        errors: result.errors || {},
        server: result.server || null,
        received_at: result.received_at || null,
      });
    }
  }
  if (applied.length) await store.deleteActions(applied);
}
