// The field app's page (issue 18): draws everything from the phone's IndexedDB copy
// (store.js), saves what the collector does as waiting actions, and sends them (sync.js).
// The page works the same online and offline; being online only adds the refresh of the
// grid's data and the sending. Strings come translated from the shell (views.STRINGS).

import * as store from "./store.js";
import * as sync from "./sync.js";
import { mountVerify } from "./verify.js";

const strings = JSON.parse(document.getElementById("field-strings").textContent);
const urls = JSON.parse(document.getElementById("field-urls").textContent);

const state = {
  bundle: null, // meta "bundle": user, csrf_token, actions, grids, generated_at
  people: [],
  todos: {},
  houses: [],
  picklists: {},
  queue: [],
  view: "people",
  person: null, // the person whose card is open
  form: null, // {kind, context, action (when fixing a refused one)}
  search: "",
  signIn: false,
  storage: true,
};

// --- small helpers ---------------------------------------------------------------------

function t(key, params = {}) {
  const text = strings[key] ?? key;
  return String(text).replace(/%\((\w+)\)s/g, (whole, name) => (name in params ? params[name] : whole));
}

function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "testid") element.dataset.testid = value;
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function today() {
  return store.localIso().slice(0, 10);
}

function when(iso) {
  return iso ? iso.replace("T", " ").slice(0, 16) : "";
}

// ID numbers are shown masked everywhere but the form that types one.
function mask(number) {
  const text = String(number || "");
  return text.length > 10 ? text.slice(0, 6) + "*".repeat(text.length - 10) + text.slice(-4) : text;
}

function notify(message, kind = "info") {
  const box = document.querySelector("[data-testid=field-messages]");
  box.replaceChildren(h("p", { class: `flash ${kind === "error" ? "error" : ""}`, testid: "field-message", "data-kind": kind }, message));
}

function online() {
  return navigator.onLine !== false;
}

function may(kind) {
  return Boolean(state.bundle && (state.bundle.actions || []).includes(kind));
}

function personName(id) {
  const person = state.people.find((p) => p.id === id);
  return person ? person.name : t("person_unknown", { id });
}

function choices(list) {
  return (list || []).map((item) => ({ value: item.value ?? item.code ?? item.id, label: item.label ?? item.name }));
}

// --- reading the copy ------------------------------------------------------------------

async function load() {
  try {
    state.bundle = (await store.get("meta", "bundle")) || null;
    state.people = await store.getAll("people");
    const todos = await store.getAll("todos");
    state.todos = Object.fromEntries(todos.map((row) => [row.key, row.items]));
    const lists = Object.fromEntries((await store.getAll("lists")).map((row) => [row.key, row.items]));
    state.houses = lists.rental_houses || [];
    state.picklists = lists.picklists || {};
    state.queue = await store.queueOf(state.bundle ? state.bundle.user.id : null);
  } catch (error) {
    state.storage = false;
  }
}

async function refresh() {
  await load();
  render();
}

// --- online work: the bundle and the sync ----------------------------------------------

