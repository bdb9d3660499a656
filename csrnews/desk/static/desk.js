/* The editors' desk: live preview, confirmations, top-10 reordering (keys and drag), rebuild
   progress. Everything also works without this script, through plain forms and links. */
"use strict";

(function () {
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Buttons that need a confirmation.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Live preview of the story form, rendered and sanitised by the server as the site does.
  var form = document.getElementById("story-form");
  var preview = document.getElementById("preview");

  // The story form's typed text is kept in this browser tab until it is saved: a save that did
  // not happen (the session had ended, the server failed, the tab went elsewhere) loses nothing.
  // The next time the form opens, the text is put back, with a button to discard it.
  if (form && form.dataset.draft !== undefined && window.sessionStorage) {
    var draftKey = "csrnews-desk-draft:" + window.location.pathname;
    var baseField = form.elements.base;
    var fields = function () {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.name && el.name !== "csrf_token" && el.name !== "base" && el.type !== "submit" && el.type !== "button";
      });
    };
    var snapshot = function () {
      var values = {};
      fields().forEach(function (el) { values[el.name] = el.value; });
      return values;
    };
    var fill = function (values) {
      fields().forEach(function (el) { if (el.name in values) { el.value = values[el.name]; } });
      if (form.elements.title) { form.elements.title.dispatchEvent(new Event("input", { bubbles: true })); }
    };
    var readDraft = function (key) {
      try { return JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { return null; }
    };
    var dropDraft = function (key) { try { window.sessionStorage.removeItem(key); } catch (e) { /* none */ } };
    var keepDraft = function (submitted) {
      try {
        window.sessionStorage.setItem(draftKey, JSON.stringify({
          base: baseField ? baseField.value : "", values: snapshot(), submitted: submitted, time: Date.now()
        }));
      } catch (e) { /* storage full or off: no draft */ }
    };
    if (form.dataset.draftDone) { dropDraft("csrnews-desk-draft:" + form.dataset.draftDone); }
    var original = snapshot();
    var originalBase = baseField ? baseField.value : "";
    var draft = readDraft(draftKey);
    if (draft && draft.values) {
      var stale = draft.base !== originalBase;  // the file changed since the draft was typed
      var differs = Object.keys(draft.values).some(function (k) { return k in original && draft.values[k] !== original[k]; });
      if ((stale && draft.submitted) || !differs) {
        dropDraft(draftKey);  // it was saved (or a conflict page shows it), or there is nothing to put back
      } else {
        fill(draft.values);
        if (stale && baseField) { baseField.value = draft.base; }  // saving shows the conflict, never overwrites
        var note = document.createElement("div");
        note.className = "flash draft-note";
        note.setAttribute("role", "status");
        var when = new Date(draft.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        note.appendChild(document.createTextNode(
          "Your unsaved text from " + when + " is back in the form: it was not saved. Check it, then save it. "));
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "secondary";
        discard.textContent = "Discard it";
        discard.addEventListener("click", function () {
          fill(original);
          if (baseField) { baseField.value = originalBase; }
          dropDraft(draftKey);
          note.remove();
        });
        note.appendChild(discard);
        form.insertBefore(note, form.firstChild);
      }
    }
    var draftTimer = null;
    var later = function () { clearTimeout(draftTimer); draftTimer = setTimeout(function () { keepDraft(false); }, 300); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function () { clearTimeout(draftTimer); keepDraft(true); });
  }
  if (form && preview && form.dataset.preview) {
    var timer = null;
    var seq = 0;
    var field = function (name) { var el = form.elements[name]; return el ? el.value : ""; };
    var render = function () {
      var mine = ++seq;
      var lang = field("lang") || form.dataset.lang || "en";
      fetch(form.dataset.preview, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
        body: JSON.stringify({ title: field("title"), summary: field("summary"), body: field("body"), lang: lang })
      }).then(function (response) {
        if (response.status === 401) { throw new Error("session ended"); }
        if (!response.ok) { throw new Error("preview: HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        if (mine !== seq) { return; }
        preview.setAttribute("lang", lang);
        var title = document.createElement("h1");
        title.textContent = data.title;
        var summary = document.createElement("div");
        summary.className = "summary";
        summary.innerHTML = data.summary_html;  // sanitised by the site's own cleaner
        var body = document.createElement("div");
        body.className = "story-body";
        body.innerHTML = data.body_html;  // sanitised by the site's own cleaner
        preview.replaceChildren(title, summary, body);
      }).catch(function (error) {
        var text = error && error.message === "session ended"
          ? "Your session has ended: saving asks you to log in again (what you typed is kept in this tab)."
          : "The preview is not available right now; saving still works.";
        if (mine === seq) { preview.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: text })); }
      });
    };
    form.addEventListener("input", function (event) {
      if (["title", "summary", "body", "lang"].indexOf(event.target.name) < 0) { return; }
      clearTimeout(timer);
      timer = setTimeout(render, 350);
    });
    render();
  }

  // Top-10 entries: move with the arrow keys on a handle, or drag a handle.
  var list = document.getElementById("entries");
  var moveForm = document.getElementById("move-form");
  if (list && moveForm) {
    var count = list.querySelectorAll(".entry").length;
    var submitMove = function (src, dst) {
      if (dst < 1 || dst > count || src === dst) { return; }
      moveForm.elements.src.value = src;
      moveForm.elements.dst.value = dst;
      moveForm.submit();
    };
    list.addEventListener("keydown", function (event) {
      var handle = event.target.closest(".handle");
      if (!handle) { return; }
      var rank = parseInt(handle.dataset.rank, 10);
      if (event.key === "ArrowUp") { event.preventDefault(); submitMove(rank, rank - 1); }
      if (event.key === "ArrowDown") { event.preventDefault(); submitMove(rank, rank + 1); }
    });
    var dragged = null;
    var clearMarks = function () {
      list.querySelectorAll(".drop-before, .drop-after").forEach(function (el) {
        el.classList.remove("drop-before", "drop-after");
      });
    };
    list.addEventListener("dragstart", function (event) {
      var handle = event.target.closest(".handle");
      if (!handle) { return; }
      dragged = parseInt(handle.dataset.rank, 10);
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(dragged));
      handle.closest(".entry").classList.add("dragging");
    });
    list.addEventListener("dragover", function (event) {
      var entry = event.target.closest(".entry");
      if (!entry || dragged === null) { return; }
      event.preventDefault();
      clearMarks();
      var box = entry.getBoundingClientRect();
      entry.classList.add(event.clientY < box.top + box.height / 2 ? "drop-before" : "drop-after");
    });
    list.addEventListener("dragleave", function (event) {
      if (!list.contains(event.relatedTarget)) { clearMarks(); }
    });
    list.addEventListener("drop", function (event) {
      var entry = event.target.closest(".entry");
      if (!entry || dragged === null) { return; }
      event.preventDefault();
      var target = parseInt(entry.dataset.rank, 10);
      var before = entry.classList.contains("drop-before");
      var dst;
      if (before) { dst = dragged < target ? target - 1 : target; }
      else { dst = dragged < target ? target : target + 1; }
      clearMarks();
      submitMove(dragged, dst);
    });
    list.addEventListener("dragend", function () {
      dragged = null;
      clearMarks();
      list.querySelectorAll(".dragging").forEach(function (el) { el.classList.remove("dragging"); });
    });
    var focus = list.querySelector("[data-focus]");
    if (focus) {  // after a move, keep the keyboard on the entry that moved
      focus.focus();
      focus.closest(".entry").scrollIntoView({ block: "center" });
    }
  }

  // Rebuild progress.
  var box = document.getElementById("rebuild");
  if (box && box.dataset.state === "running") {
    var log = document.getElementById("rebuild-log");
    var state = document.getElementById("rebuild-state");
    var poll = function () {
      fetch(box.dataset.status, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          log.textContent = (data.lines || []).join("\n");
          log.scrollTop = log.scrollHeight;
          if (data.state === "running") {
            state.textContent = "Rebuilding… " + ((data.lines || []).slice(-1)[0] || "");
            setTimeout(poll, 1000);
          } else {
            window.location.reload();
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 800);
  }
})();
