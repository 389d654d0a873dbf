/*
 * The phone page /field of `lvdun serve`: the editor's leads nearest first, one per screen,
 * verdicts queued in IndexedDB and sent when online (with the version they were made on).
 * A photo is queued too (its Blob in IndexedDB) and sent to /api/leads/{id}/evidence after
 * the lead's queued status change, with the version that change returned.
 * Data is set with textContent only; the configuration comes as JSON (#field-config).
 */
(function () {
  "use strict";
  var CONFIG = JSON.parse(document.getElementById("field-config").textContent);
  var TOKEN_KEY = "lvdun.token";
  var DB_NAME = "lvdun-field";
  var state = {
    leads: [], index: 0, here: null, reserves: null, verdict: null, queue: [],
    map: null, layer: null, ready: false, syncing: null, versions: {}
  };
  function what(item) { return item.kind === "photo" ? "照片" : label(item.status); }
  var $ = function (id) { return document.getElementById(id); };

  // -- IndexedDB ---------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = function () {
      var db = open.result;
      db.createObjectStore("leads", { keyPath: "id" });
      db.createObjectStore("queue", { keyPath: "key", autoIncrement: true });
      db.createObjectStore("meta");
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });

  function tx(store, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var result = work(t.objectStore(store));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all(store) { return tx(store, "readonly", function (s) { return s.getAll(); }); }
  function put(store, value, key) {
    return tx(store, "readwrite", function (s) { return key === undefined ? s.put(value) : s.put(value, key); });
  }
  function del(store, key) { return tx(store, "readwrite", function (s) { return s.delete(key); }); }
  function getMeta(key) { return tx("meta", "readonly", function (s) { return s.get(key); }); }
  function replaceLeads(features) {
    return tx("leads", "readwrite", function (s) {
      s.clear();
      features.forEach(function (f) { s.put(f); });
    });
  }

  // -- the server ----------------------------------------------------------------------
  function token() { return localStorage.getItem(TOKEN_KEY); }
  function toLogin() {
    window.location.assign(CONFIG.login + "?next=" + encodeURIComponent(CONFIG.scope));
  }
  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + token() }, options.headers || {});
    return fetch(path, options);
  }
  function getJson(path) {
    return api(path).then(function (response) {
      if (response.status === 401) { toLogin(); throw new Error("401"); }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }
  function fetchLeads(url, out) {
    return getJson(url).then(function (page) {
      out = out.concat(page.features || []);
      if (page.next) {
        var next = new URL(page.next, window.location.origin);
        return fetchLeads(next.pathname + next.search, out);
      }
      return out;
    });
  }
  function refresh() {
    return Promise.all([getJson(CONFIG.api + "/me"), fetchLeads(CONFIG.api + "/leads", []),
                        getJson(CONFIG.reserves)])
      .then(function (got) {
        var me = got[0];
        var editable = me.editable_reserves;
        var mine = got[1].filter(function (f) {
          return editable === null || editable.indexOf(f.properties.reserve_code) >= 0;
        });
        return replaceLeads(mine).then(function () { return put("meta", got[2], "reserves"); })
          .then(function () { return put("meta", me, "me"); });
      });
  }

  // -- nearest first -------------------------------------------------------------------
  function centre(geometry) {
    var xs = [], ys = [];
    (function walk(c) {
      if (typeof c[0] === "number") { xs.push(c[0]); ys.push(c[1]); } else { c.forEach(walk); }
    })(geometry ? geometry.coordinates : []);
    if (!xs.length) { return null; }
    var sum = function (a) { return a.reduce(function (p, v) { return p + v; }, 0); };
    return [sum(xs) / xs.length, sum(ys) / ys.length];
  }
  function metres(a, b) {
    var r = Math.PI / 180;
    var dLat = (b[1] - a[1]) * r, dLon = (b[0] - a[0]) * r;
    var h = Math.pow(Math.sin(dLat / 2), 2) +
      Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.pow(Math.sin(dLon / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }
  function sortLeads() {
    state.leads.forEach(function (lead) {
      var c = centre(lead.geometry);
      lead.distance = state.here && c ? metres(state.here, c) : null;
    });
    state.leads.sort(function (a, b) {
      if (a.distance === null || b.distance === null) {
        return a.distance === null ? (b.distance === null ? (a.id < b.id ? -1 : 1) : 1) : -1;
      }
      return a.distance - b.distance;
    });
  }
  function locate() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve([p.coords.longitude, p.coords.latitude]);
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 8000,
                                             maximumAge: 60000 });
    });
  }

  // -- the screen ----------------------------------------------------------------------
  function label(status) { return CONFIG.labels[status] || status; }
  function pendingFor(id) {
    return state.queue.filter(function (item) { return item.lead_id === id; });
  }
  function setSync() {
    var waiting = state.queue.filter(function (i) { return !i.conflict && !i.error; }).length;
    var el = $("sync");
    el.className = navigator.onLine ? "" : "offline";
    el.textContent = (navigator.onLine ? "在线" : "离线") + " · 待同步 " + waiting;
    el.dataset.waiting = String(waiting);
  }
  function drawMap(lead) {
    if (!window.L) { return; }
    if (!state.map) {
      state.map = L.map("minimap", { zoomControl: false, attributionControl: false });
    }
    if (state.layer) { state.map.removeLayer(state.layer); }
    var group = L.featureGroup();
    var code = lead.properties.reserve_code;
    var reserves = (state.reserves && state.reserves.features) || [];
    reserves.forEach(function (r) {
      if (r.properties.reserve_code === code) {
        L.geoJSON(r, { style: { color: "#2e5d34", weight: 2, fill: false },
                       interactive: false }).addTo(group);
      }
    });
    var shape = L.geoJSON(lead, {
      style: { color: "#e31a1c", weight: 3 },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: "#e31a1c", fillOpacity: 0.8 });
      }
    }).addTo(group);
    if (state.here) {
      L.circleMarker([state.here[1], state.here[0]], { radius: 6, color: "#1f78b4",
                                                       fillOpacity: 1 }).addTo(group);
    }
    state.layer = group.addTo(state.map);
    state.map.invalidateSize();
    var bounds = group.getBounds();
    if (bounds.isValid()) {
      state.map.fitBounds(bounds, { padding: [12, 12], maxZoom: 15 });
    } else if (shape.getBounds().isValid()) {
      state.map.fitBounds(shape.getBounds(), { maxZoom: 15 });
    }
  }
  function show() {
    setSync();
    var empty = state.leads.length === 0;
    $("card").hidden = empty;
    $("empty").hidden = !empty;
    if (empty) { return; }
    state.index = Math.max(0, Math.min(state.index, state.leads.length - 1));
    var lead = state.leads[state.index];
    var p = lead.properties;
    $("lead-id").textContent = lead.id;
    $("lead-meta").textContent = [p.reserve_name, p.zone_label, p.activity_type, p.batch]
      .filter(Boolean).join(" · ");
    $("lead-status").textContent = label(p.status);
    $("lead-status").dataset.status = p.status;
    $("lead-distance").textContent = lead.distance === null || lead.distance === undefined ? "" :
      "距离 " + (lead.distance < 1000 ? Math.round(lead.distance) + " 米" :
                 (lead.distance / 1000).toFixed(1) + " 公里");
    var queued = pendingFor(lead.id);
    $("lead-pending").textContent = queued.length ?
      "待同步：" + queued.map(what).join(" → ") : "";
    $("position").textContent = (state.index + 1) + " / " + state.leads.length;
    state.verdict = null;
    Array.prototype.forEach.call($("verdicts").children, function (b) {
      b.setAttribute("aria-pressed", "false");
    });
    $("reason").value = "";
    $("note").value = "";
    $("photo").value = "";
    $("photo-preview").style.display = "none";
    drawMap(lead);
  }
  function showConflicts() {
    var box = $("conflicts");
    box.textContent = "";
    state.queue.filter(function (i) { return i.conflict || i.error; }).forEach(function (item) {
      var div = document.createElement("div");
      div.className = "conflict";
      div.dataset.lead = item.lead_id;
      var title = document.createElement("strong");
      title.textContent = item.conflict ? "冲突：线索 " + item.lead_id + " 已被他人修改，未覆盖" :
        "未能提交：线索 " + item.lead_id;
      div.appendChild(title);
      var mine = document.createElement("div");
      mine.className = "side mine";
      mine.textContent = "你的：" + what(item) + "（基于版本 " + item.version + "）" +
        (item.reason ? "，理由：" + item.reason : "") + (item.note ? "，备注：" + item.note : "");
      div.appendChild(mine);
      var theirs = document.createElement("div");
      theirs.className = "side theirs";
      if (item.conflict) {
        var c = item.conflict;
        theirs.textContent = "服务器：" + label(c.current_status) + "（版本 " +
          c.current_version + "，" + (c.updated_by || "") + " " + (c.updated_at || "") + "）";
      } else {
        theirs.textContent = "服务器答复：" + item.error;
      }
      div.appendChild(theirs);
      var drop = document.createElement("button");
      drop.type = "button";
      drop.textContent = "放弃我的修改";
      drop.addEventListener("click", function () {
        del("queue", item.key).then(loadQueue).then(function () {
          return navigator.onLine ? refresh().catch(function () {}) : null;
        }).then(loadLeads);
      });
      div.appendChild(drop);
      box.appendChild(div);
    });
  }

  // -- recording and sending -----------------------------------------------------------
  function record() {
    var lead = state.leads[state.index];
    if (!lead) { return Promise.resolve(); }
    var message = $("message");
    message.textContent = "";
    var photo = $("photo").files[0] || null;
    if (!state.verdict && !photo) {
      message.textContent = "请选择核查结论"; return Promise.resolve();
    }
    var reason = $("reason").value;
    var from = pendingFor(lead.id).length ?
      pendingFor(lead.id).slice(-1)[0].status : lead.properties.status;
    var needsReason = CONFIG.reason_required.some(function (pair) {
      return pair[0] === from && pair[1] === state.verdict;
    });
    if (state.verdict && needsReason && !reason) { message.textContent = "此变更须选择理由"; return Promise.resolve(); }
    var queued = pendingFor(lead.id);
    var version = queued.length ? queued.slice(-1)[0].version + 1 : lead.properties.version;
    var note = $("note").value.trim() || null;
    var at = new Date().toISOString();
    var items = [];
    if (state.verdict) {
      items.push({ lead_id: lead.id, status: state.verdict, reason: reason || null,
                   note: note, version: version, at: at });
    }
    if (photo) {  // after the status change: one version later
      items.push({ kind: "photo", lead_id: lead.id, status: state.verdict || from,
                   blob: photo, name: photo.name, type: photo.type,
                   note: state.verdict ? null : note, version: version + items.length, at: at });
    }
    var saved = Promise.resolve();
    items.forEach(function (item) { saved = saved.then(function () { return put("queue", item); }); });
    return saved.then(loadQueue).then(function () {
      message.textContent = navigator.onLine ? "已记录，正在同步" : "已记录，联网后自动同步";
      show();
      return sync();
    });
  }
  function sync() {
    if (state.syncing) { return state.syncing; }
    state.syncing = loadQueue().then(function () {
      var waiting = state.queue.filter(function (i) { return !i.conflict && !i.error; });
      var chain = Promise.resolve(true);
      waiting.forEach(function (item) {
        chain = chain.then(function (go) { return go ? send(item) : false; });
      });
      return chain;
    }).then(function (sent) {
      state.syncing = null;
      return loadQueue().then(function () {
        return sent && navigator.onLine ? refresh().catch(function () {}) : null;
      }).then(loadLeads);
    }, function (err) {
      state.syncing = null;
      throw err;
    });
    return state.syncing;
  }
  function request(item) {
    var url = CONFIG.api + "/leads/" + encodeURIComponent(item.lead_id);
    if (item.kind === "photo") {
      // the version the lead's status change just returned, else the one it was made on
      var form = new FormData();
      form.append("file", item.blob, item.name || "photo");
      form.append("version", String(state.versions[item.key] || item.version));
      if (item.note) { form.append("note", item.note); }
      return api(url + "/evidence", { method: "POST", body: form });
    }
    var body = { status: item.status, version: item.version, reason: item.reason,
                 note: item.note };
    return api(url + "/status", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    });
  }
  function nextPhoto(item) {
    return state.queue.find(function (i) {
      return i.kind === "photo" && i.lead_id === item.lead_id && i.key > item.key;
    });
  }
  function send(item) {
    if (!navigator.onLine) { return Promise.resolve(false); }
    return request(item).then(function (response) {
      if (response.status === 401) { toLogin(); return false; }
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) {
          var photo = item.kind === "photo" ? null : nextPhoto(item);
          if (photo && answer.version) { state.versions[photo.key] = answer.version; }
          return del("queue", item.key).then(function () { return true; });
        }
        if (response.status === 409) { item.conflict = answer; } else {
          item.error = response.status + " " + (answer.detail || "");
        }
        return put("queue", item).then(function () { return true; });
      });
    }, function () { return false; });  // no network: try again later
  }
  function loadQueue() {
    return all("queue").then(function (items) {
      state.queue = items;
      showConflicts();
      setSync();
    });
  }
  function loadLeads() {
    var current = state.leads[state.index] && state.leads[state.index].id;
    return Promise.all([all("leads"), getMeta("reserves")]).then(function (got) {
      state.leads = got[0];
      state.reserves = got[1] || null;
      sortLeads();
      var at = state.leads.findIndex(function (l) { return l.id === current; });
      state.index = at >= 0 ? at : 0;
      show();
    });
  }

  // -- start ---------------------------------------------------------------------------
  function build() {
    CONFIG.verdicts.forEach(function (v) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = v.label;
      b.dataset.status = v.status;
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", function () {
        state.verdict = v.status;
        Array.prototype.forEach.call($("verdicts").children, function (o) {
          o.setAttribute("aria-pressed", o === b ? "true" : "false");
        });
      });
      $("verdicts").appendChild(b);
    });
    var none = document.createElement("option");
    none.value = "";
    none.textContent = "（无）";
    $("reason").appendChild(none);
    CONFIG.not_problem_reasons.forEach(function (r) {
      var o = document.createElement("option");
      o.value = r;
      o.textContent = r;
      $("reason").appendChild(o);
    });
    $("save").addEventListener("click", record);
    $("prev").addEventListener("click", function () { state.index -= 1; show(); });
    $("next").addEventListener("click", function () { state.index += 1; show(); });
    $("photo").addEventListener("change", function () {
      var file = $("photo").files[0];
      var img = $("photo-preview");
      if (file) { img.src = URL.createObjectURL(file); img.style.display = "block"; }
    });
    window.addEventListener("online", function () { setSync(); sync(); });
    window.addEventListener("offline", setSync);
  }

  function start() {
    build();
    if (!token()) { toLogin(); return Promise.resolve(); }
    var worker = "serviceWorker" in navigator ?
      navigator.serviceWorker.register(CONFIG.worker, { scope: CONFIG.scope })
        .catch(function (err) { $("message").textContent = "离线缓存不可用：" + err; }) : null;
    return Promise.all([locate(), worker]).then(function (got) {
      state.here = got[0];
      return loadQueue();
    }).then(function () {
      return navigator.onLine ? sync().then(function () {
        return refresh().catch(function () {});
      }) : null;
    }).then(loadLeads).then(function () {
      state.ready = true;
    }, function (err) {
      $("message").textContent = "出错：" + err;
      state.ready = true;
    });
  }

  window.lvdunField = {
    state: state,
    sync: sync,
    get ready() { return state.ready; }
  };
  start();
})();