async function fetchBundle() {
  let response;
  try {
    response = await fetch(urls.bundle, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch (error) {
    return false;
  }
  if (response.status === 401 || response.status === 403) {
    state.signIn = true;
    return false;
  }
  if (!response.ok) return false;
  const bundle = await response.json();
  // Another account on this phone: saveBundle replaces every cached record of the previous
  // one; that account's waiting actions stay in the queue under its id, unseen and unsent.
  await store.saveBundle(bundle);
  state.signIn = false;
  return true;
}

// While the page talks to the server, body[data-busy] says so (tests and the sync button
// wait for it; nothing else depends on it).
let busy = 0;

async function working(task) {
  busy += 1;
  document.body.dataset.busy = "1";
  try {
    return await task();
  } finally {
    busy -= 1;
    if (!busy) delete document.body.dataset.busy;
  }
}

function sendWaiting(options) {
  return working(() => sendNow(options));
}

async function sendNow({ quiet = false } = {}) {
  if (!state.bundle) return;
  const button = document.querySelector("[data-testid=field-sync]");
  button.disabled = true;
  button.textContent = t("syncing");
  let result;
  try {
    result = await sync.syncNow({ url: urls.sync, csrfToken: state.bundle.csrf_token, owner: state.bundle.user.id });
  } finally {
    button.textContent = t("sync");
  }
  if (result.outcome === sync.SIGN_IN) {
    state.signIn = true;
  } else if (result.outcome === sync.OFFLINE) {
    if (!quiet) notify(t("send_failed"), "error");
  } else if (result.outcome === sync.FAILED) {
    notify(t("send_error", { status: result.status }), "error");
  } else if (result.applied || result.refused || result.conflict || !quiet) {
    let message = t("sent_summary", result);
    if (result.skew !== null && Math.abs(result.skew) >= 600) {
      message += " " + t("skew_warning", { minutes: Math.round(result.skew / 60) });
    }
    notify(message, result.refused || result.conflict ? "error" : "info");
  }
  if (result.outcome === sync.DONE && result.applied) await fetchBundle(); // the files changed
  await refresh();
}

// body[data-rounds]: how many times the page refreshed and sent (tests wait for the next).
let rounds = 0;

async function goOnline(options) {
  try {
    return await working(() => refreshAndSend(options));
  } finally {
    rounds += 1;
    document.body.dataset.rounds = String(rounds);
  }
}

async function refreshAndSend({ quiet = true } = {}) {
  if (!online()) return;
  await fetchBundle();
  await load();
  if (state.bundle && !state.signIn && state.queue.some((action) => action.state === "waiting")) {
    await sendNow({ quiet });
  } else {
    render();
  }
}

// --- saving an action ------------------------------------------------------------------

async function save(kind, data, fixing) {
  if (!state.bundle) throw new Error(t("sign_in_first"));
  if (fixing) {
    return store.putAction({ ...fixing, data, state: "waiting", message: "", errors: {}, server: null });
  }
  const seen = data.person ? state.people.find((person) => person.id === data.person) || null : null;
  return store.enqueue(state.bundle.user.id, kind, data, seen);
}

function savingFailed(error) {
  if (error && (error.name === "QuotaExceededError" || /quota/i.test(String(error.message)))) {
    notify(t("not_saved_full"), "error");
  } else {
    notify(t("not_saved", { error: (error && (error.message || error.name)) || "?" }), "error");
  }
}

// --- forms -----------------------------------------------------------------------------

const FORMS = {
  arrival: () => [
    { name: "id_number", required: true, attrs: { autocomplete: "off", autocapitalize: "characters", spellcheck: "false" } },
    { name: "name", required: true },
    { name: "sex", type: "select", options: choices(state.picklists.sexes), help: t("sex_from_id") },
    { name: "birth_date", type: "date", help: t("sex_from_id") },
    { name: "marital_status", type: "select", required: true, options: strings.choices.marital_status },
    { name: "phone", attrs: { type: "tel", inputmode: "tel" } },
    { name: "household_region", help: t("household_region_help"), attrs: { inputmode: "numeric" } },
    { name: "residence_region", type: "select", required: true, options: choices(state.picklists.regions) },
    { name: "residence_address" },
    { name: "arrival_date", type: "date", required: true, initial: today },
    { name: "reason", type: "select", options: choices(state.picklists.reasons) },
    { name: "employer" },
  ],
  departure: () => [
    { name: "departure_date", type: "date", required: true, initial: today },
    { name: "destination_region", attrs: { inputmode: "numeric" } },
    { name: "destination_place" },
  ],
  service: () => [
    { name: "service_type", type: "select", required: true, options: choices(state.picklists.service_types) },
    { name: "given_on", type: "date", required: true, initial: today },
    { name: "consent", type: "checkbox", required: true },
    // No free note: a service record has none (its result is health data the station
    // keeps), and a note the server would drop must not be asked for.
  ],
  hazard: () => [
    { name: "rental_house", type: "select", required: true, options: state.houses.map((house) => ({ value: house.id, label: house.address })) },
    { name: "found_on", type: "date", required: true, initial: today },
    { name: "description", type: "textarea", required: true },
    { name: "deadline", label: "deadline_label", type: "date", required: true },
  ],
  rectification: () => [
    { name: "rectified_on", type: "date", required: true, initial: today },
    { name: "note", type: "textarea" },
  ],
};

// What each kind carries besides its form's fields (the person or hazard it is about).
function contextData(kind, context) {
  if (kind === "arrival") return { person: null, person_version: null };
  if (kind === "departure" || kind === "service") return { person: context.id, person_version: context.version };
  if (kind === "rectification") return { safety_issue: context.id };
  return {};
}

function field(spec, values, errors) {
  const label = t(spec.label || spec.name);
  const value = values[spec.name] ?? (spec.initial ? spec.initial() : "");
  const attrs = { name: spec.name, id: `field-${spec.name}`, required: spec.required && spec.type !== "checkbox", ...(spec.attrs || {}) };
  let input;
  if (spec.type === "select") {
    input = h(
      "select",
      attrs,
      h("option", { value: "" }, t("choose")),
      (spec.options || []).map((option) => h("option", { value: option.value, selected: String(option.value) === String(value) }, option.label)),
    );
  } else if (spec.type === "textarea") {
    input = h("textarea", { ...attrs, rows: 3 }, value);
  } else if (spec.type === "checkbox") {
    input = h("input", { ...attrs, type: "checkbox", checked: value === true });
    return h("label", { class: "field-check" }, input, " ", label, fieldErrors(spec.name, errors));
  } else {
    input = h("input", { type: spec.type || "text", ...attrs, value });
  }
  if (errors[spec.name]) input.setAttribute("aria-invalid", "true");
  return h("label", {}, label, input, spec.help ? h("small", {}, spec.help) : null, fieldErrors(spec.name, errors));
}

function fieldErrors(name, errors) {
  const list = errors[name];
  if (!list || !list.length) return null;
  return h("ul", { class: "errorlist", testid: "field-error", "data-field": name }, list.map((item) => h("li", {}, item)));
}

function formFor(kind, context, fixing) {
  const specs = FORMS[kind]();
  const values = fixing ? fixing.data : {};
  const errors = fixing ? fixing.errors || {} : {};
  const form = h(
    "form",
    { testid: `field-form-${kind}`, class: "field-form", novalidate: true },
    h("h3", {}, t(kind)),
    context && context.name ? h("p", { class: "meta" }, context.name, " ", context.masked_id || "") : null,
    context && context.description ? h("p", { class: "meta" }, context.house || "", " ", context.description) : null,
    errors.__all__ || errors.non_field_errors ? h("p", { class: "flash error" }, [].concat(errors.__all__ || [], errors.non_field_errors || []).join(" ")) : null,
    specs.map((spec) => field(spec, values, errors)),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", testid: "field-form-save" }, t("save")),
      h("button", { type: "button", class: "secondary", testid: "field-form-cancel", onclick: () => closeForm() }, t("cancel")),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = { ...(fixing ? fixing.data : contextData(kind, context)) };
    const missing = {};
    for (const spec of specs) {
      const input = form.elements[spec.name];
      let value = spec.type === "checkbox" ? input.checked : input.value.trim();
      if (spec.type === "select" && spec.name === "rental_house" && value) value = Number(value);
      if (spec.required && (value === "" || value === false)) {
        missing[spec.name] = [spec.name === "consent" ? t("consent_required") : t("required")];
      }
      data[spec.name] = value === "" ? "" : value;
    }
    if (Object.keys(missing).length) {
      form.querySelectorAll("[data-testid=field-error]").forEach((node) => node.remove());
      for (const [name, list] of Object.entries(missing)) {
        form.elements[name].closest("label").append(fieldErrors(name, { [name]: list }));
      }
      return;
    }
    if (kind === "arrival" && !data.household_region && /^\d{6}/.test(data.id_number)) {
      data.household_region = data.id_number.slice(0, 6);
    }
    try {
      await save(kind, data, fixing);
    } catch (error) {
      savingFailed(error); // the form stays as typed
      return;
    }
    notify(t("saved"));
    state.form = null;
    state.person = null;
    if (fixing) state.view = "queue";
    await refresh();
    if (online()) sendWaiting({ quiet: true });
  });
  return form;
}

function openForm(kind, context = null, fixing = null) {
  state.form = { kind, context, fixing };
  render();
  window.scrollTo(0, 0);
}

function closeForm() {
  state.form = null;
  render();
}

// --- sections --------------------------------------------------------------------------

const TABS = [
  ["people", "tab_people"],
  ["todos", "tab_todos"],
  ["arrival", "tab_arrival", "arrival"],
  ["places", "tab_places", "hazard"],
  ["verify", "tab_verify", "verification"],
  ["queue", "tab_queue"],
];

function viewPeople() {
  if (state.person) return personCard(state.person);
  const query = state.search.trim().toLowerCase();
  const found = state.people.filter(
    (person) => !query || person.name.toLowerCase().includes(query) || (person.masked_id || "").toLowerCase().includes(query),
  );
  const search = h("input", {
    type: "search",
    value: state.search,
    placeholder: t("search"),
    "aria-label": t("search"),
    testid: "field-search",
    oninput: (event) => {
      state.search = event.target.value;
      const list = document.querySelector("[data-testid=field-people]");
      list.replaceWith(peopleList());
    },
  });
  function peopleList() {
    const q = state.search.trim().toLowerCase();
    const rows = state.people.filter(
      (person) => !q || person.name.toLowerCase().includes(q) || (person.masked_id || "").toLowerCase().includes(q),
    );
    return h(
      "ul",
      { class: "field-list", testid: "field-people" },
      rows.length ? null : h("li", { class: "meta" }, t("no_people")),
      rows.slice(0, 200).map((person) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "field-row", testid: "field-person", "data-person": person.id, onclick: () => { state.person = person; render(); } },
            h("strong", {}, person.name),
            h("span", { class: "code" }, person.masked_id),
            h("small", {}, person.address || person.region_name || ""),
          ),
        ),
      ),
    );
  }
  return h(
    "section",
    { testid: "field-section-people" },
    h("p", { class: "meta" }, t("people_count", { count: state.people.length })),
    search,
    found ? peopleList() : null,
  );
}

