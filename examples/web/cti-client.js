/*
 * cti-client.js — a small browser client for the ctibridge WebSocket API (protocol "cti.v1").
 *
 * ctibridge serves this file at /cti-client.js. Its agent page (/) and wallboard (/wallboard)
 * are built on it; a CRM page can load it the same way:
 *
 *   <script src="https://cti.example.com/cti-client.js"></script>
 *   <script>
 *     const cti = new CtiClient({
 *       url: "wss://cti.example.com/v1/ws",       // default: /v1/ws on this page's own host
 *       onStatus: (s) => console.log("link:", s),  // see "Status" below
 *       onWelcome: (w) => console.log("I am", w.role, w.agent, w.devices),
 *       onEvent: (e) => { if (e.name === "call.offered") popCustomer(e.data); },
 *       onError: (err, frame) => console.warn(err.code, err.message),
 *     });
 *     cti.connect(token);
 *     cti.request("call.answer", { call: id }).then((result) => ..., (err) => alert(err.message));
 *   </script>
 *
 * What the client does for you:
 *  - connects with the "cti.v1" sub-protocol and sends `hello` with the token;
 *  - reconnects on its own with exponential back-off (1 s, 2 s, 4 s … at most 15 s; at once
 *    when the server closes with 4009), and then resumes: `hello.resume = { session, seq }`,
 *    so the server replays what was missed;
 *  - drops events it has already seen (by `seq`); a `snapshot` event always passes and
 *    restarts the sequence (it replaces all state, e.g. after a daemon restart);
 *  - matches `res` frames to `request()` calls by id; a request fails after `requestTimeout`,
 *    and pending requests fail at once when the connection is lost;
 *  - stops when the server rejects the token (close code 4001) and reports "token rejected".
 *
 * Constructor options (all optional; the callbacks may also be assigned later, e.g.
 * `cti.onEvent = fn`):
 *   url             WebSocket URL. Default: CtiClient.sameOrigin("/v1/ws").
 *   requestTimeout  ms before a request fails with code "timeout". Default 20000.
 *   storageKey      sessionStorage key to remember the token under (connect() saves it, a
 *                   rejected token and signOut() remove it). Default: none, nothing is stored.
 *   onStatus(s)     the connection status changed; s is one of "connecting", "reconnecting",
 *                   "connected", "not signed in" (no token), "token rejected".
 *   onWelcome(f)    the server accepted the token: f is the `welcome` frame
 *                   ({ session, role, agent, devices, … }). Called after every (re)connect.
 *   onEvent(f)      an `evt` frame ({ name, seq, ts, topic, data }), duplicates removed.
 *   onError(e, f)   a problem to show the user. With f: the server sent an `error` frame and
 *                   e is its `error` ({ code, message }). Without f: the connection could not
 *                   even be opened; e.message is a ready-to-show sentence.
 *
 * Methods and properties:
 *   connect([token])         start (or restart) with this token; without an argument, the last one.
 *   request(method, params)  → Promise of the `result` object; rejects with { code, message }
 *                            (the server's error, or "not_connected", "timeout", "disconnected").
 *   disconnect()             close without reconnecting (pending requests fail).
 *   reset()                  forget the session, the sequence and the back-off (a new identity).
 *   signIn(token)            disconnect(), reset(), connect(token).
 *   signOut()                disconnect(), reset(), forget the token (also a ?token= in the
 *                            address bar); reports "not signed in".
 *   connected                true once welcomed on an open connection.
 *   token, session, seq, role
 *   elapsed(iso)             seconds since a server timestamp, corrected for clock skew
 *                            (estimated from the events' `ts`); null when iso is not a date.
 *
 * Static helpers: CtiClient.sameOrigin(path), CtiClient.loadToken(key) (from ?token= or
 * sessionStorage), saveToken(token, key), forgetToken(key, dropFromUrl), TOKEN_KEY, PROTOCOL,
 * CtiClient.util (safe DOM building and formatting) and CtiClient.ui (error banner, status dot).
 */
