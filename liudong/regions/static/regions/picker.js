// Region pickers ([data-region-picker], rendered by liudong.regions.widgets.RegionPicker).
// The code input becomes hidden and still carries the value the form checks; a search box
// beside it offers regions from /regions/search/ by name or code as the user types.
// Arrow keys move through the offers, Enter picks one, Escape closes the list.
// Without this script the code input works as it always did (the CSP forbids inline JS).
// A picker with data-multiple (RegionMultiPicker) keeps several codes in its textarea,
// joined by spaces: each pick adds a chip with a remove button, Backspace in the empty
// box removes the last one.
(() => {
  const DIGITS = /^\d+$/;

  function lookup(root, query, withLevels) {
    const params = new URLSearchParams({ q: query });
    if (root.dataset.under) params.set("under", root.dataset.under);
    if (withLevels && root.dataset.lengths) params.set("lengths", root.dataset.lengths);
    return fetch(`${root.dataset.searchUrl}?${params}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then((response) => (response.ok ? response.json() : { results: [] }));
  }

  function enhance(root) {
    if (root.dataset.pickerReady) return;
    const multiple = "multiple" in root.dataset;
    const code = root.querySelector(multiple ? "textarea" : "input");
    if (!code) return;
    root.dataset.pickerReady = "1";

    const box = document.createElement("input");
    box.type = "text";
    box.className = "region-picker-box";
    box.autocomplete = "off";
    box.spellcheck = false;
    box.placeholder = root.dataset.placeholder || "";
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.dataset.testid = `picker-${code.name}`;
    if (code.getAttribute("aria-invalid")) box.setAttribute("aria-invalid", "true");
    // The field's label now names the search box; the code travels in the hidden input.
    const id = code.id || `picker-${code.name}`;
    code.id = `${id}-code`;
    box.id = id;
    if (multiple) code.hidden = true;
    else code.type = "hidden";

    const list = document.createElement("ul");
    list.id = `${id}-options`;
    list.className = "region-picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.setAttribute("aria-controls", list.id);

    const chosen = document.createElement("small");
    chosen.className = "region-picker-chosen";
    chosen.setAttribute("aria-live", "polite");
    chosen.dataset.testid = `picker-${code.name}-chosen`;
    root.append(box, list, chosen);

    // Several regions: the chips shown are the codes in the textarea, in order.
    const chips = root.querySelector(".region-chips");
    let codes = [];

    function chip(value, name, path) {
      const item = document.createElement("li");
      item.className = "region-chip";
      item.dataset.code = value;
      if (path) item.title = `${path} · ${value}`;
      const label = document.createElement("span");
      label.textContent = name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "region-chip-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `${root.dataset.remove || ""} ${name}`.trim());
      remove.dataset.testid = `chip-remove-${value}`;
      remove.addEventListener("click", () => {
        drop(value);
        box.focus();
      });
      item.append(label, remove);
      return item;
    }

    function store() {
      code.value = codes.join(" ");
      code.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function add(item) {
      if (!codes.includes(item.code)) {
        codes.push(item.code);
        chips.append(chip(item.code, item.name, item.path));
        store();
      }
    }

    function drop(value) {
      codes = codes.filter((c) => c !== value);
      chips.querySelectorAll(".region-chip").forEach((item) => {
        if (item.dataset.code === value) item.remove();
      });
      chosen.textContent = "";
      store();
    }

    if (multiple && chips) {
      // The server named the codes already chosen (one query, not one per chip).
      const named = Array.from(chips.children).map((item) => [
        item.dataset.code,
        item.dataset.name || item.dataset.code,
        item.title,
      ]);
      chips.replaceChildren();
      named.forEach(([value, name, path]) => {
        codes.push(value);
        chips.append(chip(value, name, path));
      });
      chips.hidden = false;
      root.insertBefore(chips, box);
    }

    let results = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    function describe(item) {
      chosen.textContent = `${item.path} · ${item.code}`;
      if (item.note) {
        const note = document.createElement("span");
        note.className = "region-picker-note";
        note.textContent = item.note;
        chosen.append(document.createElement("br"), note);
      }
    }

    function close() {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function pick(item) {
      if (multiple) {
        add(item);
        box.value = "";
        describe(item);
        close();
        return;
      }
      code.value = item.code;
      box.value = item.name;
      describe(item);
      close();
      code.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function highlight(index) {
      active = index;
      list.querySelectorAll("[role=option]").forEach((option, i) => {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
        if (i === active) {
          box.setAttribute("aria-activedescendant", option.id);
          option.scrollIntoView({ block: "nearest" });
        }
      });
    }

    function render() {
      list.replaceChildren();
      if (!results.length) {
        const empty = document.createElement("li");
        empty.className = "region-picker-empty";
        empty.textContent = root.dataset.empty || "";
        list.append(empty);
      }
      results.forEach((item, i) => {
        const option = document.createElement("li");
        option.id = `${list.id}-${i}`;
        option.setAttribute("role", "option");
        option.dataset.code = item.code;
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = item.name;
        const path = document.createElement("span");
        path.className = "path";
        path.textContent = item.path;
        const digits = document.createElement("span");
        digits.className = "code";
        digits.textContent = item.code;
        option.append(name, digits, path);
        // mousedown, not click: the box keeps the focus, so its blur does not close first.
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          pick(item);
        });
        list.append(option);
      });
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
      highlight(results.length ? 0 : -1);
    }

    function search() {
      const query = box.value.trim();
      if (!query) {
        close();
        return;
      }
      const ticket = ++asked;
      lookup(root, query, true).then((data) => {
        if (ticket !== asked || document.activeElement !== box) return;
        results = data.results || [];
        render();
      });
    }

    box.addEventListener("input", () => {
      const typed = box.value.trim();
      // A code typed in full is taken as typed (the form checks it); a name needs a pick.
      if (!multiple) {
        const before = code.value;
        code.value = DIGITS.test(typed) ? typed : "";
        // A filter box (data-clear-submits) emptied: the list asks again without it.
        if (!typed && before && "clearSubmits" in code.dataset) {
          code.dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
      chosen.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    box.addEventListener("keydown", (event) => {
      const open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open && results.length) highlight((active + 1) % results.length);
        else search();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (open && results.length) highlight((active - 1 + results.length) % results.length);
      } else if (event.key === "Enter" && open) {
        event.preventDefault(); // pick, do not submit the form half filled in
        if (active >= 0) pick(results[active]);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      } else if (multiple && event.key === "Enter" && box.value.trim()) {
        event.preventDefault(); // a name typed, not yet picked: offer, do not submit
        search();
      } else if (multiple && event.key === "Backspace" && !box.value && codes.length) {
        drop(codes[codes.length - 1]);
      }
    });
    box.addEventListener("blur", close);
    // Typing replaces what the box shows (the chosen name), as in a browser's address bar.
    box.addEventListener("focus", () => box.select());

    // A value already there (a form shown again, a file being edited): show its name.
    const current = multiple ? "" : code.value.trim();
    if (current) {
      box.value = current;
      lookup(root, current, false).then((data) => {
        const found = (data.results || []).find(
          (item) => item.code === current || (item.note && data.results.length === 1),
        );
        if (found && box.value.trim() === current) {
          box.value = found.name;
          describe(found);
        }
      });
    }
  }

  function enhanceAll(scope) {
    scope.querySelectorAll("[data-region-picker]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", () => enhanceAll(document));
  // Forms swapped in by htmx get their pickers too.
  document.addEventListener("htmx:load", (event) => enhanceAll(event.target));
})();