function personCard(person) {
  return h(
    "section",
    { testid: "field-person-card" },
    h("button", { type: "button", class: "link", onclick: () => { state.person = null; render(); } }, "‹ ", t("back")),
    h("h3", {}, person.name),
    h(
      "dl",
      { class: "field-facts" },
      h("dt", {}, t("id_number")),
      h("dd", { class: "code" }, person.masked_id),
      h("dt", {}, t("residence_address")),
      h("dd", {}, person.region_name || "", " ", person.address || ""),
      h("dt", {}, t("arrival_date")),
      h("dd", {}, person.arrival_date || ""),
      h("dt", {}, t("verification")),
      h("dd", {}, person.verified_on ? t("verified_on", { date: person.verified_on }) : t("not_verified")),
    ),
    h(
      "div",
      { class: "actions field-do" },
      may("departure") ? h("button", { type: "button", testid: "field-do-departure", onclick: () => openForm("departure", person) }, t("departure")) : null,
      may("service") ? h("button", { type: "button", testid: "field-do-service", onclick: () => openForm("service", person) }, t("service")) : null,
      may("verification") ? h("button", { type: "button", testid: "field-do-verification", onclick: () => go("verify") }, t("verification")) : null,
    ),
  );
}

function viewTodos() {
  const unverified = state.todos.unverified || [];
  const followUps = state.todos.follow_ups || [];
  const hazards = state.todos.hazards || [];
  const block = (title, testid, items, line) =>
    h("section", { testid }, h("h3", {}, title, " ", h("small", {}, String(items.length))), items.length ? h("ul", { class: "field-list" }, items.map(line)) : h("p", { class: "meta" }, t("nothing_due")));
  return h(
    "div",
    {},
    block(t("unverified"), "field-todo-unverified", unverified, (item) =>
      h("li", { class: item.overdue ? "overdue" : "" }, personName(item.person), " · ", t("arrived", { date: item.arrival_date }), item.overdue ? h("mark", {}, t("overdue")) : null),
    ),
    block(t("follow_ups"), "field-todo-follow-ups", followUps, (item) => h("li", {}, personName(item.person), " · ", item.what || "", " · ", t("due_on", { date: item.due_on }))),
    block(t("hazards"), "field-todo-hazards", hazards, hazardLine),
  );
}