(function (global) {
  "use strict";

  const PROTOCOL = "cti.v1";
  const TOKEN_KEY = "ctibridge.token";

  // ---------- helpers (all text goes in through textContent / text nodes: no HTML injection) ----------
  const str = (v) => (v == null ? "" : String(v));
  const arr = (v) => (Array.isArray(v) ? v : []);
  const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
  const isNum = (v) => typeof v === "number" && isFinite(v);
  /** el("a", { class: "x", href, text: "label" }, child, …): null/false attributes and children are skipped. */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") e.textContent = str(v);
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v === true ? "" : str(v));
    }
    for (const c of kids) if (c != null && c !== false) e.append(c instanceof Node ? c : str(c));
    return e;
  }
  const pad = (n) => (n < 10 ? "0" : "") + n;
  /** 75 → "1:15", 3725 → "1:02:05"; "—" when not a non-negative number. */
  function fmtDur(sec) {
    if (!isNum(sec) || sec < 0) return "—";
    sec = Math.floor(sec);
    const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  /** An absolute http(s) URL for a link, or null (no javascript:, data: …). */
  function safeUrl(u) {
    try { const x = new URL(str(u), location.href); return x.protocol === "https:" || x.protocol === "http:" ? x.href : null; } catch (e) { return null; }
  }
  const errText = (e) => str(e && e.message) || str(e && e.code) || "request failed";
  const codeSuffix = (c) => (c ? " (" + c + ")" : "");

  // ---------- token handling ----------
  function sameOrigin(path) { return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + (path || "/v1/ws"); }
  /** The token from the address bar (?token=…) or else from sessionStorage; "" when none. */
  function loadToken(key) {
    let t = "";
    try { t = new URLSearchParams(location.search).get("token") || sessionStorage.getItem(key || TOKEN_KEY) || ""; } catch (e) { /* ignore */ }
    return t.trim();
  }
  function saveToken(token, key) { try { sessionStorage.setItem(key || TOKEN_KEY, token); } catch (e) { /* private mode */ } }
  function forgetToken(key, dropFromUrl) {
    try { sessionStorage.removeItem(key || TOKEN_KEY); } catch (e) { /* ignore */ }
    if (!dropFromUrl) return;
    const u = new URL(location.href);
    if (u.searchParams.has("token")) { u.searchParams.delete("token"); history.replaceState(null, "", u.href); }
  }

  // ---------- the client ----------
  const MIN_BACKOFF = 1000, MAX_BACKOFF = 15000, FAST_RETRY = 250;

  class CtiClient {
    constructor(options) {
      const o = options || {};
      this.url = o.url || sameOrigin("/v1/ws");
      this.requestTimeout = o.requestTimeout || 20000;
      this.storageKey = o.storageKey || null;
      this.onStatus = o.onStatus || null;
      this.onWelcome = o.onWelcome || null;
      this.onEvent = o.onEvent || null;
      this.onError = o.onError || null;
      this.token = "";
      this.session = null;
      this.seq = 0;
      this.role = null;
      this.skew = null; // estimated (local clock − server clock) in ms
      this._ws = null;
      this._welcomed = false;
      this._reqId = 0;
      this._pending = new Map();
      this._backoff = MIN_BACKOFF;
      this._timer = null;
    }

    get connected() { return !!this._ws && this._ws.readyState === 1 && this._welcomed; }

    connect(token) {
      if (arguments.length) {
        this.token = str(token).trim();
        if (this.token && this.storageKey) saveToken(this.token, this.storageKey);
      }
      if (this._ws) this.disconnect();
      this._open();
    }

    disconnect() {
      clearTimeout(this._timer); this._timer = null;
      const ws = this._ws; this._ws = null; this._welcomed = false;
      if (ws) { try { ws.close(1000); } catch (e) { /* ignore */ } }
      this._failPending("disconnected");
    }

    reset() { this.session = null; this.seq = 0; this.role = null; this._backoff = MIN_BACKOFF; }

    signIn(token) { this.disconnect(); this.reset(); this.connect(token); }

    signOut() {
      this.disconnect(); this.reset(); this.token = "";
      if (this.storageKey) forgetToken(this.storageKey, true);
      this._status("not signed in");
    }

    request(method, params) {
      return new Promise((resolve, reject) => {
        if (!this.connected) { reject({ code: "not_connected", message: "not connected to ctibridge" }); return; }
        const id = String(++this._reqId), ms = this.requestTimeout;
        const t = setTimeout(() => { this._pending.delete(id); reject({ code: "timeout", message: "no reply from ctibridge within " + Math.round(ms / 1000) + " s" }); }, ms);
        this._pending.set(id, { resolve, reject, t });
        this._send({ type: "req", id, method, params: params || {} });
      });
    }

    elapsed(iso) {
      const t = Date.parse(str(iso));
      return isFinite(t) ? Math.max(0, (Date.now() - (this.skew || 0) - t) / 1000) : null;
    }

    // ---------- internals ----------
    _emit(name, ...args) { const f = this[name]; if (typeof f === "function") f.apply(this, args); }
    _status(s) { this._emit("onStatus", s); }
    _send(o) { if (this._ws && this._ws.readyState === 1) this._ws.send(JSON.stringify(o)); }

    _open() {
      clearTimeout(this._timer); this._timer = null;
      if (!this.token) { this._status("not signed in"); return; }
      this._status(this.session ? "reconnecting" : "connecting");
      let ws;
      try { ws = new WebSocket(this.url, PROTOCOL); } catch (e) {
        this._emit("onError", { code: "connect_failed", message: "Cannot open the connection: " + errText(e) }, null);
        this._schedule(false); return;
      }
      this._ws = ws; this._welcomed = false;
      ws.onopen = () => {
        const hello = { type: "hello", token: this.token };
        if (this.session) hello.resume = { session: this.session, seq: this.seq };
        this._send(hello);
      };
      ws.onmessage = (m) => {
        let f; try { f = JSON.parse(m.data); } catch (e) { return; }
        if (f && typeof f === "object") { try { this._onFrame(f); } catch (e) { console.error("ctibridge: frame handling failed", e); } }
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        if (this._ws !== ws) return;
        this._ws = null; this._welcomed = false; this._failPending("connection lost");
        if (ev.code === 4001) { // token rejected: do not retry
          this.token = ""; this.session = null;
          if (this.storageKey) forgetToken(this.storageKey);
          this._status("token rejected"); return;
        }
        this._schedule(ev.code === 4009);
      };
    }

    _schedule(fast) {
      this._status("reconnecting");
      const delay = fast ? FAST_RETRY : this._backoff;
      if (!fast) this._backoff = Math.min(this._backoff * 2, MAX_BACKOFF);
      clearTimeout(this._timer); this._timer = setTimeout(() => this._open(), delay);
    }

    _failPending(msg) {
      for (const p of this._pending.values()) { clearTimeout(p.t); p.reject({ code: "disconnected", message: msg }); }
      this._pending.clear();
    }

    _observeTs(iso) { // clock offset estimate: the smallest (local − server) seen
      const d = Date.now() - Date.parse(str(iso));
      if (isFinite(d) && Math.abs(d) < 864e5 && (this.skew == null || d < this.skew)) this.skew = d;
    }

    _onFrame(f) {
      if (f.type === "welcome") {
        this._welcomed = true; this._backoff = MIN_BACKOFF;
        if (f.session != null) this.session = str(f.session);
        this.role = str(f.role) || null;
        this._status("connected");
        this._emit("onWelcome", f);
      } else if (f.type === "evt") {
        const name = str(f.name), seq = Number(f.seq);
        this._observeTs(f.ts);
        if (name === "snapshot") { // replaces everything and restarts the sequence (also after a daemon restart)
          if (f.seq != null && isFinite(seq)) this.seq = seq;
        } else if (f.seq != null && isFinite(seq)) {
          if (seq <= this.seq) return; // already seen (replayed on resume)
          this.seq = seq;
        }
        this._emit("onEvent", f);
      } else if (f.type === "res") {
        const p = this._pending.get(str(f.id)); if (!p) return;
        this._pending.delete(str(f.id)); clearTimeout(p.t);
        if (f.error) p.reject(obj(f.error)); else p.resolve(obj(f.result));
      } else if (f.type === "error") {
        this._emit("onError", obj(f.error), f);
      }
    }
  }

  // ---------- page helpers for the standard element ids ----------
  const byId = (id) => document.getElementById(id);
  const ui = {
    /** The red banner: show(msg) for `hideAfter` ms (default 15 s), clear(); the close button dismisses it. */
    errorBanner(ids) {
      const o = Object.assign({ banner: "error-banner", text: "error-text", close: "error-close", hideAfter: 15000 }, ids);
      let timer = null;
      const clear = () => { byId(o.banner).hidden = true; clearTimeout(timer); };
      const show = (msg) => { byId(o.text).textContent = msg; byId(o.banner).hidden = false; clearTimeout(timer); timer = setTimeout(clear, o.hideAfter); };
      if (o.close && byId(o.close)) byId(o.close).addEventListener("click", clear);
      return { show, clear };
    },
    /** The status dot: returns set(status), which writes the text and data-state ("token rejected" → "token-rejected"). */
    connStatus(rootId, textId) {
      return (s) => { byId(textId || "conn-status").textContent = s; byId(rootId || "conn").setAttribute("data-state", s.replace(/ /g, "-")); };
    },
  };

  CtiClient.PROTOCOL = PROTOCOL;
  CtiClient.TOKEN_KEY = TOKEN_KEY;
  CtiClient.sameOrigin = sameOrigin;
  CtiClient.loadToken = loadToken;
  CtiClient.saveToken = saveToken;
  CtiClient.forgetToken = forgetToken;
  CtiClient.util = { str, arr, obj, isNum, el, pad, fmtDur, safeUrl, errText, codeSuffix };
  CtiClient.ui = ui;
  global.CtiClient = CtiClient;
})(typeof window !== "undefined" ? window : this);
