/* lvdun web app (MIT, part of lvdun): the map page of `lvdun serve`. Reads the token the
 * login page stored, loads every layer from the API, and adds to each lead's popup its
 * history and, for users who may change the lead, a status form. Everything that comes
 * from the API is set as text (textContent), except the popup cells, which the server
 * escaped. */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var KEY = "lvdun.token";
  var app = { api: "/api", login: "/login", user: null, layers: {}, reasons: [], labels: {} };

  function statusLabel(code) {
    return app.labels[code] || code;
  }

  function el(tag, className, parent, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  /** The API path of a lead: its id percent-encoded as one segment (a "/" as %2F). */
  function leadPath(id) {
    return "/leads/" + encodeURIComponent(String(id));
  }

  function toLogin() {
    var here = window.location.pathname + window.location.search;
    window.location.assign(app.login + "?next=" + encodeURIComponent(here));
  }

  /** fetch with the token; resolves to {ok, status, body}; a 401 goes to the login page. */
  function call(path, options) {
    var init = options || {};
    init.headers = Object.assign({}, init.headers || {}, {
      Authorization: "Bearer " + (localStorage.getItem(KEY) || "")
    });
    return fetch(app.api + path, init).then(function (response) {
      if (response.status === 401) {
        toLogin();
      }
      return response.text().then(function (text) {
        var body = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch (e) {
          body = { detail: text };
        }
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  /** The query of the leads in view (layers with spec.viewLoading), else "". */
  function viewQuery(layer) {
    if (!layer || !layer.lvdunSpec.viewLoading) {
      return "";
    }
    var b = app.map.getBounds().pad(0.2);
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return v.toFixed(5);
    });
    return "?bbox=" + bbox.join(",") + "&limit=" + layer.lvdunSpec.limit;
  }

  function fetchLayer(kind) {
    return call("/map/" + kind + viewQuery(app.layers[kind])).then(function (result) {
      if (!result.ok || !result.body) {
        throw new Error("cannot load layer " + kind + ": " + result.status);
      }
      return result.body;
    });
  }

  function setLayer(layer, body) {
    var data = body.data || { type: "FeatureCollection", features: [] };
    delete body.data;
    layer.lvdunSetData(data, body);
    if (layer.lvdunSpec.viewLoading) {
      viewNotice(layer, body.numberMatched || 0);
    }
  }

  /** Say when the view holds more leads than the page loads. */
  function viewNotice(layer, matched) {
    if (!app.notice) {
      app.notice = L.DomUtil.create("div", "lvdun-notice", app.map.getContainer());
    }
    var limit = layer.lvdunSpec.limit;
    app.notice.style.display = matched > limit ? "block" : "none";
    app.notice.textContent = "视野内共 " + matched.toLocaleString() + " 条线索，只显示 " +
      limit.toLocaleString() + " 条：请放大地图";
  }

  /** Reload the leads of the view after the map moved (a quarter second after). */
  function followView(kind, layer) {
    var timer = null;
    app.map.on("moveend", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetchLayer(kind).then(function (body) {
          setLayer(layer, body);
        });
      }, 250);
    });
  }

  function userBox(map) {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "lvdun-user leaflet-control");
      var user = app.user;
      var scope = user.role === "editor" ? "（" + user.reserves.join("、") + "）" : "";
      el("span", "name", div, user.name + " · " + user.role + scope + " ");
      var out = el("a", null, div, "退出");
      out.href = app.login + "?logout";
      out.addEventListener("click", function () {
        localStorage.removeItem(KEY);
      });
      downloadList(div);
      if (user.role === "reviewer" || user.role === "admin") {
        reviewPanel(div);
      }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(map);
  }

  /** One ledger download link per reserve the user may read (GET /api/exports/...). */
  function downloadList(parent) {
    var box = el("details", "lvdun-downloads", parent);
    el("summary", null, box, "台账下载");
    var list = el("ul", null, box);
    var message = el("div", "message", box);
    call("/reserves").then(function (result) {
      (result.ok && result.body ? result.body : []).forEach(function (reserve) {
        // null: the leads outside every reserve, named "outside" in the API
        var code = reserve.reserve_code === null ? "outside" : reserve.reserve_code;
        var name = reserve.reserve_code === null ? "保护区外" : reserve.reserve_name;
        var link = el("a", null, el("li", null, list),
          name + "（" + reserve.leads + " 条）");
        link.href = "#";
        link.setAttribute("data-reserve", code);
        link.addEventListener("click", function (event) {
          event.preventDefault();
          download(code, name, message);
        });
      });
    });
  }

  /** Thumbnails fetched with the token (the API needs it) and shown from blob URLs. */
  function blobImage(img, path) {
    fetch(app.api + path, {
      headers: { Authorization: "Bearer " + (localStorage.getItem(KEY) || "") }
    }).then(function (response) {
      return response.ok ? response.blob() : null;
    }).then(function (blob) {
      if (blob) {
        img.src = URL.createObjectURL(blob);
      }
    });
  }

  /** The reviewer's panel: the queue (GET /api/review/queue) and the progress table. */
  function reviewPanel(parent) {
    var box = el("details", "lvdun-review", parent);
    var summary = el("summary", null, box, "审核");
    var message = el("div", "message", box);
    var list = el("ul", "lvdun-review-queue", box);
    var progress = el("details", "lvdun-progress", box);
    el("summary", null, progress, "调度表");
    var tables = el("div", null, progress);
    app.review = { box: box, list: list, message: message };
    app.reviewReady = loadQueue(list, summary, message);
    progress.addEventListener("toggle", function () {
      if (progress.open && !tables.firstChild) {
        loadProgress(tables);
      }
    });
  }

  function loadQueue(list, summary, message) {
    return call("/review/queue").then(function (result) {
      list.textContent = "";
      var items = result.ok && Array.isArray(result.body) ? result.body : [];
      summary.textContent = "审核（" + items.length + "）";
      if (!result.ok) {
        message.textContent = (result.body && result.body.detail) || "加载失败（" + result.status + "）";
      }
      if (!items.length) {
        el("li", "empty", list, "没有待审核的线索");
      }
      items.forEach(function (item) {
        queueItem(list, item, function () {
          return loadQueue(list, summary, message);
        }, message);
      });
    });
  }

  function queueItem(list, item, reload, message) {
    var li = el("li", "lvdun-review-item", list);
    li.setAttribute("data-lead", String(item.lead_id));
    var head = el("div", "head", li);
    el("strong", "lead", head, item.lead_id);
    el("span", "reserve", head, " " + (item.reserve_name || "保护区外"));
    el("div", "state", li, (item.task || "") + " · 核查结论：" + (item.status_label || "") +
      " · " + (item.review || ""));
    if (item.photos && item.photos.length) {
      var photos = el("div", "lvdun-chips", li);
      item.photos.forEach(function (photo) {
        var figure = el("figure", null, photos);
        var img = el("img", null, figure);
        img.alt = photo.name;
        img.title = photo.summary || photo.name;
        el("figcaption", null, figure, photo.name);
        blobImage(img, leadPath(item.lead_id) + "/photos/" +
          encodeURIComponent(String(photo.index)));
      });
    }
    if (item.task !== "待审核" && item.task !== "待验收") {
      return;
    }
    var buttons = el("div", "buttons", li);
    var pass = el("button", "approve", buttons, "通过");
    pass.type = "button";
    var back = el("button", "return", buttons, "退回");
    back.type = "button";
    var form = el("div", "return-form", li);
    form.style.display = "none";
    var reason = el("input", null, form);
    reason.name = "reason";
    reason.placeholder = "退回原因（必填）";
    var confirm = el("button", "confirm", form, "确认退回");
    confirm.type = "button";
    var note = el("div", "message", li);
    function send(action, why) {
      pass.disabled = back.disabled = confirm.disabled = true;
      note.textContent = "提交中…";
      var body = { action: action, version: item.version, reason: why || null };
      return call(leadPath(item.lead_id) + "/review", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (result) {
        if (!result.ok) {
          pass.disabled = back.disabled = confirm.disabled = false;
          note.textContent = result.status === 409 ? "他人已处理：请刷新" :
            (result.body && result.body.detail) || "失败（" + result.status + "）";
          return null;
        }
        message.className = "message ok";
        message.textContent = item.lead_id + "：" + result.body.review;
        app.map.fire("lvdun:reviewed", { id: item.lead_id, review: result.body.review });
        reloadLeads();
        return reload();
      });
    }
    pass.addEventListener("click", function () {
      send("approve");
    });
    back.addEventListener("click", function () {
      form.style.display = form.style.display === "none" ? "block" : "none";
      reason.focus();
    });
    confirm.addEventListener("click", function () {
      var why = reason.value.trim();
      if (!why) {
        note.textContent = "请填写退回原因";
        reason.focus();
        return;
      }
      send("return", why);
    });
  }

  /** Reload the leads layer after a review step (an acceptance may close a lead). */
  function reloadLeads() {
    var layer = app.layers.leads;
    if (app.cells) {
      app.cells.refresh();
    } else if (layer) {
      fetchLayer("leads").then(function (body) {
        setLayer(layer, body);
      });
    }
  }

  /** The dispatch tables of the reviewer's area (GET /api/review/progress). */
  function loadProgress(parent) {
    el("div", "loading", parent, "加载中…");
    return call("/review/progress").then(function (result) {
      parent.textContent = "";
      if (!result.ok || !result.body) {
        el("div", "message", parent, (result.body && result.body.detail) || result.status);
        return;
      }
      el("div", "note", parent, "截至 " + result.body.today);
      result.body.tables.forEach(function (table) {
        el("div", "title", parent, table.title);
        var node = el("table", "lvdun-dispatch", parent);
        node.setAttribute("data-table", table.key);
        var row = el("tr", null, el("thead", null, node));
        table.columns.forEach(function (name) {
          el("th", null, row, name);
        });
        var body = el("tbody", null, node);
        table.rows.forEach(function (cells) {
          var tr = el("tr", null, body);
          cells.forEach(function (cell) {
            el("td", null, tr, cell === null ? "" : cell);
          });
        });
      });
    });
  }

  /** Fetch a reserve's ledger zip with the token and save it from an object URL. */
  function download(code, name, message) {
    message.textContent = "导出中…";
    fetch(app.api + "/exports/" + encodeURIComponent(String(code)) + ".zip", {
      headers: { Authorization: "Bearer " + (localStorage.getItem(KEY) || "") }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("下载失败（" + response.status + "）");
      }
      var header = response.headers.get("Content-Disposition") || "";
      var match = /filename\*=UTF-8''([^;]+)/i.exec(header);
      var filename = name + ".zip";
      try {
        filename = match ? decodeURIComponent(match[1]) : filename;
      } catch (e) {
        // keep the reserve's name
      }
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = el("a", null, document.body);
        save.href = url;
        save.download = filename;
        save.click();
        save.remove();
        setTimeout(function () {
          URL.revokeObjectURL(url);
        }, 60000);
        message.textContent = "";
      });
    }).catch(function (error) {
      message.textContent = error.message;
    });
  }

  /**
   * Start the page: who is logged in, then every layer.
   * layers: {kind: lvdun vector layer or null}; options: {api, login, reasons}
   */
  lvdun.appInit = function (map, layers, options) {
    app.api = options.api || app.api;
    app.login = options.login || app.login;
    app.reasons = options.reasons || [];
    app.labels = options.statusLabels || {};
    app.layers = layers;
    app.map = map;
    app.call = call;
    app.setLayer = setLayer;
    window.lvdunApp = app;
    if (!localStorage.getItem(KEY)) {
      toLogin();
      return;
    }
    app.ready = call("/me").then(function (result) {
      if (!result.ok) {
        throw new Error("not logged in: " + result.status);
      }
      app.user = result.body;
      userBox(map);
      return layers.leads ? call("/map/summary") : { ok: false };
    }).then(function (summary) {
      app.summary = summary.ok ? summary.body : null;
      // many leads: cells from the server zoomed out, the view's leads zoomed in
      var cells = app.summary && app.summary.total > app.summary.aggregate.above;
      var kinds = Object.keys(layers).filter(function (kind) {
        return layers[kind] && !(cells && kind === "leads");
      });
      if (cells) {
        app.cells = lvdun.serverCells(app, layers.leads, app.summary);
      }
      // the leads (or their cells) first: a national reserves layer is tens of MB, and
      // the browser would read it before drawing anything
      var first = cells ? app.cells.refresh().catch(function (error) {
        window.console.warn(String(error));
      }) : Promise.resolve();
      return first.then(function () {
        return Promise.all(kinds.map(fetchLayer));
      }).then(function (bodies) {
        // in the page's layer order, whatever order the answers came in: a layer filled
        // later is drawn over the others on the canvas (and takes the clicks)
        kinds.forEach(function (kind, k) {
          setLayer(layers[kind], bodies[k]);
          if (layers[kind].lvdunSpec.viewLoading) {
            followView(kind, layers[kind]);
          }
        });
        if (cells && app.cells.mode() === "leads") {
          layers.leads.bringToFront(); // drawn before the other layers came
        }
      });
    }).then(function () {
      app.loaded = true;
      map.fire("lvdun:loaded");
    }).catch(function (error) {
      app.error = String(error);
      window.console.warn(app.error);
    });
  };

  /** Put a feature sent alone by the API into a layer: its dictionaries are its own. */
  function mergeFeature(layer, path, body) {
    var feature = body.data && body.data.features[0];
    if (!feature) {
      return false;
    }
    var props = feature.properties;
    var dicts = body.cellDicts || [];
    props.v = props.v.map(function (cell, j) {
      return typeof cell === "number" ? dicts[j][cell] : cell;
    });
    var spec = layer.lvdunSpec;
    var dims = ["activity", "batch", "reserve", "zone"];
    props.f = (props.f || []).map(function (index, d) {
      var value = body.filters[dims[d]][index];
      var list = spec.filters[dims[d]];
      var at = list.indexOf(value);
      if (at < 0) {
        list.push(value);
        at = list.length - 1;
      }
      return at;
    });
    path.feature.properties = props;
    layer.lvdunRestyle(path);
    return true;
  }

  function historyList(parent, rows) {
    el("div", "title", parent, "核查记录");
    var list = el("ol", "lvdun-history", parent);
    rows.slice().reverse().forEach(function (row) {
      var move = (row.from_status ? statusLabel(row.from_status) + " → " : "") +
        statusLabel(row.to_status);
      var text = (row.at || "").slice(0, 16).replace("T", " ") + " " + (row.by || "") + " " + move;
      var details = [row.reason, row.note].filter(Boolean).join("；");
      el("li", null, list, details ? text + "：" + details : text);
    });
  }

  function statusForm(layer, path, parent, lead) {
    var id = lead.id;
    var form = el("form", "lvdun-status-form", parent);
    var label = el("label", null, form, "新状态 ");
    var select = el("select", null, label);
    select.name = "status";
    lead.allowed_next.forEach(function (next) {
      var option = el("option", null, select, next.label);
      option.value = next.status;
    });
    var reasonLabel = el("label", null, form, "原因 ");
    var reason = el("input", null, reasonLabel);
    reason.name = "reason";
    reason.setAttribute("list", "lvdun-reasons");
    if (!document.getElementById("lvdun-reasons")) {
      var datalist = el("datalist", null, document.body);
      datalist.id = "lvdun-reasons";
      app.reasons.forEach(function (text) {
        el("option", null, datalist).value = text;
      });
    }
    var noteLabel = el("label", null, form, "备注 ");
    var note = el("input", null, noteLabel);
    note.name = "note";
    // the rectification record (整改记录): entering 整改中 needs a unit and a deadline
    var record = el("details", "lvdun-record", form);
    el("summary", null, record, "整改记录");
    var fields = {};
    [["responsible_unit", "整改责任单位", "text"], ["measures", "整改措施", "text"],
     ["deadline", "整改期限", "date"]].forEach(function (spec) {
      var label = el("label", null, record, spec[1] + " ");
      var input = el("input", null, label);
      input.name = spec[0];
      input.type = spec[2];
      input.value = lead.properties[spec[0]] || "";
      fields[spec[0]] = input;
    });
    function showRecord() {
      record.open = record.open || select.value === "rectifying";
    }
    select.addEventListener("change", showRecord);
    showRecord();
    var button = el("button", null, form, "更新状态");
    button.type = "submit";
    var message = el("div", "message", form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      message.className = "message";
      message.textContent = "提交中…";
      var body = {
        status: select.value,
        version: lead.properties.version,
        reason: reason.value.trim() || null,
        note: note.value.trim() || null,
        responsible_unit: fields.responsible_unit.value.trim() || null,
        measures: fields.measures.value.trim() || null,
        deadline: fields.deadline.value.trim() || null
      };
      call(leadPath(id) + "/status", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          var text = (result.body && result.body.detail) || "失败（" + result.status + "）";
          if (result.status === 409 && result.body) {
            text = "他人已修改：当前版本 " + result.body.current_version + "（" +
              statusLabel(result.body.current_status) + "，" + result.body.updated_by +
              "）。请关闭后重新打开。";
          }
          message.textContent = text;
          return null;
        }
        message.className = "message ok";
        message.textContent = "已更新：" + statusLabel(result.body.to_status) + "（版本 " +
          result.body.version + "）";
        return call("/map/leads?lead_id=" + encodeURIComponent(id)).then(function (fresh) {
          if (fresh.ok && mergeFeature(layer, path, fresh.body)) {
            if (window.lvdunMap) {
              window.lvdunMap.refilter();
            }
            app.map.fire("lvdun:updated", { id: id, status: result.body.to_status });
            layer.lvdunOpenPopup(path);
          }
        });
      });
    });
  }

  /** Before/after thumbnails: fetched with the token, shown from blob URLs. */
  function chipImages(parent, id, kinds) {
    var box = el("div", "lvdun-chips", parent);
    kinds.forEach(function (kind) {
      var figure = el("figure", null, box);
      var img = el("img", null, figure);
      img.alt = kind === "before" ? "前时相" : "后时相";
      el("figcaption", null, figure, img.alt);
      fetch(app.api + leadPath(id) + "/chips/" + encodeURIComponent(kind), {
        headers: { Authorization: "Bearer " + (localStorage.getItem(KEY) || "") }
      }).then(function (response) {
        return response.ok ? response.blob() : null;
      }).then(function (blob) {
        if (blob) {
          img.src = URL.createObjectURL(blob);
        }
      });
    });
  }

  /** Fill the web-app part of a lead's popup: history, and the status form if allowed. */
  lvdun.appPopup = function (layer, path, div) {
    if (layer.lvdunSpec.kind !== "leads") {
      return;
    }
    var id = path.feature.properties.i;
    el("div", "loading", div, "加载中…");
    Promise.all([call(leadPath(id)), call(leadPath(id) + "/history")]).then(
      function (results) {
        div.innerHTML = "";
        if (!results[0].ok) {
          el("div", "message", div, (results[0].body && results[0].body.detail) || results[0].status);
          return;
        }
        var lead = results[0].body;
        if (lead.chips && lead.chips.length) {
          chipImages(div, id, lead.chips);
        }
        if (results[1].ok) {
          historyList(div, results[1].body.history);
        }
        if (lead.editable && lead.allowed_next.length) {
          statusForm(layer, path, div, lead);
        } else {
          el("div", "readonly", div, lead.editable ? "" : "只读：无权修改此线索");
        }
        if (layer.lvdunPopup && layer.lvdunPopup.isOpen()) {
          layer.lvdunPopup.update();
        }
      }
    );
  };
})();