function hazardLine(item) {
  return h(
    "li",
    { class: item.overdue ? "overdue" : "" },
    h("strong", {}, item.house || ""),
    " ",
    item.description || "",
    " · ",
    t("deadline", { date: item.deadline }),
    item.overdue ? h("mark", {}, t("overdue")) : null,
    may("rectification") ? h("button", { type: "button", class: "outline field-inline", testid: "field-do-rectification", "data-hazard": item.id, onclick: () => openForm("rectification", item) }, t("rectification")) : null,
  );
}

function viewPlaces() {
  return h(
    "section",
    { testid: "field-section-places" },
    may("hazard") ? h("button", { type: "button", testid: "field-do-hazard", onclick: () => openForm("hazard") }, t("hazard")) : null,
    h("h3", {}, t("hazards")),
    (state.todos.hazards || []).length ? h("ul", { class: "field-list" }, state.todos.hazards.map(hazardLine)) : h("p", { class: "meta" }, t("nothing_due")),
  );
}

const SUMMARY_FIELDS = ["name", "masked_id", "region_name", "address", "residence_address", "arrival_date", "departure_date", "version"];

function summary(action) {
  const data = action.data || {};
  if (action.kind === "arrival") return `${data.name || ""} ${mask(data.id_number)}`;
  if (data.person) return personName(data.person);
  if (action.kind === "hazard") {
    const house = state.houses.find((item) => item.id === data.rental_house);
    return house ? house.address : "";
  }
  if (action.kind === "verification") return data.number || (data.payload ? data.payload.slice(0, 12) + "…" : "");
  return "";
}

