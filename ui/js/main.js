// wsbench front end: draws what the engine reports, asks it for pages on demand.
import { api, errorText } from "./api.js";
import { applyBatch, newTab } from "./lib/batch.js";
import { h } from "./lib/dom.js";
import { renderTabs } from "./views/tabs.js";
import { ConnectionView, isLive } from "./views/connection.js";
import { Composer } from "./views/composer.js";
import { FrameLog } from "./views/framelog.js";
import { Detail } from "./views/detail.js";

const model = { tabs: new Map(), order: [], active: null };
const $ = (id) => document.getElementById(id);

const toast = (() => {
  const el = h("div", { id: "toast", role: "alert", hidden: true });
  document.body.append(el);
  let t = null;
  return (msg) => {
    el.textContent = msg;
    el.hidden = false;
    clearTimeout(t);
    t = setTimeout(() => (el.hidden = true), 6000);
  };
})();

const active = () => model.tabs.get(model.active);

const configTimers = new Map();
const actions = {
  select(id) {
    if (!model.tabs.has(id)) return;
    model.active = id;
    active().unread = 0;
    drawAll();
  },
  async create() {
    try {
      const snap = await api.createTab("New tab");
      addTab(snap);
      actions.select(snap.id);
      $("url")?.focus();
    } catch (e) {
      toast(errorText(e));
    }
  },
  async close(id) {
    const tab = model.tabs.get(id);
    if (!tab) return;
    if (isLive(tab.state) && !(await confirmDialog(`“${tab.name}” is connected. Close it?`))) return;
    try {
      await api.closeTab(id);
    } catch (e) {
      toast(errorText(e));
    }
    model.tabs.delete(id);
    model.order = model.order.filter((x) => x !== id);
    if (model.active === id) model.active = model.order[model.order.length - 1] ?? null;
    if (!model.order.length) return actions.create();
    drawAll();
  },
  async rename(id, name) {
    try {
      await api.renameTab(id, name);
      model.tabs.get(id).name = name;
    } catch (e) {
      toast(errorText(e));
    }
    renderTabs($("tabbar"), model, actions);
  },
  editConfig(id, fn) {
    const tab = model.tabs.get(id);
    fn(tab.config);
    clearTimeout(configTimers.get(id));
    configTimers.set(id, setTimeout(() => api.setConfig(id, tab.config).catch((e) => toast(errorText(e))), 150));
  },
  async toggleConnect(id) {
    const tab = model.tabs.get(id);
    try {
      if (isLive(tab.state)) {
        await api.disconnect(id, 1000, "");
      } else {
        clearTimeout(configTimers.get(id));
        await api.setConfig(id, tab.config);
        await api.connect(id);
      }
    } catch (e) {
      // Bad input: say so next to the URL.
      tab.state = { type: "failed", error: e };
      tab.stateSince = Date.now();
      connection.updateState(tab);
    }
  },
  async send(id, message) {
    try {
      await api.send(id, message);
      return true;
    } catch (e) {
      toast(errorText(e));
      return false;
    }
  },
  async closeWith(id, code, reason) {
    try {
      await api.disconnect(id, code, reason);
    } catch (e) {
      toast(errorText(e));
    }
  },
  search: (id, q) => api.logSearch(id, q),
  page: (id, from, n) => api.logPage(id, from, n),
  async clearLog(id) {
    try {
      const stats = await api.logClear(id);
      const tab = model.tabs.get(id);
      tab.stats = stats;
      tab.previews.clear();
      framelog.resync();
      detail.empty();
    } catch (e) {
      toast(errorText(e));
    }
  },
  async showDetail(id, seq) {
    try {
      detail.show(await api.logFrame(id, seq));
    } catch (e) {
      toast(errorText(e));
    }
  },
};

const connection = new ConnectionView($("connection"), actions);
const composer = new Composer($("composer"), actions);
const framelog = new FrameLog($("log"), actions);
const detail = new Detail($("detail"));

function addTab(snap) {
  const tab = newTab(snap);
  tab.stateSince = Date.now();
  model.tabs.set(snap.id, tab);
  if (!model.order.includes(snap.id)) model.order.push(snap.id);
  return tab;
}