function conflictTable(action) {
  // Mine: the file as the phone showed it, with what the collector's action says.
  const seen = action.seen || {};
  const data = action.data || {};
  const mine = {
    name: data.name || seen.name,
    id_number: data.id_number ? mask(data.id_number) : seen.masked_id,
    residence_address: data.residence_address || [seen.region_name, seen.address].filter(Boolean).join(" "),
    arrival_date: data.arrival_date || seen.arrival_date,
    departure_date: data.departure_date,
    version: data.person_version,
  };
  const server = action.server;
  const rows = [
    ["name", mine.name, server && server.name],
    ["id_number", mine.id_number, server && server.masked_id],
    ["residence_address", mine.residence_address, server && [server.region_name, server.address].filter(Boolean).join(" ")],
    ["arrival_date", mine.arrival_date, server && server.arrival_date],
    ["departure_date", mine.departure_date, server && server.departure_date],
    ["version", mine.version, server && server.version],
  ].filter((row) => row[1] || row[2]);
  return h(
    "div",
    { class: "field-conflict", testid: "field-conflict" },
    h("p", {}, t("conflict_help")),
    server
      ? h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}), h("th", {}, t("mine")), h("th", {}, t("current")))),
          h(
            "tbody",
            {},
            rows.map(([name, a, b]) =>
              h("tr", { class: String(a || "") !== String(b || "") ? "differs" : "" }, h("th", {}, t(name)), h("td", { testid: "field-conflict-mine" }, a || ""), h("td", { testid: "field-conflict-server" }, b || "")),
            ),
          ),
        )
      : h("p", { class: "meta" }, t("not_visible")),
  );
}

function queueItem(action) {
  const buttons = [];
  if (action.state === "refused" && FORMS[action.kind]) {
    buttons.push(h("button", { type: "button", testid: "field-queued-edit", onclick: () => openForm(action.kind, null, action) }, t("edit")));
  }
  if (action.state === "conflict" && action.server) {
    buttons.push(
      h(
        "button",
        {
          type: "button",
          testid: "field-queued-apply",
          onclick: async () => {
            // Mine, re-sent under the same client id, on the version the collector saw.
            const data = { ...action.data, person: action.server.id, person_version: action.server.version };
            await store.putAction({ ...action, data, state: "waiting", message: "", errors: {}, server: null });
            await refresh();
            if (online()) await sendWaiting();
          },
        },
        t("apply_mine"),
      ),
    );
  }
  if (action.state !== "waiting") {
    const confirm = h(
      "button",
      {
        type: "button",
        class: "contrast",
        hidden: true,
        testid: "field-queued-discard-confirm",
        onclick: async () => {
          await store.deleteActions([action.client_id]);
          notify(t("discarded"));
          await refresh();
        },
      },
      t("discard_confirm"),
    );
    buttons.push(
      h("button", { type: "button", class: "secondary", testid: "field-queued-discard", onclick: (event) => { event.target.hidden = true; confirm.hidden = false; } }, t("discard")),
      confirm,
    );
  }
  const errors = Object.entries(action.errors || {});
  // The server's message, unless it only repeats the field errors listed with their fields.
  const repeats = errors.map(([, list]) => [].concat(list).join(" ")).join(" ") === action.message;
  return h(
    "li",
    { class: `field-queued ${action.state}`, testid: "field-queued", "data-kind": action.kind, "data-state": action.state, "data-client-id": action.client_id },
    h("div", { class: "field-queued-head" }, h("strong", {}, t(action.kind)), " ", summary(action), " ", h("span", { class: `field-badge ${action.state}` }, t(`state_${action.state}`))),
    h("small", {}, t("done_at", { when: when(action.done_at) })),
    action.message && !repeats ? h("p", { class: "field-queued-message", testid: "field-queued-message" }, action.message) : null,
    errors.length
      ? h("ul", { class: "errorlist", testid: "field-queued-errors" }, errors.map(([name, list]) => h("li", {}, name === "__all__" || name === "non_field_errors" ? "" : `${t(name)}: `, [].concat(list).join(" "))))
      : null,
    action.state === "conflict" ? conflictTable(action) : null,
    buttons.length ? h("div", { class: "actions" }, buttons) : null,
  );
}

function viewQueue() {
  return h(
    "section",
    { testid: "field-section-queue" },
    state.queue.length ? h("ul", { class: "field-list", testid: "field-queue" }, state.queue.map(queueItem)) : h("p", { class: "meta", testid: "field-queue-empty" }, t("queue_empty")),
  );
}

// The verification UI (QR helper's verify.js on the shell's field/_verify.html) is mounted
// once and only shown or hidden: the camera and what was typed survive switching tabs.
let verifyMounted = false;

function showVerify(shown) {
  const root = document.getElementById("field-verify");
  if (shown && !verifyMounted) {
    verifyMounted = true;
    mountVerify(root, {
      strings,
      keys: async () => store.getAll("keys"),
      people: async () => store.getAll("people"),
      enqueue: async (kind, data) => {
        const action = await save(kind, data, null);
        await refresh();
        if (online()) sendWaiting({ quiet: true });
        return action;
      },
      notify,
    });
  }
  root.hidden = !shown;
}