function drawAll() {
  renderTabs($("tabbar"), model, actions);
  const tab = active();
  if (!tab) return;
  connection.render(tab);
  composer.render(tab);
  framelog.render(tab);
  detail.empty();
  document.title = `${tab.name} · wsbench`;
}

// Batches are applied inside requestAnimationFrame: many batches, one redraw.
let queued = [];
let frameRequested = false;
function onBatch(batch) {
  queued.push(batch);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    const batches = queued;
    queued = [];
    let tabsChanged = false;
    let resync = false;
    let activeFrames = 0;
    for (const b of batches) {
      for (const s of b.states ?? []) {
        const tab = model.tabs.get(s.session);
        if (tab) tab.stateSince = Date.now();
      }
      const r = applyBatch(model, b, model.active);
      resync ||= r.resync;
      tabsChanged ||= (b.states ?? []).length > 0 || (b.sessions ?? []).some((u) => u.session !== model.active);
      for (const u of b.sessions ?? []) if (u.session === model.active) activeFrames += u.newFrames;
      for (const s of b.states ?? []) {
        if (s.session !== model.active) continue;
        const tab = active();
        const wasLive = $("connect")?.textContent === "Disconnect";
        if (wasLive !== isLive(tab.state) || s.state.type === "open") connection.render(tab);
        else connection.updateState(tab);
      }
    }
    if (tabsChanged) renderTabs($("tabbar"), model, actions);
    const tab = active();
    if (tab) {
      if (resync) framelog.resync();
      framelog.onBatch(tab, activeFrames);
    }
  });
}

async function confirmDialog(text) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "confirm", "aria-label": "Confirm" },
      h("p", {}, text),
      h("div", { class: "buttons" },
        h("button", { "aria-label": "Cancel", onclick: () => { dlg.close(); resolve(false); } }, "Cancel"),
        h("button", { class: "danger", "aria-label": "Close tab anyway", onclick: () => { dlg.close(); resolve(true); } }, "Close tab")));
    dlg.addEventListener("close", () => { dlg.remove(); resolve(false); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

document.addEventListener("keydown", (e) => {
  const mod = e.ctrlKey || e.metaKey;
  // F5 / Ctrl+R reload the view; tabs and logs live in the engine and come back.
  if (e.key === "F5" || (mod && e.key.toLowerCase() === "r")) {
    e.preventDefault();
    location.reload();
    return;
  }
  if (!mod) return;
  const key = e.key.toLowerCase();
  if (key === "t") { e.preventDefault(); actions.create(); }
  else if (key === "w") { e.preventDefault(); if (model.active) actions.close(model.active); }
  else if (key === "tab") {
    e.preventDefault();
    const i = model.order.indexOf(model.active);
    const n = model.order.length;
    actions.select(model.order[(i + (e.shiftKey ? n - 1 : 1)) % n]);
  } else if (/^[1-9]$/.test(e.key)) {
    const id = model.order[Number(e.key) - 1];
    if (id !== undefined) { e.preventDefault(); actions.select(id); }
  } else if (key === "d") { e.preventDefault(); if (model.active) actions.toggleConnect(model.active); }
  else if (key === "l") { e.preventDefault(); if (model.active) actions.clearLog(model.active); }
  else if (key === "p") { e.preventDefault(); if (model.active) actions.send(model.active, { type: "ping", data: "" }); }
  else if (key === "k") { e.preventDefault(); $("search")?.focus(); }
});

// For tests and the curious: how many log rows are in the DOM right now.
window.wsbench = { domRowCount: () => framelog.domRowCount(), model };

async function start() {
  try {
    // Subscribing returns a full snapshot: after a reload (F5) every tab and its
    // log are still in the engine.
    const tabs = await api.subscribe(onBatch);
    for (const snap of tabs) addTab(snap);
    model.active = model.order[0] ?? null;
    if (!model.order.length) await actions.create();
    else drawAll();
  } catch (e) {
    document.body.textContent = `wsbench could not start: ${errorText(e)}`;
  }
}

start();