// --- the page --------------------------------------------------------------------------

function header() {
  const user = state.bundle ? state.bundle.user : null;
  document.querySelector("[data-testid=field-user]").textContent = user ? `${user.name || user.username} · ${user.region_name || ""}` : t("app_title");
  document.querySelector("[data-testid=field-loaded]").textContent = state.bundle ? t("loaded", { when: when(state.bundle.generated_at) }) : "";
  const net = document.querySelector("[data-testid=field-online-state]");
  net.dataset.online = online() ? "yes" : "no";
  net.textContent = online() ? t("online") : t("offline");
  const count = document.querySelector("[data-testid=field-queue-count]");
  count.dataset.count = String(state.queue.length);
  count.textContent = t("waiting", { count: state.queue.length });
  const button = document.querySelector("[data-testid=field-sync]");
  button.disabled = !state.bundle || !online() || !state.queue.some((action) => action.state === "waiting");
}

function tabs() {
  const nav = document.querySelector("[data-testid=field-tabs]");
  nav.replaceChildren(
    ...TABS.filter(([, , kind]) => !kind || may(kind)).map(([view, label]) =>
      h("a", { href: `#${view}`, testid: `field-tab-${view}`, "aria-current": state.view === view ? "page" : null }, t(label), view === "queue" && state.queue.length ? h("span", { class: "field-badge" }, String(state.queue.length)) : null),
    ),
  );
}

function render() {
  header();
  tabs();
  const main = document.getElementById("field-main");
  const parts = [];
  if (!state.storage) parts.push(h("p", { class: "flash error" }, t("storage_unavailable")));
  if (state.signIn) {
    parts.push(h("p", { class: "flash error", testid: "field-sign-in-needed" }, t("sign_in_again_help"), " ", h("a", { href: urls.login, testid: "field-sign-in" }, t("sign_in_again"))));
  }
  if (!state.bundle) {
    parts.push(h("p", { class: "flash", testid: "field-no-data" }, t("sign_in_first")));
    main.replaceChildren(...parts);
    showVerify(false);
    return;
  }
  if (state.form) {
    parts.push(formFor(state.form.kind, state.form.context, state.form.fixing));
  } else if (state.view === "people") parts.push(viewPeople());
  else if (state.view === "todos") parts.push(viewTodos());
  else if (state.view === "arrival") parts.push(formFor("arrival", null, null));
  else if (state.view === "places") parts.push(viewPlaces());
  else if (state.view === "queue") parts.push(viewQueue());
  main.replaceChildren(...parts);
  showVerify(state.view === "verify" && !state.form && may("verification"));
}

function go(view) {
  if (location.hash !== `#${view}`) location.hash = view;
  else route();
}

function route() {
  const view = location.hash.slice(1);
  state.view = TABS.some(([name]) => name === view) ? view : "people";
  state.form = null;
  state.person = null;
  render();
}

async function signOut() {
  // The grid's data goes now, online or not; the waiting actions stay for this account.
  await store.wipeGridData();
  if (online() && state.bundle) {
    const form = document.querySelector("[data-testid=field-logout-form]");
    form.elements.csrfmiddlewaretoken.value = state.bundle.csrf_token;
    form.submit();
    return;
  }
  notify(t("signed_out"));
  await refresh();
}

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(urls.worker, { scope: urls.scope, updateViaCache: "none" }).catch(() => {
      // Not a secure context (plain HTTP off localhost): the page still works while online.
    });
  }
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => goOnline({ quiet: false }));
  window.addEventListener("offline", () => render());
  document.querySelector("[data-testid=field-sync]").addEventListener("click", () => goOnline({ quiet: false }));
  document.querySelector("[data-testid=field-sign-out]").addEventListener("click", signOut);
  const view = location.hash.slice(1);
  state.view = TABS.some(([name]) => name === view) ? view : "people";
  await refresh();
  await goOnline();
  document.body.dataset.ready = "1";
}

start();
